package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// UsersService handles users.
type UsersService service

// UserListOptions filters List Users. The listing covers every sub-group of
// OrgUnitID (0: the caller's own group).
type UserListOptions struct {
	OrgUnitID int64
	// Name and Email match partially, ignoring case.
	Name, Email string
	// RoleID is 1 (Admin), 2 (Standard) or 3 (ReadOnly); 0 is any.
	RoleID int
	// Status is "active", "inactive" or "deleted"; "" lists active and
	// inactive users.
	Status string
	// SortBy is "created_on", "name" or "email"; SortOrder "asc" or "desc".
	// ListIter defaults them to created_on asc, the stable order.
	SortBy, SortOrder string
	ListOptions
}

// looseString is text that never fails to decode: an object or an array
// reads as "". It is for fields the client shows but does not rely on.
type looseString string

func (l *looseString) UnmarshalJSON(b []byte) error {
	var f flexString
	if f.UnmarshalJSON(b) != nil {
		*l = ""
		return nil
	}
	*l = looseString(f)
	return nil
}

// userJSON is a user as the API sends it, read tolerantly.
type userJSON struct {
	ID          flexInt     `json:"ct_user_id"`
	AltID       flexInt     `json:"user_id"`
	FirstName   flexString  `json:"first_name"`
	LastName    flexString  `json:"last_name"`
	Email       flexString  `json:"email"`
	Username    flexString  `json:"username"`
	ExtID       flexString  `json:"user_ext_id"`
	Status      flexString  `json:"status"`
	UserStatus  flexString  `json:"user_status"`
	Role        flexString  `json:"role"`
	RoleID      flexInt     `json:"role_id"`
	GroupName   looseString `json:"group"`
	GroupID     flexInt     `json:"group_org_unit_id"`
	OUID        flexInt     `json:"ct_user_ou_id"`
	GroupExtID  flexString  `json:"group_external_id"`
	GroupExtAlt flexString  `json:"group_ext_id"`
	Account     looseString `json:"account"`
	AccountID   flexInt     `json:"account_org_unit_id"`
	AccountExt  flexString  `json:"account_external_id"`
	Parent      looseString `json:"parent_group"`
	ParentID    flexInt     `json:"parent_group_org_unit_id"`
	ParentExt   flexString  `json:"parent_group_external_id"`
	Created     flexTime    `json:"user_created"`
	CreatedAlt  flexTime    `json:"created_on"`
}

// user is the compact record of u: the strings that repeat across users
// (names, status, the group's ext id) shared through in.
func (u *userJSON) user(in lockedInterner) state.User {
	out := state.User{
		ID:         int64(u.ID),
		Email:      firstNonEmpty(string(u.Email), string(u.Username)),
		FirstName:  in.s(string(u.FirstName)),
		LastName:   in.s(string(u.LastName)),
		ExtID:      string(u.ExtID),
		Status:     state.Status(in.s(string(parseStatus(string(u.Status), string(u.UserStatus))))),
		GroupID:    int64(u.GroupID),
		GroupExtID: in.s(firstNonEmpty(string(u.GroupExtID), string(u.GroupExtAlt))),
		Created:    u.Created.Time(),
	}
	if out.ID == 0 {
		out.ID = int64(u.AltID)
	}
	if out.GroupID == 0 {
		out.GroupID = int64(u.OUID)
	}
	if out.Created.IsZero() {
		out.Created = u.CreatedAlt.Time()
	}
	if r, ok := state.ParseRole(string(u.Role)); ok {
		out.Role = r
	} else if r, ok := state.RoleFromID(int(u.RoleID)); ok {
		out.Role = r
	}
	return out
}

// groupRef is what a user row says about one group: its id, ext id and name.
type groupRef struct {
	ID    int64
	ExtID string
	Name  string
}

// groupRefs returns the groups a user row names (its group, parent group
// and account), for FetchState to learn a group's ext id without a call.
func (u *userJSON) groupRefs() [3]groupRef {
	return [3]groupRef{
		{int64(u.GroupID), firstNonEmpty(string(u.GroupExtID), string(u.GroupExtAlt)), string(u.GroupName)},
		{int64(u.ParentID), string(u.ParentExt), string(u.Parent)},
		{int64(u.AccountID), string(u.AccountExt), string(u.Account)},
	}
}

