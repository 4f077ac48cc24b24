package convirza

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// GroupsService handles org units (groups).
type GroupsService service

// ListOptions pages a listing. Limit 0 asks for PageSize (200), the most the
// API serves; the API's own default would be 100.
type ListOptions struct {
	Limit  int
	Offset int
}

func (o ListOptions) apply(q url.Values) int {
	limit := o.Limit
	if limit <= 0 {
		limit = PageSize
	}
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(o.Offset))
	return limit
}

// GroupListOptions filters List Child Groups.
type GroupListOptions struct {
	// Status is "active", "inactive" or "deleted"; "" lists active and
	// inactive groups (deleted ones are hidden).
	Status string
	// Name matches org_unit_name partially, ignoring case.
	Name string
	ListOptions
}

// groupJSON is a group as the API sends it, read tolerantly.
type groupJSON struct {
	ID           flexInt    `json:"org_unit_id"`
	ExtID        flexString `json:"org_unit_ext_id"`
	Name         flexString `json:"org_unit_name"`
	ParentID     flexInt    `json:"org_unit_parent_id"`
	ParentAlt    flexInt    `json:"parent_org_unit_id"`
	TopID        flexInt    `json:"top_ou_id"`
	BillingID    flexInt    `json:"billing_id"`
	Status       flexString `json:"org_unit_status"`
	StatusAlt    flexString `json:"status"`
	Address      flexString `json:"address"`
	City         flexString `json:"city"`
	State        flexString `json:"state"`
	Zip          flexString `json:"zip"`
	Phone        flexString `json:"phone_number"`
	IndustryID   flexInt    `json:"industry_id"`
	IndustryName flexString `json:"industry_name"`
	Timezone     flexString `json:"timezone"`
	OUCreated    flexTime   `json:"org_unit_created"`
	OUModified   flexTime   `json:"org_unit_modified"`
	GCreated     flexTime   `json:"group_created"`
	GModified    flexTime   `json:"group_modified"`
}

// group is the compact record of g: the strings that repeat across groups
// (status, city, state, zip, industry, time zone) shared through in.
func (g *groupJSON) group(in lockedInterner) state.Group {
	out := state.Group{
		ID:           int64(g.ID),
		ExtID:        string(g.ExtID),
		Name:         string(g.Name),
		ParentID:     int64(g.ParentID),
		TopID:        int64(g.TopID),
		BillingID:    int64(g.BillingID),
		Status:       state.Status(in.s(string(parseStatus(string(g.Status), string(g.StatusAlt))))),
		Address:      string(g.Address),
		City:         in.s(string(g.City)),
		State:        in.s(string(g.State)),
		Zip:          in.s(string(g.Zip)),
		Phone:        string(g.Phone),
		IndustryID:   int64(g.IndustryID),
		IndustryName: in.s(string(g.IndustryName)),
		Timezone:     in.s(string(g.Timezone)),
		Created:      g.OUCreated.Time(),
		Modified:     g.OUModified.Time(),
	}
	if out.ParentID == 0 {
		out.ParentID = int64(g.ParentAlt)
	}
	if out.Created.IsZero() {
		out.Created = g.GCreated.Time()
	}
	if out.Modified.IsZero() {
		out.Modified = g.GModified.Time()
	}
	return out
}

// parseStatus reads a status in any case; the first non-empty value wins.
func parseStatus(vals ...string) state.Status {
	for _, v := range vals {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			return state.Status(v)
		}
	}
	return ""
}

// decodeList reads a listing's data, {"<key>": [...], "total": N} or a bare
// array, into *items, reusing its backing array (every element is zeroed
// first, so a reused page keeps nothing of the last one). The data is read
// as a stream of members, without a map. It sets resp.Total (-1 when the
// server did not say).
func decodeList[T any](resp *Response, data json.RawMessage, key string, items *[]T) error {
	clear((*items)[:cap(*items)])
	*items = (*items)[:0]
	if isJSONArray(data) {
		return decodeData(resp, data, items)
	}
	var list json.RawMessage
	err := eachMember(data, func(k string, v json.RawMessage) error {
		switch k {
		case "total":
			var n flexInt
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			resp.Total = int(n)
		case key:
			list = v
		}
		return nil
	})
	if err != nil {
		return &MalformedResponseError{Method: resp.method, Path: resp.path, StatusCode: resp.StatusCode,
			RequestID: resp.RequestID, Reason: "unexpected data", Err: err}
	}
	if list == nil || string(list) == "null" {
		if resp.Total == 0 {
			return nil
		}
		return badData(resp, fmt.Sprintf("data without %q", key))
	}
	return decodeData(resp, list, items)
}

