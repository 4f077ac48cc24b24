package convirzatest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// wireUser is a user as the API answers it.
type wireUser struct {
	ID                    int64   `json:"ct_user_id"`
	FirstName             string  `json:"first_name"`
	LastName              string  `json:"last_name"`
	Email                 string  `json:"email"`
	ExtID                 *string `json:"user_ext_id"`
	Status                string  `json:"status"`
	AgentRingTo           *string `json:"agent_ring_to"`
	AgentID               *string `json:"agent_id"`
	Group                 string  `json:"group"`
	GroupOrgUnitID        int64   `json:"group_org_unit_id"`
	GroupExternalID       *string `json:"group_external_id"`
	Account               string  `json:"account"`
	AccountOrgUnitID      int64   `json:"account_org_unit_id"`
	AccountExternalID     *string `json:"account_external_id"`
	ParentGroup           *string `json:"parent_group"`
	ParentGroupOrgUnitID  *int64  `json:"parent_group_org_unit_id"`
	ParentGroupExternalID *string `json:"parent_group_external_id"`
	Role                  any     `json:"role"`
	AccessAudio           string  `json:"access_audio"`
	AssignScorecard       bool    `json:"assign_scorecard"`
	Timezone              *string `json:"timezone"`
	Created               string  `json:"user_created"`
}

// RoleDisplayName is the role as listings show it: "Admin", "Standard
// User" or "Read-Only User".
func RoleDisplayName(r state.Role) string {
	switch r {
	case state.RoleAdmin:
		return "Admin"
	case state.RoleStandard:
		return "Standard User"
	case state.RoleReadOnly:
		return "Read-Only User"
	}
	return string(r)
}

func (s *Sandbox) wireUserLocked(u *User, dl Dialect) wireUser {
	w := wireUser{
		ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, ExtID: nullStr(u.ExtID),
		Status: string(u.Status), AgentRingTo: nullStr(u.AgentRingTo), AgentID: nullStr(u.AgentCode),
		GroupOrgUnitID: u.GroupID, Role: dl.spell(u.Role), AccessAudio: "No",
		AssignScorecard: u.ScoreCall, Timezone: nullStr(u.Timezone), Created: formatTime(u.Created),
	}
	if u.AccessAudio {
		w.AccessAudio = "Yes"
	}
	if g := s.groups[u.GroupID]; g != nil {
		w.Group, w.GroupExternalID = g.Name, nullStr(g.ExtID)
		if p := s.groups[g.ParentID]; p != nil {
			w.ParentGroup, w.ParentGroupOrgUnitID, w.ParentGroupExternalID = nullStr(p.Name), nullInt(p.ID), nullStr(p.ExtID)
		}
	}
	if t := s.groups[s.top]; t != nil {
		w.Account, w.AccountOrgUnitID, w.AccountExternalID = t.Name, t.ID, nullStr(t.ExtID)
	}
	return w
}

// userQuery is one List Users question, the key of the sorted-result cache.
type userQuery struct {
	org          int64
	status       state.Status
	name, email  string
	roleID       int
	sortBy, desc string
}

// listUsersLocked is GET /v3/users/list: every user in the subtree of
// org_unit_id, sorted, with ties broken by ct_user_id.
func (s *Sandbox) listUsersLocked(c *caller, q url.Values) *reply {
	limit, offset, err := paging(q)
	if err != nil {
		return errReply(err)
	}
	limit = c.dialect.pageCap(limit)
	status, err := statusFilter(q, "user_status")
	if err != nil {
		return errReply(err)
	}
	key := userQuery{status: status, name: strings.ToLower(first(q, "name")), email: strings.ToLower(first(q, "email"))}
	if v := first(q, "role_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3 {
			return errReply(fieldErr(http.StatusBadRequest, "role_id", "role_id must be 1, 2 or 3, not %q", v))
		}
		key.roleID = n
	}
	key.sortBy = first(q, "sort_by")
	switch key.sortBy {
	case "":
		key.sortBy = "created_on"
	case "created_on", "name", "email":
	default:
		return errReply(fieldErr(http.StatusBadRequest, "sort_by", "sort_by must be created_on, name or email, not %q", key.sortBy))
	}
	key.desc = first(q, "sort_order")
	switch key.desc {
	case "", "desc":
		key.desc = "desc"
	case "asc":
	default:
		return errReply(fieldErr(http.StatusBadRequest, "sort_order", "sort_order must be asc or desc, not %q", key.desc))
	}
	g, err := s.orgUnitParamLocked(c, q)
	if err != nil {
		return errReply(err)
	}
	key.org = g.ID
	ids := s.userQueryLocked(key)
	out := make([]wireUser, 0, min(limit, len(ids)))
	for _, id := range page(ids, limit, offset) {
		out = append(out, s.wireUserLocked(s.users[id], c.dialect))
	}
	return ok(map[string]any{"users": out, "total": len(ids)})
}