// rootNote is what one page of users says about a group (FetchState's
// root) that the listing does not otherwise describe: the ext id and name
// of the first row naming it, and, from the rows up to that one, the
// parent of a user of the group.
type rootNote struct {
	extID, name string
	parentID    int64
}

// noteRoot reads, in order, what the rows of a page say about group root,
// as FetchState reads them (rootRecord).
func noteRoot(rows []userJSON, root int64) *rootNote {
	n := &rootNote{}
	for i := range rows {
		refs := rows[i].groupRefs()
		for _, r := range refs {
			if r.ID == root && r.ExtID != "" {
				n.extID, n.name = r.ExtID, r.Name
				break
			}
		}
		if n.parentID == 0 && refs[0].ID == root && refs[1].ID != 0 {
			n.parentID = refs[1].ID
		}
		if n.extID != "" {
			break
		}
	}
	return n
}

// listPage reads one page of List Users into compact records. The page is
// decoded into a reused buffer, and only the records are kept. When noteOf
// is not 0, resp carries what the rows say about that group (a *rootNote).
func (s *UsersService) listPage(ctx context.Context, opts *UserListOptions, noteOf int64) ([]state.User, *Response, error) {
	if opts == nil {
		opts = &UserListOptions{}
	}
	q := url.Values{}
	if opts.OrgUnitID != 0 {
		q.Set("org_unit_id", strconv.FormatInt(opts.OrgUnitID, 10))
	}
	for k, v := range map[string]string{"name": opts.Name, "email": opts.Email, "user_status": opts.Status,
		"sort_by": opts.SortBy, "sort_order": opts.SortOrder} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.RoleID != 0 {
		q.Set("role_id", strconv.Itoa(opts.RoleID))
	}
	limit := opts.ListOptions.apply(q)
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: "users/list", query: q, needData: true})
	if err != nil {
		return nil, resp, err
	}
	buf := userPages.Get().(*[]userJSON)
	defer userPages.Put(buf)
	if err := decodeList(resp, data, "users", buf); err != nil {
		return nil, resp, err
	}
	raw := *buf
	for i := range raw {
		if raw[i].ID == 0 && raw[i].AltID == 0 {
			return nil, resp, badData(resp, fmt.Sprintf("user %d of the page has no ct_user_id", i))
		}
	}
	if noteOf != 0 {
		resp.note = noteRoot(raw, noteOf)
	}
	out := make([]state.User, len(raw))
	in := s.client.names.lock()
	for i := range raw {
		out[i] = raw[i].user(in)
	}
	in.unlock()
	setNext(resp, opts.Offset, limit, len(raw))
	return out, resp, nil
}

// List lists one page of users (GET /users/list): every user in the
// subtree of opts.OrgUnitID.
func (s *UsersService) List(ctx context.Context, opts *UserListOptions) ([]state.User, *Response, error) {
	return s.listPage(ctx, opts, 0)
}

// ListIter walks every page of users, 200 at a time, in the stable order
// (sort_by=created_on, sort_order=asc, unless opts says otherwise), and
// yields each ct_user_id once: offset paging over a list that changes can
// repeat rows. On error it yields (zero, err) and stops.
func (s *UsersService) ListIter(ctx context.Context, opts *UserListOptions) iter.Seq2[state.User, error] {
	return func(yield func(state.User, error) bool) {
		o := UserListOptions{}
		if opts != nil {
			o = *opts
		}
		if o.SortBy == "" {
			o.SortBy, o.SortOrder = "created_on", "asc"
		}
		seen := map[int64]bool{}
		for {
			page, resp, err := s.List(ctx, &o)
			if err == nil {
				err = s.client.pastCeiling(o.Offset + len(page))
			}
			if err != nil {
				yield(state.User{}, fmt.Errorf("list users of %d, offset %d: %w", o.OrgUnitID, o.Offset, err))
				return
			}
			for _, u := range page {
				if seen[u.ID] {
					continue
				}
				seen[u.ID] = true
				if !yield(u, nil) {
					return
				}
			}
			if resp.NextOffset == 0 {
				return
			}
			o.Offset = resp.NextOffset
		}
	}
}