// groupPage decodes a page of groups into compact records: its repeated
// strings interned, the decoding page itself reused.
func (c *Client) groupPage(resp *Response, data json.RawMessage) ([]state.Group, error) {
	buf := groupPages.Get().(*[]groupJSON)
	defer groupPages.Put(buf)
	if err := decodeList(resp, data, "groups", buf); err != nil {
		return nil, err
	}
	raw := *buf
	out := make([]state.Group, 0, len(raw))
	in := c.names.lock()
	defer in.unlock()
	for i := range raw {
		g := raw[i].group(in)
		if g.ID == 0 {
			return nil, badData(resp, fmt.Sprintf("group %d of the page has no org_unit_id", i))
		}
		out = append(out, g)
	}
	return out, nil
}

// groupPages and userPages hold the pages listings decode into, for reuse.
var (
	groupPages = sync.Pool{New: func() any { s := make([]groupJSON, 0, PageSize); return &s }}
	userPages  = sync.Pool{New: func() any { s := make([]userJSON, 0, PageSize); return &s }}
)

// setNext sets resp.NextOffset after a page of n items asked at offset with
// limit.
func setNext(resp *Response, offset, limit, n int) {
	resp.NextOffset = 0
	switch {
	case n == 0:
	case resp.Total >= 0:
		if offset+n < resp.Total {
			resp.NextOffset = offset + n
		}
	case n >= limit:
		resp.NextOffset = offset + n
	}
}

// ListChildren lists one page of the immediate children of parentID (0: the
// caller's own group). GET /groups/list.
func (s *GroupsService) ListChildren(ctx context.Context, parentID int64, opts *GroupListOptions) ([]state.Group, *Response, error) {
	if opts == nil {
		opts = &GroupListOptions{}
	}
	q := url.Values{}
	if parentID != 0 {
		q.Set("org_unit_id", strconv.FormatInt(parentID, 10))
	}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Name != "" {
		q.Set("group_name", opts.Name)
	}
	return s.listPage(ctx, "groups/list", q, opts.Offset, opts.ListOptions.apply(q))
}

// listPage GETs one page of a group listing (List Child Groups, or List
// Groups) and decodes it, setting the response's next offset.
func (s *GroupsService) listPage(ctx context.Context, path string, q url.Values, offset, limit int) ([]state.Group, *Response, error) {
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: path, query: q, needData: true})
	if err != nil {
		return nil, resp, err
	}
	out, err := s.client.groupPage(resp, data)
	if err != nil {
		return nil, resp, err
	}
	setNext(resp, offset, limit, len(out))
	return out, resp, nil
}

