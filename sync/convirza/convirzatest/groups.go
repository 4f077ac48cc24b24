package convirzatest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// maxNameLen is the longest org_unit_name, org_unit_ext_id or user name the
// sandbox accepts, in characters.
const maxNameLen = 255

// wireGroup is a group as the API answers it.
type wireGroup struct {
	ID           int64   `json:"org_unit_id"`
	ExtID        *string `json:"org_unit_ext_id"`
	Name         string  `json:"org_unit_name"`
	ParentID     *int64  `json:"org_unit_parent_id"`
	TopID        int64   `json:"top_ou_id"`
	Status       string  `json:"org_unit_status"`
	BillingID    *int64  `json:"billing_id"`
	Address      *string `json:"address"`
	City         *string `json:"city"`
	State        *string `json:"state"`
	Zip          *string `json:"zip"`
	Phone        *string `json:"phone_number"`
	IndustryID   *int64  `json:"industry_id"`
	IndustryName *string `json:"industry_name"`
	Timezone     *string `json:"timezone"`
	OUCreated    string  `json:"org_unit_created,omitempty"`
	OUModified   string  `json:"org_unit_modified,omitempty"`
	GCreated     string  `json:"group_created,omitempty"`
	GModified    string  `json:"group_modified,omitempty"`
}

// nullable turns "" and 0 into JSON null, as a database-backed API would.
func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullInt(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func (s *Sandbox) wireGroupLocked(g *Group, sh Shapes) wireGroup {
	w := wireGroup{
		ID: g.ID, ExtID: nullStr(g.ExtID), Name: g.Name, ParentID: nullInt(g.ParentID), TopID: s.top,
		Status: string(g.Status), BillingID: nullInt(g.BillingID), Address: nullStr(g.Address),
		City: nullStr(g.City), State: nullStr(g.State), Zip: nullStr(g.Zip), Phone: nullStr(g.Phone),
		IndustryID: nullInt(g.IndustryID), Timezone: nullStr(g.Timezone),
	}
	if g.IndustryID != 0 {
		w.IndustryName = nullStr(s.industryName[g.IndustryID])
	}
	if sh.GroupTimestampNames {
		w.GCreated, w.GModified = formatTime(g.Created), formatTime(g.Modified)
	} else {
		w.OUCreated, w.OUModified = formatTime(g.Created), formatTime(g.Modified)
	}
	return w
}

// underLocked reports whether group id is root or below it.
func (s *Sandbox) underLocked(id, root int64) bool {
	for n := 0; id != 0 && n <= len(s.groups); n++ {
		if id == root {
			return true
		}
		g := s.groups[id]
		if g == nil {
			return false
		}
		id = g.ParentID
	}
	return false
}

// lookupGroupLocked finds a group the caller may see: 404 unknown, 401 out of scope.
func (s *Sandbox) lookupGroupLocked(scope, id int64) (*Group, error) {
	g := s.groups[id]
	if g == nil {
		return nil, errf(http.StatusNotFound, "org unit %d not found", id)
	}
	if !s.underLocked(id, scope) {
		return nil, errUnauthorized()
	}
	return g, nil
}

// orgUnitParam reads org_unit_id, defaulting to the caller's group.
func (s *Sandbox) orgUnitParamLocked(c *caller, q url.Values) (*Group, error) {
	id := c.scope()
	if v := first(q, "org_unit_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, fieldErr(http.StatusBadRequest, "org_unit_id", "org_unit_id must be a positive integer, not %q", v)
		}
		id = n
	}
	return s.lookupGroupLocked(c.scope(), id)
}

// statusFilter reads a status filter: "" means active and inactive.
func statusFilter(q url.Values, name string) (state.Status, error) {
	v := first(q, name)
	switch state.Status(v) {
	case "", state.StatusActive, state.StatusInactive, state.StatusDeleted:
		return state.Status(v), nil
	}
	return "", fieldErr(http.StatusBadRequest, name, "%s must be active, inactive or deleted, not %q", name, v)
}

func statusMatches(have, want state.Status) bool {
	if want == "" {
		return have != state.StatusDeleted
	}
	return have == want
}