// Get reads one user (GET /users/{id}), whether the data is the user or holds
// it under "user".
func (s *UsersService) Get(ctx context.Context, id int64) (*state.User, *Response, error) {
	p := "users/" + strconv.FormatInt(id, 10)
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: p, needData: true})
	if err != nil {
		return nil, resp, err
	}
	var raw userJSON
	if err := decodeData(resp, unwrapObject(data, "user"), &raw); err != nil {
		return nil, resp, err
	}
	u := raw.user(lockedInterner{})
	if u.ID == 0 {
		return nil, resp, badData(resp, "user without ct_user_id")
	}
	return &u, resp, nil
}

// UserCreate is the body of Create User. Role is sent as the API spells it
// ("Admin", "Standard", "ReadOnly"); empty optional fields are not sent.
type UserCreate struct {
	Username    string       // the login email
	FirstName   string       //
	LastName    string       //
	GroupID     int64        // ct_user_ou_id
	Role        state.Role   //
	ExtID       string       // user_ext_id
	Status      state.Status // user_status: active (the default) or inactive
	Timezone    string
	AgentRingTo string
	AgentCode   string
}

// MarshalJSON writes the API's field names.
func (b UserCreate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username    string `json:"username"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
		GroupID     int64  `json:"ct_user_ou_id"`
		Role        string `json:"role"`
		ExtID       string `json:"user_ext_id,omitempty"`
		Status      string `json:"user_status,omitempty"`
		Timezone    string `json:"timezone,omitempty"`
		AgentRingTo string `json:"agent_ring_to,omitempty"`
		AgentCode   string `json:"agent_code,omitempty"`
	}{b.Username, b.FirstName, b.LastName, b.GroupID, b.Role.APIName(), b.ExtID, string(b.Status),
		b.Timezone, b.AgentRingTo, b.AgentCode})
}

// Set sets one field by its API name (plan.FieldChange.Field).
func (b *UserCreate) Set(field, value string) error {
	switch field {
	case "username":
		b.Username = value
	case "first_name":
		b.FirstName = value
	case "last_name":
		b.LastName = value
	case "user_ext_id":
		b.ExtID = value
	case "timezone":
		b.Timezone = value
	case "agent_ring_to":
		b.AgentRingTo = value
	case "agent_code":
		b.AgentCode = value
	case "ct_user_ou_id":
		n, err := parseID(field, value)
		if err != nil {
			return err
		}
		b.GroupID = n
	case "role", "role_id":
		r, err := parseRoleField(value)
		if err != nil {
			return err
		}
		b.Role = r
	case "user_status":
		st, err := parseUserStatus(value)
		if err != nil {
			return err
		}
		b.Status = st
	default:
		return fmt.Errorf("user field %q cannot be set on create", field)
	}
	return nil
}

func parseRoleField(v string) (state.Role, error) {
	r, ok := state.ParseRole(v)
	if !ok {
		return "", fmt.Errorf("role %q: want admin, standard or readonly", v)
	}
	return r, nil
}

func parseUserStatus(v string) (state.Status, error) {
	switch st := state.Status(strings.ToLower(strings.TrimSpace(v))); st {
	case state.StatusActive, state.StatusInactive:
		return st, nil
	}
	return "", fmt.Errorf("user_status %q: want active or inactive", v)
}

// Create makes a user (POST /users) and returns the new ct_user_id. An error
// that matches ErrOutcomeUnknown means the user may exist now: look it up by
// email before trying again.
func (s *UsersService) Create(ctx context.Context, body UserCreate) (int64, *Response, error) {
	switch {
	case strings.TrimSpace(body.Username) == "":
		return 0, nil, fmt.Errorf("create user: username is required")
	case body.GroupID == 0:
		return 0, nil, fmt.Errorf("create user %s: ct_user_ou_id is required", body.Username)
	case body.Role.ID() == 0:
		return 0, nil, fmt.Errorf("create user %s: role %q: want admin, standard or readonly", body.Username, body.Role)
	}
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodPost, path: "users", body: body, needData: true})
	if err != nil {
		return 0, resp, err
	}
	id, err := createdID(resp, data, "userId", "user_id", "ct_user_id", "userID", "id")
	return id, resp, err
}

// UserPatch is the body of Partial Update User: a nil field is not sent.
type UserPatch struct {
	Username    *string
	FirstName   *string
	LastName    *string
	GroupID     *int64 // ct_user_ou_id: moves the user
	Role        *state.Role
	ExtID       *string
	Status      *state.Status // active or inactive
	Timezone    *string
	AgentRingTo *string
	AgentCode   *string
}

// IsZero reports whether the patch sets no field.
func (p UserPatch) IsZero() bool { return p == UserPatch{} }

// MarshalJSON writes only the fields set, with the API's names.
func (p UserPatch) MarshalJSON() ([]byte, error) {
	var role, status *string
	if p.Role != nil {
		r := p.Role.APIName()
		role = &r
	}
	if p.Status != nil {
		s := string(*p.Status)
		status = &s
	}
	return json.Marshal(struct {
		Username    *string `json:"username,omitempty"`
		FirstName   *string `json:"first_name,omitempty"`
		LastName    *string `json:"last_name,omitempty"`
		GroupID     *int64  `json:"ct_user_ou_id,omitempty"`
		Role        *string `json:"role,omitempty"`
		ExtID       *string `json:"user_ext_id,omitempty"`
		Status      *string `json:"user_status,omitempty"`
		Timezone    *string `json:"timezone,omitempty"`
		AgentRingTo *string `json:"agent_ring_to,omitempty"`
		AgentCode   *string `json:"agent_code,omitempty"`
	}{p.Username, p.FirstName, p.LastName, p.GroupID, role, p.ExtID, status, p.Timezone, p.AgentRingTo, p.AgentCode})
}

// Set sets one field by its API name (plan.FieldChange.Field).
func (p *UserPatch) Set(field, value string) error {
	v := value
	switch field {
	case "username":
		p.Username = &v
	case "first_name":
		p.FirstName = &v
	case "last_name":
		p.LastName = &v
	case "user_ext_id":
		p.ExtID = &v
	case "timezone":
		p.Timezone = &v
	case "agent_ring_to":
		p.AgentRingTo = &v
	case "agent_code":
		p.AgentCode = &v
	case "ct_user_ou_id":
		n, err := parseID(field, value)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("ct_user_ou_id: a user needs a group")
		}
		p.GroupID = &n
	case "role", "role_id":
		r, err := parseRoleField(value)
		if err != nil {
			return err
		}
		p.Role = &r
	case "user_status":
		st, err := parseUserStatus(value)
		if err != nil {
			return err
		}
		p.Status = &st
	default:
		return fmt.Errorf("user field %q is not writable", field)
	}
	return nil
}

// Patch changes only the fields that body sets (PATCH /users/{id}).
func (s *UsersService) Patch(ctx context.Context, id int64, body UserPatch) (*Response, error) {
	if body.IsZero() {
		return nil, fmt.Errorf("patch user %d: no field to change", id)
	}
	resp, _, err := s.client.do(ctx, apiRequest{method: http.MethodPatch, path: "users/" + strconv.FormatInt(id, 10), body: body})
	return resp, err
}

// Delete soft-deletes a user (DELETE /users/{id}).
func (s *UsersService) Delete(ctx context.Context, id int64) (*Response, error) {
	resp, _, err := s.client.do(ctx, apiRequest{method: http.MethodDelete, path: "users/" + strconv.FormatInt(id, 10)})
	return resp, err
}

// IndustriesService reads the industry reference list.
type IndustriesService service

type industryJSON struct {
	ID      flexInt    `json:"industry_id"`
	AltID   flexInt    `json:"id"`
	Name    flexString `json:"industry_name"`
	AltName flexString `json:"name"`
}

// List returns every industry (GET /industry), whether the data is a bare
// array or {"industries": [...]}.
func (s *IndustriesService) List(ctx context.Context) ([]state.Industry, *Response, error) {
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: "industry", needData: true})
	if err != nil {
		return nil, resp, err
	}
	list := data
	if !isJSONArray(bytes.TrimSpace(data)) {
		var ok bool
		if list, ok = member(data, "industries", "industry"); !ok {
			return nil, resp, badData(resp, `data is neither a list nor {"industries": [...]}`)
		}
	}
	var raw []industryJSON
	if err := decodeData(resp, list, &raw); err != nil {
		return nil, resp, err
	}
	out := make([]state.Industry, 0, len(raw))
	for i, r := range raw {
		ind := state.Industry{ID: int64(r.ID), Name: firstNonEmpty(string(r.Name), string(r.AltName))}
		if ind.ID == 0 {
			ind.ID = int64(r.AltID)
		}
		if ind.ID == 0 {
			return nil, resp, badData(resp, fmt.Sprintf("industry %d of the list has no industry_id", i))
		}
		out = append(out, ind)
	}
	return out, resp, nil
}