// ListChildrenIter walks every page of parentID's immediate children, 200 at
// a time. A group seen twice (the listing moved under it) is yielded once.
// On error it yields (zero, err) and stops.
func (s *GroupsService) ListChildrenIter(ctx context.Context, parentID int64, opts *GroupListOptions) iter.Seq2[state.Group, error] {
	return func(yield func(state.Group, error) bool) {
		o := GroupListOptions{}
		if opts != nil {
			o = *opts
		}
		seen := map[int64]bool{}
		for {
			page, resp, err := s.ListChildren(ctx, parentID, &o)
			if err == nil {
				err = s.client.pastCeiling(o.Offset + len(page))
			}
			if err != nil {
				yield(state.Group{}, fmt.Errorf("list child groups of %d, offset %d: %w", parentID, o.Offset, err))
				return
			}
			for _, g := range page {
				if seen[g.ID] {
					continue
				}
				seen[g.ID] = true
				if !yield(g, nil) {
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

// TreeNode is one group of the tree, flattened.
type TreeNode struct {
	ID int64
	// ParentID is the parent's id; 0 for the first node when the tree does
	// not say what is above it.
	ParentID int64
	Name     string
	// Level is the depth from the top of the caller's tree, from 1.
	Level int
}

// treeNodeJSON reads both tree shapes: flat with a dotted code, or nested
// with children.
type treeNodeJSON struct {
	ID         flexInt         `json:"org_unit_id"`
	AltID      flexInt         `json:"id"`
	Text       flexString      `json:"text"`
	Name       flexString      `json:"org_unit_name"`
	AltName    flexString      `json:"name"`
	Code       flexString      `json:"code"`
	GroupLevel flexInt         `json:"group_level"`
	Level      flexInt         `json:"level"`
	CodedLevel json.RawMessage `json:"coded_level"`
	ParentID   flexInt         `json:"org_unit_parent_id"`
	ParentAlt  flexInt         `json:"parent_id"`
	Children   []treeNodeJSON  `json:"children"`
}

// Tree reads the caller's group tree (GET /groups/tree?active=). With active
// false it holds inactive groups and what is below them too; deleted groups
// are never in it. Both documented shapes are read: a flat list with a dotted
// "code" ("1.2.3" is a child of "1.2") and nested nodes with "children"; the
// name comes from "text" or "org_unit_name". The result is flat, in the
// server's (pre-)order.
func (s *GroupsService) Tree(ctx context.Context, active bool) ([]TreeNode, *Response, error) {
	q := url.Values{"active": {strconv.FormatBool(active)}}
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: "groups/tree", query: q, needData: true})
	if err != nil {
		return nil, resp, err
	}
	var roots []treeNodeJSON
	switch {
	case isJSONArray(data):
		err = decodeData(resp, data, &roots)
	default:
		if list, ok := member(data, "groups", "tree", "nodes"); ok {
			err = decodeData(resp, list, &roots)
		} else if _, ok := member(data, "org_unit_id", "id"); ok {
			roots = make([]treeNodeJSON, 1)
			err = decodeData(resp, data, &roots[0])
		} else {
			err = badData(resp, `data without "groups"`)
		}
	}
	if err != nil {
		return nil, resp, err
	}
	nodes, reason := flattenTree(roots)
	if reason != "" {
		return nil, resp, badData(resp, reason)
	}
	return nodes, resp, nil
}

// flattenTree turns either tree shape into TreeNodes; reason is non-empty
// when the tree does not hang together.
func flattenTree(roots []treeNodeJSON) (nodes []TreeNode, reason string) {
	type pending struct {
		idx        int
		code       string
		parentCode string
	}
	var (
		byCode = map[string]int64{}
		seen   = map[int64]bool{}
		codes  []pending
	)
	var walk func(n *treeNodeJSON, parent int64, depth int) string
	walk = func(n *treeNodeJSON, parent int64, depth int) string {
		id := int64(n.ID)
		if id == 0 {
			id = int64(n.AltID)
		}
		if id == 0 {
			return fmt.Sprintf("tree node %d has no org_unit_id", len(nodes))
		}
		if seen[id] {
			return fmt.Sprintf("group %d is in the tree twice", id)
		}
		seen[id] = true
		code := strings.TrimSpace(string(n.Code))
		level := int(n.GroupLevel)
		if level == 0 {
			level = int(n.Level)
		}
		if cl := strings.TrimSpace(strings.Trim(string(n.CodedLevel), `"`)); cl != "" && cl != "null" {
			if v, err := strconv.Atoi(cl); err == nil {
				if level == 0 {
					level = v
				}
			} else if code == "" && strings.Contains(cl, ".") {
				code = cl
			}
		}
		name := firstNonEmpty(string(n.Text), string(n.Name), string(n.AltName))
		node := TreeNode{ID: id, Name: name, Level: level, ParentID: int64(n.ParentID)}
		if node.ParentID == 0 {
			node.ParentID = int64(n.ParentAlt)
		}
		if node.ParentID == 0 {
			node.ParentID = parent
		}
		if node.Level == 0 && code != "" {
			node.Level = strings.Count(code, ".") + 1
		}
		if node.Level == 0 {
			node.Level = depth // 0 in the flat form: filled in below
		}
		if code != "" {
			if _, dup := byCode[code]; dup {
				return fmt.Sprintf("tree code %q is used twice", code)
			}
			byCode[code] = id
			if i := strings.LastIndex(code, "."); i > 0 {
				codes = append(codes, pending{idx: len(nodes), code: code, parentCode: code[:i]})
			}
		}
		nodes = append(nodes, node)
		for i := range n.Children {
			if r := walk(&n.Children[i], id, depth+1); r != "" {
				return r
			}
		}
		return ""
	}
	nested := false
	for i := range roots {
		if len(roots[i].Children) > 0 {
			nested = true
		}
	}
	depth := 0
	if nested {
		depth = 1
	}
	for i := range roots {
		if r := walk(&roots[i], 0, depth); r != "" {
			return nil, r
		}
	}
	// Flat form: the parent of "1.2.3" is "1.2". The top of the caller's
	// tree may carry a code whose parent lies outside it ("4.2" when the
	// caller's group is not the account's top).
	minSegs := 0
	for code := range byCode {
		if n := strings.Count(code, "."); minSegs == 0 || n+1 < minSegs {
			minSegs = n + 1
		}
	}
	for _, p := range codes {
		if nodes[p.idx].ParentID != 0 {
			continue
		}
		pid, ok := byCode[p.parentCode]
		if !ok && strings.Count(p.code, ".")+1 == minSegs {
			continue
		}
		if !ok {
			return nil, fmt.Sprintf("tree node %d (code %q): no node has the parent code %q", nodes[p.idx].ID, p.code, p.parentCode)
		}
		nodes[p.idx].ParentID = pid
	}
	// Levels still unknown: one more than the parent's, else 1.
	level := map[int64]int{}
	for i, n := range nodes {
		if n.Level == 0 {
			nodes[i].Level = level[n.ParentID] + 1
		}
		level[n.ID] = nodes[i].Level
	}
	return nodes, ""
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// OrgList returns the ids of id's hierarchy: id itself first, then every
// descendant (GET /groups/org-list/). id 0 asks for the caller's own group.
func (s *GroupsService) OrgList(ctx context.Context, id int64) ([]int64, *Response, error) {
	q := url.Values{}
	if id != 0 {
		q.Set("org_unit_id", strconv.FormatInt(id, 10))
	}
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: "groups/org-list/", query: q, needData: true})
	if err != nil {
		return nil, resp, err
	}
	list := data
	if !isJSONArray(data) {
		var ok bool
		if list, ok = member(data, "orgUnits", "org_units", "orgunits"); !ok {
			return nil, resp, badData(resp, `data without "orgUnits"`)
		}
	}
	var raw []flexInt
	if err := decodeData(resp, list, &raw); err != nil {
		return nil, resp, err
	}
	ids := make([]int64, len(raw))
	for i, v := range raw {
		if v == 0 {
			return nil, resp, badData(resp, fmt.Sprintf("org unit %d of the list is 0", i))
		}
		ids[i] = int64(v)
	}
	return ids, resp, nil
}

// Get reads one group (GET /groups/{id}), whether the data is the group or
// holds it under "group". A deleted group is returned with status deleted.
func (s *GroupsService) Get(ctx context.Context, id int64) (*state.Group, *Response, error) {
	p := "groups/" + strconv.FormatInt(id, 10)
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodGet, path: p, needData: true})
	if err != nil {
		return nil, resp, err
	}
	var raw groupJSON
	if err := decodeData(resp, unwrapObject(data, "group"), &raw); err != nil {
		return nil, resp, err
	}
	g := raw.group(lockedInterner{})
	if g.ID == 0 {
		return nil, resp, badData(resp, "group without org_unit_id")
	}
	return &g, resp, nil
}