// listGroupsLocked is GET /v3/groups/list: the immediate children only.
func (s *Sandbox) listGroupsLocked(c *caller, q url.Values) *reply {
	limit, offset, err := paging(q)
	if err != nil {
		return errReply(err)
	}
	limit = c.dialect.pageCap(limit)
	status, err := statusFilter(q, "status")
	if err != nil {
		return errReply(err)
	}
	name := strings.ToLower(first(q, "group_name"))
	parent, err := s.orgUnitParamLocked(c, q)
	if err != nil {
		return errReply(err)
	}
	var match []*Group
	for _, id := range s.children[parent.ID] {
		g := s.groups[id]
		if statusMatches(g.Status, status) && (name == "" || strings.Contains(strings.ToLower(g.Name), name)) {
			match = append(match, g)
		}
	}
	out := make([]wireGroup, 0, min(limit, len(match)))
	for _, g := range page(match, limit, offset) {
		out = append(out, s.wireGroupLocked(g, c.shapes))
	}
	return ok(map[string]any{"groups": out, "total": len(match)})
}

type flatNode struct {
	ID    int64  `json:"org_unit_id"`
	Text  string `json:"text"`
	Code  string `json:"code"`
	Level int    `json:"group_level"`
}

type nestedNode struct {
	ID         int64         `json:"org_unit_id"`
	Text       string        `json:"text"`
	Name       string        `json:"org_unit_name"`
	ParentID   *int64        `json:"org_unit_parent_id"`
	CodedLevel string        `json:"coded_level"`
	Status     string        `json:"org_unit_status"`
	Children   []*nestedNode `json:"children"`
}

// treeLocked is GET /v3/groups/tree?active=: the caller's subtree, never
// the deleted groups; active=true (the default) also hides inactive groups
// and everything below them.
func (s *Sandbox) treeLocked(c *caller, q url.Values) *reply {
	activeOnly := true
	if v := first(q, "active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errReply(fieldErr(http.StatusBadRequest, "active", "active must be true or false, not %q", v))
		}
		activeOnly = b
	}
	visible := func(g *Group) bool {
		if g.Status == state.StatusDeleted {
			return false
		}
		return !activeOnly || g.Status == state.StatusActive
	}
	root := s.groups[c.scope()]
	if !visible(root) {
		return ok(map[string]any{"groups": []any{}})
	}
	if c.shapes.NestedTree {
		var build func(g *Group, code string) *nestedNode
		build = func(g *Group, code string) *nestedNode {
			n := &nestedNode{ID: g.ID, Text: g.Name, Name: g.Name, CodedLevel: code, Status: string(g.Status),
				Children: []*nestedNode{}}
			if g.ID != s.top {
				n.ParentID = nullInt(g.ParentID)
			}
			i := 0
			for _, id := range s.children[g.ID] {
				if ch := s.groups[id]; visible(ch) {
					i++
					n.Children = append(n.Children, build(ch, code+"."+strconv.Itoa(i)))
				}
			}
			return n
		}
		return ok(map[string]any{"groups": []*nestedNode{build(root, "1")}})
	}
	var out []flatNode
	var walk func(g *Group, code string, level int)
	walk = func(g *Group, code string, level int) {
		out = append(out, flatNode{ID: g.ID, Text: g.Name, Code: code, Level: level})
		i := 0
		for _, id := range s.children[g.ID] {
			if ch := s.groups[id]; visible(ch) {
				i++
				walk(ch, code+"."+strconv.Itoa(i), level+1)
			}
		}
	}
	walk(root, "1", 1)
	return ok(map[string]any{"groups": out})
}

// subtreeLocked returns id and every descendant in pre-order, children by
// ascending id; keep decides whether a group (and so its subtree) is kept.
func (s *Sandbox) subtreeLocked(id int64, keep func(*Group) bool) []int64 {
	var out []int64
	var walk func(int64)
	walk = func(id int64) {
		out = append(out, id)
		for _, ch := range s.children[id] {
			if keep == nil || keep(s.groups[ch]) {
				walk(ch)
			}
		}
	}
	walk(id)
	return out
}

// orgListLocked is GET /v3/groups/org-list/: the unit, then every
// non-deleted descendant.
func (s *Sandbox) orgListLocked(c *caller, q url.Values) *reply {
	g, err := s.orgUnitParamLocked(c, q)
	if err != nil {
		return errReply(err)
	}
	ids := s.subtreeLocked(g.ID, func(g *Group) bool { return g.Status != state.StatusDeleted })
	return ok(map[string]any{"orgUnits": ids})
}

func (s *Sandbox) getGroupLocked(c *caller, id int64) *reply {
	g, err := s.lookupGroupLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	w := s.wireGroupLocked(g, c.shapes)
	if c.shapes.WrappedGroupDetail {
		return ok(map[string]any{"group": w})
	}
	return ok(w)
}

// groupInput is a decoded group body; nil means "not sent".
type groupInput struct {
	name, extID, address, city, st, zip, phone, timezone *string
	parentID, industryID, topID, billingID               *int64
}