// userQueryLocked answers a user query from the cache, which any write
// empties.
func (s *Sandbox) userQueryLocked(key userQuery) []int64 {
	if s.cacheVersion != s.version || s.userCache == nil {
		s.userCache = map[userQuery][]int64{}
		s.cacheVersion = s.version
	}
	if ids, ok := s.userCache[key]; ok {
		return ids
	}
	var match []*User
	for _, gid := range s.subtreeLocked(key.org, nil) {
		for _, uid := range s.usersByGroup[gid] {
			u := s.users[uid]
			if !statusMatches(u.Status, key.status) || key.roleID != 0 && u.Role.ID() != key.roleID {
				continue
			}
			if key.email != "" && !strings.Contains(strings.ToLower(u.Email), key.email) {
				continue
			}
			if key.name != "" {
				full := strings.ToLower(u.FirstName + " " + u.LastName)
				if !strings.Contains(full, key.name) {
					continue
				}
			}
			match = append(match, u)
		}
	}
	var by func(a, b *User) int
	switch key.sortBy {
	case "name":
		by = func(a, b *User) int {
			return cmp.Compare(strings.ToLower(a.FirstName+" "+a.LastName), strings.ToLower(b.FirstName+" "+b.LastName))
		}
	case "email":
		by = func(a, b *User) int { return cmp.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)) }
	default:
		by = func(a, b *User) int { return a.Created.Compare(b.Created) }
	}
	slices.SortFunc(match, func(a, b *User) int {
		r := by(a, b)
		if r == 0 {
			r = cmp.Compare(a.ID, b.ID)
		}
		if key.desc == "desc" {
			r = -r
		}
		return r
	})
	ids := make([]int64, len(match))
	for i, u := range match {
		ids[i] = u.ID
	}
	if len(s.userCache) > 64 {
		clear(s.userCache)
	}
	s.userCache[key] = ids
	return ids
}

func (s *Sandbox) lookupUserLocked(scope, id int64) (*User, error) {
	u := s.users[id]
	if u == nil {
		return nil, errf(http.StatusNotFound, "user %d not found", id)
	}
	if !s.underLocked(u.GroupID, scope) {
		return nil, errUnauthorized()
	}
	return u, nil
}

func (s *Sandbox) getUserLocked(c *caller, id int64) *reply {
	u, err := s.lookupUserLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	w := s.wireUserLocked(u, c.dialect)
	if c.shapes.WrappedUserDetail {
		return ok(map[string]any{"user": w})
	}
	return ok(w)
}

var userFields = set("username", "first_name", "last_name", "ct_user_ou_id", "role", "role_id", "user_ext_id",
	"user_status", "timezone", "aliases", "agent_ring_to", "agent_code", "score_call", "access_audio")

// userInput is a decoded user body; nil means "not sent".
type userInput struct {
	username, firstName, lastName, extID, timezone, ringTo, agentCode *string
	groupID                                                           *int64
	role                                                              *state.Role
	status                                                            *state.Status
	aliases                                                           *[]string
	scoreCall, accessAudio                                            *bool
}

// apiRoles are the role names a create or patch may send.
var apiRoles = map[string]state.Role{"Admin": state.RoleAdmin, "Standard": state.RoleStandard, "ReadOnly": state.RoleReadOnly}