// GroupCreate is the body of Create Group. Empty optional fields are not
// sent.
type GroupCreate struct {
	Name       string `json:"org_unit_name"`
	ExtID      string `json:"org_unit_ext_id,omitempty"`
	ParentID   int64  `json:"org_unit_parent_id"`
	Address    string `json:"address,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Zip        string `json:"zip,omitempty"`
	Phone      string `json:"phone_number,omitempty"`
	IndustryID int64  `json:"industry_id,omitempty"`
	TopID      int64  `json:"top_ou_id,omitempty"`
	BillingID  int64  `json:"billing_id,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
}

// Set sets one field by its API name (plan.FieldChange.Field), parsing
// integer fields from decimal text.
func (b *GroupCreate) Set(field, value string) error {
	switch field {
	case "org_unit_name":
		b.Name = value
	case "org_unit_ext_id":
		b.ExtID = value
	case "address":
		b.Address = value
	case "city":
		b.City = value
	case "state":
		b.State = value
	case "zip":
		b.Zip = value
	case "phone_number":
		b.Phone = value
	case "timezone":
		b.Timezone = value
	case "org_unit_parent_id", "industry_id", "top_ou_id", "billing_id":
		n, err := parseID(field, value)
		if err != nil {
			return err
		}
		switch field {
		case "org_unit_parent_id":
			b.ParentID = n
		case "industry_id":
			b.IndustryID = n
		case "top_ou_id":
			b.TopID = n
		default:
			b.BillingID = n
		}
	default:
		return fmt.Errorf("group field %q cannot be set on create", field)
	}
	return nil
}

func parseID(field, value string) (int64, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want a non-negative integer", field, value)
	}
	return n, nil
}