var (
	groupWritable  = set("org_unit_name", "org_unit_ext_id", "org_unit_parent_id", "parent_org_unit_id", "address", "city", "state", "zip", "phone_number", "industry_id")
	groupCreateExt = set("top_ou_id", "billing_id", "timezone")
	groupReadOnly  = set("org_unit_id", "org_unit_status", "group_created", "group_modified", "org_unit_created", "org_unit_modified", "industry_name", "top_ou_id", "billing_id", "timezone")
)

// decodeGroup reads the group fields of a body, type-checked.
func decodeGroup(f fields, create bool) (groupInput, error) {
	var in groupInput
	var err error
	strs := []struct {
		name string
		dst  **string
	}{
		{"org_unit_name", &in.name}, {"org_unit_ext_id", &in.extID}, {"address", &in.address},
		{"city", &in.city}, {"state", &in.st}, {"zip", &in.zip}, {"phone_number", &in.phone},
	}
	if create {
		strs = append(strs, struct {
			name string
			dst  **string
		}{"timezone", &in.timezone})
	}
	for _, x := range strs {
		if *x.dst, err = f.str(x.name); err != nil {
			return in, err
		}
	}
	if in.industryID, err = f.integer("industry_id"); err != nil {
		return in, err
	}
	if create {
		if in.topID, err = f.integer("top_ou_id"); err != nil {
			return in, err
		}
		if in.billingID, err = f.integer("billing_id"); err != nil {
			return in, err
		}
	}
	p1, err := f.integer("org_unit_parent_id")
	if err != nil {
		return in, err
	}
	p2, err := f.integer("parent_org_unit_id")
	if err != nil {
		return in, err
	}
	if p1 != nil && p2 != nil && *p1 != *p2 {
		return in, fieldErr(http.StatusBadRequest, "org_unit_parent_id", "org_unit_parent_id %d and parent_org_unit_id %d disagree", *p1, *p2)
	}
	in.parentID = p1
	if p1 == nil {
		in.parentID = p2
	}
	return in, nil
}

// checkName validates an org_unit_name.
func checkName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fieldErr(http.StatusBadRequest, field, "%s must not be empty", field)
	}
	if utf8.RuneCountInString(v) > maxNameLen {
		return fieldErr(http.StatusBadRequest, field, "%s is longer than %d characters", field, maxNameLen)
	}
	if !utf8.ValidString(v) {
		return fieldErr(http.StatusBadRequest, field, "%s is not valid UTF-8", field)
	}
	return nil
}

// nameTakenLocked reports whether a non-deleted child of parent other than
// self carries name, ignoring case and surrounding spaces.
func (s *Sandbox) nameTakenLocked(parent, self int64, name string) bool {
	k := strings.TrimSpace(name)
	for _, id := range s.children[parent] {
		g := s.groups[id]
		if id != self && g.Status != state.StatusDeleted && strings.EqualFold(strings.TrimSpace(g.Name), k) {
			return true
		}
	}
	return false
}

// checkParentLocked validates a parent for a create or a move.
func (s *Sandbox) checkParentLocked(scope, parentID int64) (*Group, error) {
	p := s.groups[parentID]
	if p == nil {
		return nil, fieldErr(http.StatusBadRequest, "org_unit_parent_id", "parent org unit %d does not exist", parentID)
	}
	if !s.underLocked(parentID, scope) {
		return nil, errUnauthorized()
	}
	if p.Status != state.StatusActive {
		return nil, fieldErr(http.StatusBadRequest, "org_unit_parent_id", "parent org unit %d is %s, not active", parentID, p.Status)
	}
	return p, nil
}

func (s *Sandbox) checkIndustryLocked(id *int64) error {
	if id == nil {
		return nil
	}
	if _, ok := s.industryName[*id]; !ok {
		return fieldErr(http.StatusBadRequest, "industry_id", "industry_id %d is not in the industry list", *id)
	}
	return nil
}

func (s *Sandbox) checkExtID(v *string) error {
	if v != nil && utf8.RuneCountInString(*v) > maxNameLen {
		return fieldErr(http.StatusBadRequest, "org_unit_ext_id", "org_unit_ext_id is longer than %d characters", maxNameLen)
	}
	return nil
}