func decodeUser(f fields) (userInput, error) {
	var in userInput
	var err error
	for _, x := range []struct {
		name string
		dst  **string
	}{
		{"username", &in.username}, {"first_name", &in.firstName}, {"last_name", &in.lastName},
		{"user_ext_id", &in.extID}, {"timezone", &in.timezone}, {"agent_ring_to", &in.ringTo},
		{"agent_code", &in.agentCode},
	} {
		if *x.dst, err = f.str(x.name); err != nil {
			return in, err
		}
	}
	if in.groupID, err = f.integer("ct_user_ou_id"); err != nil {
		return in, err
	}
	if in.scoreCall, err = f.boolean("score_call"); err != nil {
		return in, err
	}
	if raw, ok := f["access_audio"]; ok {
		var b bool
		var str string
		switch {
		case json.Unmarshal(raw, &b) == nil && string(raw) != "null":
		case json.Unmarshal(raw, &str) == nil && strings.EqualFold(str, "yes"):
			b = true
		case json.Unmarshal(raw, &str) == nil && strings.EqualFold(str, "no"):
			b = false
		default:
			return in, fieldErr(http.StatusBadRequest, "access_audio", `access_audio must be true, false, "Yes" or "No"`)
		}
		in.accessAudio = &b
	}
	if raw, ok := f["aliases"]; ok {
		var list []string
		var one string
		switch {
		case string(raw) != "null" && json.Unmarshal(raw, &list) == nil:
		case json.Unmarshal(raw, &one) == nil && string(raw) != "null":
			list = []string{one}
		default:
			return in, fieldErr(http.StatusBadRequest, "aliases", "aliases must be a string or a list of strings")
		}
		in.aliases = &list
	}
	role, err := f.str("role")
	if err != nil {
		return in, err
	}
	if role != nil {
		r, ok := apiRoles[*role]
		if !ok {
			return in, fieldErr(http.StatusBadRequest, "role", `role must be "Admin", "Standard" or "ReadOnly", not %q`, *role)
		}
		in.role = &r
	}
	roleID, err := f.integer("role_id")
	if err != nil {
		return in, err
	}
	if roleID != nil {
		r, ok := state.RoleFromID(int(*roleID))
		if !ok {
			return in, fieldErr(http.StatusBadRequest, "role_id", "role_id must be 1, 2 or 3, not %d", *roleID)
		}
		if in.role != nil && *in.role != r {
			return in, fieldErr(http.StatusBadRequest, "role_id", "role %q and role_id %d disagree", *role, *roleID)
		}
		in.role = &r
	}
	st, err := f.str("user_status")
	if err != nil {
		return in, err
	}
	if st != nil {
		v := state.Status(*st)
		if v != state.StatusActive && v != state.StatusInactive {
			return in, fieldErr(http.StatusBadRequest, "user_status", "user_status must be active or inactive, not %q", *st)
		}
		in.status = &v
	}
	return in, nil
}

func (s *Sandbox) emailTakenLocked(email string, self int64) bool {
	id, taken := s.emails[emailKey(email)]
	return taken && id != self
}

// checkUserGroupLocked validates a user's group for a create or a move.
func (s *Sandbox) checkUserGroupLocked(scope, id int64) error {
	g := s.groups[id]
	if g == nil {
		return fieldErr(http.StatusBadRequest, "ct_user_ou_id", "org unit %d does not exist", id)
	}
	if !s.underLocked(id, scope) {
		return errUnauthorized()
	}
	if g.Status != state.StatusActive {
		return fieldErr(http.StatusBadRequest, "ct_user_ou_id", "org unit %d is %s, not active", id, g.Status)
	}
	return nil
}

func checkPersonName(field string, v *string) error {
	if v == nil {
		return nil
	}
	return checkName(field, *v)
}

// createUserLocked validates and applies a create.
func (s *Sandbox) createUserLocked(scope int64, in userInput, now time.Time, id int64) (int64, error) {
	switch {
	case in.username == nil:
		return 0, fieldErr(http.StatusBadRequest, "username", "username is required")
	case in.firstName == nil:
		return 0, fieldErr(http.StatusBadRequest, "first_name", "first_name is required")
	case in.lastName == nil:
		return 0, fieldErr(http.StatusBadRequest, "last_name", "last_name is required")
	case in.groupID == nil:
		return 0, fieldErr(http.StatusBadRequest, "ct_user_ou_id", "ct_user_ou_id is required")
	case in.role == nil:
		return 0, fieldErr(http.StatusBadRequest, "role", `role is required ("Admin", "Standard" or "ReadOnly")`)
	}
	if !validEmail(*in.username) {
		return 0, fieldErr(http.StatusBadRequest, "username", "username %q is not a valid email address", *in.username)
	}
	if err := checkPersonName("first_name", in.firstName); err != nil {
		return 0, err
	}
	if err := checkPersonName("last_name", in.lastName); err != nil {
		return 0, err
	}
	status := state.StatusActive
	if in.status != nil {
		status = *in.status
	}
	if err := s.checkUserGroupLocked(scope, *in.groupID); err != nil {
		return 0, err
	}
	if s.emailTakenLocked(*in.username, 0) {
		return 0, fieldErr(http.StatusConflict, "username", "a user with username %q already exists", *in.username)
	}
	if id == 0 {
		id = s.nextUserID
	} else if s.users[id] != nil || id == s.adminUserID {
		return 0, errf(http.StatusConflict, "user %d already exists", id)
	}
	s.nextUserID = max(s.nextUserID, id+1)
	u := &User{ID: id, Status: status, Created: now.UTC().Truncate(time.Millisecond)}
	applyUserFields(u, in)
	s.users[id] = u
	if u.Status != state.StatusDeleted {
		s.emails[emailKey(u.Email)] = id
	}
	s.usersByGroup[u.GroupID] = insertSorted(s.usersByGroup[u.GroupID], id)
	s.version++
	return id, nil
}