// Create makes a group (POST /groups) and returns its new id. An error that
// matches ErrOutcomeUnknown means the group may exist now: look it up by ext
// id before trying again.
func (s *GroupsService) Create(ctx context.Context, body GroupCreate) (int64, *Response, error) {
	if strings.TrimSpace(body.Name) == "" {
		return 0, nil, fmt.Errorf("create group: org_unit_name is required")
	}
	resp, data, err := s.client.do(ctx, apiRequest{method: http.MethodPost, path: "groups", body: body, needData: true})
	if err != nil {
		return 0, resp, err
	}
	id, err := createdID(resp, data, "orgUnitId", "org_unit_id", "orgUnitID", "id")
	return id, resp, err
}

// createdID reads the new id of a create's answer. The write happened, so a
// failure here wraps ErrOutcomeUnknown: the id must be looked up.
func createdID(resp *Response, data json.RawMessage, keys ...string) (int64, error) {
	var n flexInt
	raw, ok := member(data, keys...)
	if !ok {
		return 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, badData(resp, fmt.Sprintf("data without %q", keys[0])))
	}
	if err := decodeData(resp, raw, &n); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, badData(resp, fmt.Sprintf("%s is %d", keys[0], n)))
	}
	return int64(n), nil
}

// ErrNoIndustryClear is the error of a patch that would clear a group's
// industry_id. The API documents industry_id as an integer id of the
// industry list and no way to unset it: 0 is no industry of the list, ""
// is not an integer and null is undocumented. So no such patch is ever
// built, rather than one that puts {"industry_id":0} on the wire.
var ErrNoIndustryClear = errors.New("industry_id cannot be cleared: the API documents no way to unset a group's industry")

// GroupPatch is the body of Partial Update Group. A nil field is not sent; a
// pointer to "" is sent as "" (it clears a text field). IndustryID, when
// set, is never 0: see ErrNoIndustryClear.
type GroupPatch struct {
	Name       *string `json:"org_unit_name,omitempty"`
	ExtID      *string `json:"org_unit_ext_id,omitempty"`
	ParentID   *int64  `json:"org_unit_parent_id,omitempty"`
	Address    *string `json:"address,omitempty"`
	City       *string `json:"city,omitempty"`
	State      *string `json:"state,omitempty"`
	Zip        *string `json:"zip,omitempty"`
	Phone      *string `json:"phone_number,omitempty"`
	IndustryID *int64  `json:"industry_id,omitempty"`
}

// IsZero reports whether the patch sets no field.
func (p GroupPatch) IsZero() bool { return p == GroupPatch{} }

// Set sets one field by its API name (plan.FieldChange.Field), parsing
// integer fields from decimal text.
func (p *GroupPatch) Set(field, value string) error {
	v := value
	switch field {
	case "org_unit_name":
		p.Name = &v
	case "org_unit_ext_id":
		p.ExtID = &v
	case "address":
		p.Address = &v
	case "city":
		p.City = &v
	case "state":
		p.State = &v
	case "zip":
		p.Zip = &v
	case "phone_number":
		p.Phone = &v
	case "org_unit_parent_id", "industry_id":
		n, err := parseID(field, value)
		if err != nil {
			return err
		}
		if field == "org_unit_parent_id" {
			if n == 0 {
				return fmt.Errorf("org_unit_parent_id: a group needs a parent")
			}
			p.ParentID = &n
		} else {
			if n == 0 {
				return ErrNoIndustryClear
			}
			p.IndustryID = &n
		}
	default:
		return fmt.Errorf("group field %q is not writable", field)
	}
	return nil
}

// Patch changes only the fields that body sets (PATCH /groups/{id}).
func (s *GroupsService) Patch(ctx context.Context, id int64, body GroupPatch) (*Response, error) {
	if body.IsZero() {
		return nil, fmt.Errorf("patch group %d: no field to change", id)
	}
	if body.IndustryID != nil && *body.IndustryID == 0 {
		return nil, fmt.Errorf("patch group %d: %w", id, ErrNoIndustryClear)
	}
	resp, _, err := s.client.do(ctx, apiRequest{method: http.MethodPatch, path: "groups/" + strconv.FormatInt(id, 10), body: body})
	return resp, err
}

// Delete soft-deletes a group (DELETE /groups/{id}). The API refuses it
// while the group has child groups or active users. A retried delete whose
// first attempt got no answer, and that then finds the group gone, succeeds.
func (s *GroupsService) Delete(ctx context.Context, id int64) (*Response, error) {
	resp, _, err := s.client.do(ctx, apiRequest{method: http.MethodDelete, path: "groups/" + strconv.FormatInt(id, 10)})
	return resp, err
}