// createGroupLocked validates and applies a create. scope is the caller's
// group; status is active for the API (seeding may ask for another).
func (s *Sandbox) createGroupLocked(scope int64, in groupInput, status state.Status, sh Shapes, now time.Time, id int64) (int64, error) {
	if in.name == nil {
		return 0, fieldErr(http.StatusBadRequest, "org_unit_name", "org_unit_name is required")
	}
	if err := checkName("org_unit_name", *in.name); err != nil {
		return 0, err
	}
	if err := s.checkExtID(in.extID); err != nil {
		return 0, err
	}
	if in.parentID == nil {
		return 0, fieldErr(http.StatusBadRequest, "org_unit_parent_id", "org_unit_parent_id is required")
	}
	parent, err := s.checkParentLocked(scope, *in.parentID)
	if err != nil {
		return 0, err
	}
	if in.topID != nil && *in.topID != s.top {
		return 0, fieldErr(http.StatusBadRequest, "top_ou_id", "top_ou_id %d is not this account's top group", *in.topID)
	}
	if in.billingID != nil && *in.billingID <= 0 {
		return 0, fieldErr(http.StatusBadRequest, "billing_id", "billing_id must be positive")
	}
	if err := s.checkIndustryLocked(in.industryID); err != nil {
		return 0, err
	}
	if status != state.StatusDeleted && s.nameTakenLocked(parent.ID, 0, *in.name) {
		return 0, fieldErr(http.StatusConflict, "org_unit_name", "org_unit_name %q is already used by a sibling under org unit %d", *in.name, parent.ID)
	}
	if id == 0 {
		id = s.nextGroupID
	} else if s.groups[id] != nil {
		return 0, errf(http.StatusConflict, "org unit %d already exists", id)
	}
	s.nextGroupID = max(s.nextGroupID, id+1)
	now = now.UTC().Truncate(time.Millisecond)
	g := &Group{
		ID: id, Name: *in.name, ParentID: parent.ID, Status: status,
		BillingID: parent.BillingID, Timezone: parent.Timezone, Created: now, Modified: now,
	}
	s.applyGroupFields(g, in, sh)
	if in.timezone != nil {
		g.Timezone = *in.timezone
	}
	if in.billingID != nil {
		g.BillingID = *in.billingID
	}
	s.groups[id] = g
	s.children[parent.ID] = insertSorted(s.children[parent.ID], id)
	s.version++
	return id, nil
}

// applyGroupFields copies the writable fields that were sent, except the parent.
func (s *Sandbox) applyGroupFields(g *Group, in groupInput, sh Shapes) {
	for _, x := range []struct {
		src *string
		dst *string
	}{
		{in.name, &g.Name}, {in.extID, &g.ExtID}, {in.address, &g.Address}, {in.city, &g.City},
		{in.st, &g.State}, {in.zip, &g.Zip},
	} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
	if in.phone != nil {
		g.Phone = *in.phone
		if sh.PhoneDashes {
			g.Phone = dashPhone(g.Phone)
		}
	}
	if in.industryID != nil {
		g.IndustryID = *in.industryID
	}
}