func applyUserFields(u *User, in userInput) {
	for _, x := range []struct {
		src *string
		dst *string
	}{
		{in.username, &u.Email}, {in.firstName, &u.FirstName}, {in.lastName, &u.LastName},
		{in.extID, &u.ExtID}, {in.timezone, &u.Timezone}, {in.ringTo, &u.AgentRingTo},
		{in.agentCode, &u.AgentCode},
	} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
	if in.groupID != nil {
		u.GroupID = *in.groupID
	}
	if in.role != nil {
		u.Role = *in.role
	}
	if in.status != nil {
		u.Status = *in.status
	}
	if in.aliases != nil {
		u.Aliases = slices.Clone(*in.aliases)
	}
	if in.scoreCall != nil {
		u.ScoreCall = *in.scoreCall
	}
	if in.accessAudio != nil {
		u.AccessAudio = *in.accessAudio
	}
}

func (s *Sandbox) createUserHTTP(c *caller, body []byte) *reply {
	f, err := parseObject(body, true)
	if err != nil {
		return errReply(err)
	}
	if err := f.unknown(userFields); err != nil {
		return errReply(err)
	}
	in, err := decodeUser(f)
	if err != nil {
		return errReply(err)
	}
	id, err := s.createUserLocked(c.scope(), in, c.now, 0)
	if err != nil {
		return errReply(err)
	}
	return ok(map[string]int64{"userId": id})
}

func (s *Sandbox) patchUserHTTP(c *caller, id int64, body []byte) *reply {
	u, err := s.lookupUserLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	f, err := parseObject(body, true)
	if err != nil {
		return errReply(err)
	}
	if err := f.unknown(userFields); err != nil {
		return errReply(err)
	}
	if len(f) == 0 {
		return errReply(errf(http.StatusBadRequest, "at least one field is required"))
	}
	in, err := decodeUser(f)
	if err != nil {
		return errReply(err)
	}
	if u.Status == state.StatusDeleted {
		return errReply(errf(http.StatusBadRequest, "user %d is deleted and cannot be updated", id))
	}
	if in.username != nil && !validEmail(*in.username) {
		return errReply(fieldErr(http.StatusBadRequest, "username", "username %q is not a valid email address", *in.username))
	}
	if err := checkPersonName("first_name", in.firstName); err != nil {
		return errReply(err)
	}
	if err := checkPersonName("last_name", in.lastName); err != nil {
		return errReply(err)
	}
	if id == c.sess.userID {
		if in.status != nil && *in.status != state.StatusActive {
			return errReply(errf(http.StatusBadRequest, "user %d is the caller and cannot be deactivated", id))
		}
		if in.role != nil && *in.role != u.Role {
			return errReply(errf(http.StatusBadRequest, "user %d is the caller and cannot change its own role", id))
		}
	}
	if in.groupID != nil && *in.groupID != u.GroupID {
		if err := s.checkUserGroupLocked(c.scope(), *in.groupID); err != nil {
			return errReply(err)
		}
	}
	if in.username != nil && emailKey(*in.username) != emailKey(u.Email) && s.emailTakenLocked(*in.username, id) {
		return errReply(fieldErr(http.StatusConflict, "username", "a user with username %q already exists", *in.username))
	}
	oldGroup, oldEmail := u.GroupID, emailKey(u.Email)
	applyUserFields(u, in)
	if k := emailKey(u.Email); k != oldEmail {
		delete(s.emails, oldEmail)
		s.emails[k] = id
	}
	if u.GroupID != oldGroup {
		s.usersByGroup[oldGroup] = removeID(s.usersByGroup[oldGroup], id)
		s.usersByGroup[u.GroupID] = insertSorted(s.usersByGroup[u.GroupID], id)
	}
	s.version++
	return ok(map[string]int64{"userId": id})
}

func (s *Sandbox) deleteUserLocked(c *caller, id int64) *reply {
	u, err := s.lookupUserLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	if u.Status == state.StatusDeleted {
		return errReply(errf(http.StatusNotFound, "user %d is already deleted", id))
	}
	if id == c.sess.userID {
		return errReply(errf(http.StatusBadRequest, "user %d is the caller and cannot be deleted", id))
	}
	s.softDeleteUserLocked(u)
	s.version++
	return ok(map[string]int64{"userId": id})
}

// softDeleteUserLocked marks a user deleted and frees its email.
func (s *Sandbox) softDeleteUserLocked(u *User) {
	u.Status = state.StatusDeleted
	if s.emails[emailKey(u.Email)] == u.ID {
		delete(s.emails, emailKey(u.Email))
	}
}