func insertSorted(ids []int64, id int64) []int64 {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

func removeID(ids []int64, id int64) []int64 {
	if i, found := slices.BinarySearch(ids, id); found {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}

// dashPhone writes a North American number as "+1-212-555-0100"; other
// numbers are kept as sent.
func dashPhone(p string) string {
	var d []byte
	for i := 0; i < len(p); i++ {
		if p[i] >= '0' && p[i] <= '9' {
			d = append(d, p[i])
		}
	}
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) != 10 {
		return p
	}
	return "+1-" + string(d[0:3]) + "-" + string(d[3:6]) + "-" + string(d[6:])
}

func (s *Sandbox) createGroupHTTP(c *caller, body []byte) *reply {
	f, err := parseObject(body, true)
	if err != nil {
		return errReply(err)
	}
	if err := f.unknown(groupWritable, groupCreateExt); err != nil {
		return errReply(err)
	}
	in, err := decodeGroup(f, true)
	if err != nil {
		return errReply(err)
	}
	id, err := s.createGroupLocked(c.scope(), in, state.StatusActive, c.shapes, c.now, 0)
	if err != nil {
		return errReply(err)
	}
	return ok(map[string]int64{"orgUnitId": id})
}

func (s *Sandbox) patchGroupHTTP(c *caller, id int64, body []byte) *reply {
	g, err := s.lookupGroupLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	f, err := parseObject(body, true)
	if err != nil {
		return errReply(err)
	}
	if err := f.unknown(groupWritable, groupReadOnly); err != nil {
		return errReply(err)
	}
	writable := 0
	for k := range f {
		if groupWritable[k] {
			writable++
		}
	}
	if writable == 0 {
		return errReply(errf(http.StatusBadRequest, "at least one writable field is required (org_unit_name, org_unit_ext_id, org_unit_parent_id, address, city, state, zip, phone_number, industry_id)"))
	}
	in, err := decodeGroup(f, false)
	if err != nil {
		return errReply(err)
	}
	if g.Status == state.StatusDeleted {
		return errReply(errf(http.StatusBadRequest, "org unit %d is deleted and cannot be updated", id))
	}
	if err := s.patchGroupLocked(c.scope(), g, in, c.shapes, c.now); err != nil {
		return errReply(err)
	}
	return ok(map[string]int64{"orgUnitId": id})
}

// patchGroupLocked validates and applies a partial update of a live group.
func (s *Sandbox) patchGroupLocked(scope int64, g *Group, in groupInput, sh Shapes, now time.Time) error {
	if in.name != nil {
		if err := checkName("org_unit_name", *in.name); err != nil {
			return err
		}
	}
	if err := s.checkExtID(in.extID); err != nil {
		return err
	}
	if err := s.checkIndustryLocked(in.industryID); err != nil {
		return err
	}
	newParent := g.ParentID
	if in.parentID != nil && *in.parentID != g.ParentID {
		if g.ID == s.top || g.ID == scope {
			return fieldErr(http.StatusBadRequest, "org_unit_parent_id", "org unit %d is the root of the caller's hierarchy and cannot be moved", g.ID)
		}
		if _, err := s.checkParentLocked(scope, *in.parentID); err != nil {
			return err
		}
		if s.underLocked(*in.parentID, g.ID) {
			return fieldErr(http.StatusBadRequest, "org_unit_parent_id", "cannot move org unit %d under itself or its descendant %d", g.ID, *in.parentID)
		}
		newParent = *in.parentID
	}
	name := g.Name
	if in.name != nil {
		name = *in.name
	}
	if (newParent != g.ParentID || !sameName(name, g.Name)) && s.nameTakenLocked(newParent, g.ID, name) {
		return fieldErr(http.StatusConflict, "org_unit_name", "org_unit_name %q is already used by a sibling under org unit %d", name, newParent)
	}
	if newParent != g.ParentID {
		s.children[g.ParentID] = removeID(s.children[g.ParentID], g.ID)
		s.children[newParent] = insertSorted(s.children[newParent], g.ID)
		g.ParentID = newParent
	}
	s.applyGroupFields(g, in, sh)
	g.Modified = now.UTC().Truncate(time.Millisecond)
	s.version++
	return nil
}

func (s *Sandbox) deleteGroupLocked(c *caller, id int64) *reply {
	g, err := s.lookupGroupLocked(c.scope(), id)
	if err != nil {
		return errReply(err)
	}
	if g.Status == state.StatusDeleted {
		return errReply(errf(http.StatusNotFound, "org unit %d is already deleted", id))
	}
	if id == s.top || id == c.scope() {
		return errReply(errf(http.StatusBadRequest, "org unit %d is the root of the caller's hierarchy and cannot be deleted", id))
	}
	now := c.now.UTC().Truncate(time.Millisecond)
	if s.opts.DeleteSemantics == DeleteCascade {
		// The older backend: the group, its direct child groups and every
		// user of those groups go, whatever they hold; grandchildren stay,
		// under a deleted parent.
		for _, gid := range append([]int64{id}, s.children[id]...) {
			if gg := s.groups[gid]; gg.Status != state.StatusDeleted {
				gg.Status, gg.Modified = state.StatusDeleted, now
			}
			for _, uid := range s.usersByGroup[gid] {
				if u := s.users[uid]; u.Status != state.StatusDeleted {
					s.softDeleteUserLocked(u)
				}
			}
		}
		s.version++
		return ok(map[string]int64{"orgUnitId": id})
	}
	for _, ch := range s.children[id] {
		if s.groups[ch].Status != state.StatusDeleted {
			return errReply(errf(http.StatusBadRequest, "org unit %d still has child groups that are not deleted (e.g. %d)", id, ch))
		}
	}
	for _, uid := range s.usersByGroup[id] {
		if s.users[uid].Status == state.StatusActive {
			return errReply(errf(http.StatusBadRequest, "org unit %d still has active users (e.g. %d)", id, uid))
		}
	}
	g.Status = state.StatusDeleted
	g.Modified = now
	s.version++
	return ok(map[string]int64{"orgUnitId": id})
}

func (s *Sandbox) industriesLocked(c *caller) *reply {
	list := append([]Industry{}, s.industries...)
	if c.shapes.WrappedIndustries {
		return ok(map[string]any{"industries": list})
	}
	return ok(list)
}
