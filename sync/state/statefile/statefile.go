// Package statefile is the state.json format: a full snapshot of a
// Convirza account (groups and users with ids and statuses, and the
// industry list), versioned, which `convirza-sync export` writes and the
// sandbox loads and saves.
//
// Invariant: it only encodes, decodes and checks a snapshot onto the
// reader or writer it is given; it never opens a file, never reaches the
// network, and never decides what a sync should do.
//
// # Version 1
//
// The sandbox (LoadState, SaveState, NewFromState) and `convirza-sync
// export` all use one JSON document. Read refuses any other version, an
// unknown field, trailing data and a state that breaks the tree (see
// State.Validate):
//
//	{
//	  "version": 1,
//	  "top_group_id": 1001,
//	  "groups": [
//	    {"org_unit_id": 1001, "org_unit_ext_id": "ACME", "org_unit_name": "Acme Corp",
//	     "org_unit_status": "active", "billing_id": 5001,
//	     "address": "100 Main St", "city": "Boston", "state": "MA", "zip": "02110",
//	     "phone_number": "+16175550100", "industry_id": 10, "timezone": "America/New_York",
//	     "created": "2025-01-15T10:30:00Z", "modified": "2025-01-15T10:30:00Z"},
//	    {"org_unit_id": 1002, "org_unit_ext_id": "ACME-EAST", "org_unit_name": "East",
//	     "org_unit_parent_id": 1001, "org_unit_status": "inactive", ...}
//	  ],
//	  "users": [
//	    {"ct_user_id": 10001, "email": "jane@acme.example", "first_name": "Jane",
//	     "last_name": "Roe", "user_ext_id": "E-1", "status": "active", "role": "admin",
//	     "group_org_unit_id": 1002, "created": "2025-02-01T09:00:00Z"}
//	  ],
//	  "industries": [{"industry_id": 10, "industry_name": "Technology"}]
//	}
//
// Field by field:
//   - top_group_id: the account's top group; it has no org_unit_parent_id
//     (absent or 0) and is the only such group. Every other group reaches it
//     through its parents.
//   - groups: org_unit_status is active, inactive or deleted ("" reads as
//     active). Empty strings may be left out. industry_id, when not 0, names an
//     entry of industries. created/modified are RFC 3339 (UTC when written).
//   - users: role is canonical (admin, standard or readonly); a reader also
//     accepts the API's spellings ("Standard User", "2", ...) and normalizes
//     them. status is active, inactive or deleted. group_org_unit_id names a
//     group of the file. Optional: timezone, aliases, agent_ring_to,
//     agent_code, score_call, access_audio.
//   - industries: the reference list that GET /v3/industry serves.
//
// Write writes groups and users sorted by id, with two-space indentation,
// so the file diffs well.
package statefile

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Version is the version of the state file this package reads and writes.
const Version = 1

// maxBytes caps the size of a state file Read reads (256 MiB).
const maxBytes = 256 << 20

// State is a whole account: the top group, every group and user under it
// with ids and statuses, and the industry list.
type State struct {
	Version    int        `json:"version"`
	TopGroupID int64      `json:"top_group_id"`
	Groups     []Group    `json:"groups"`
	Users      []User     `json:"users"`
	Industries []Industry `json:"industries"`
}

// Group is one org unit in the state file.
type Group struct {
	ID         int64        `json:"org_unit_id"`
	ExtID      string       `json:"org_unit_ext_id,omitempty"`
	Name       string       `json:"org_unit_name"`
	ParentID   int64        `json:"org_unit_parent_id,omitempty"` // 0 for the top group
	Status     state.Status `json:"org_unit_status"`
	BillingID  int64        `json:"billing_id,omitempty"`
	Address    string       `json:"address,omitempty"`
	City       string       `json:"city,omitempty"`
	State      string       `json:"state,omitempty"`
	Zip        string       `json:"zip,omitempty"`
	Phone      string       `json:"phone_number,omitempty"`
	IndustryID int64        `json:"industry_id,omitempty"`
	Timezone   string       `json:"timezone,omitempty"`
	Created    time.Time    `json:"created,omitzero"`
	Modified   time.Time    `json:"modified,omitzero"`
}

// User is one user in the state file.
type User struct {
	ID          int64        `json:"ct_user_id"`
	Email       string       `json:"email"`
	FirstName   string       `json:"first_name"`
	LastName    string       `json:"last_name"`
	ExtID       string       `json:"user_ext_id,omitempty"`
	Status      state.Status `json:"status"`
	Role        state.Role   `json:"role"`
	GroupID     int64        `json:"group_org_unit_id"`
	Created     time.Time    `json:"created,omitzero"`
	Timezone    string       `json:"timezone,omitempty"`
	Aliases     []string     `json:"aliases,omitempty"`
	AgentRingTo string       `json:"agent_ring_to,omitempty"`
	AgentCode   string       `json:"agent_code,omitempty"`
	ScoreCall   bool         `json:"score_call,omitempty"`
	AccessAudio bool         `json:"access_audio,omitempty"`
}

// Industry is one entry of the industry reference list.
type Industry struct {
	ID   int64  `json:"industry_id"`
	Name string `json:"industry_name"`
}

// ErrVersion is wrapped by the error for a state file of another version.
var ErrVersion = errors.New("unsupported state file version")

// Read decodes and validates a state file. It refuses another version,
// unknown fields, trailing data and a broken tree.
func Read(r io.Reader) (State, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return State{}, fmt.Errorf("read state file: %w", err)
	}
	if len(data) > maxBytes {
		return State{}, fmt.Errorf("read state file: larger than %d bytes", maxBytes)
	}
	// Look at the version first, so that a future file is refused for its
	// version and not for a field this build does not know.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return State{}, fmt.Errorf("read state file: not a JSON state object: %w", err)
	}
	if head.Version == nil {
		return State{}, fmt.Errorf("read state file: %w: no \"version\" field (this build reads version %d)", ErrVersion, Version)
	}
	if *head.Version != Version {
		return State{}, fmt.Errorf("read state file: %w: version %d (this build reads version %d)", ErrVersion, *head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("read state file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return State{}, errors.New("read state file: trailing data after the state object")
	}
	if err := st.normalize(); err != nil {
		return State{}, fmt.Errorf("read state file: %w", err)
	}
	return st, nil
}

// Write encodes the state file, groups and users sorted by id.
func (st State) Write(w io.Writer) error {
	c := st.clone()
	if c.Version == 0 {
		c.Version = Version
	}
	c.Sort()
	for i := range c.Groups {
		c.Groups[i].Created = c.Groups[i].Created.UTC()
		c.Groups[i].Modified = c.Groups[i].Modified.UTC()
	}
	for i := range c.Users {
		c.Users[i].Created = c.Users[i].Created.UTC()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// Normalized returns a copy of the state, checked as Validate checks it,
// with defaults filled: an empty status is active, roles are canonical.
func (st State) Normalized() (State, error) {
	c := st.clone()
	if err := c.normalize(); err != nil {
		return State{}, err
	}
	return c, nil
}

// Validate checks that the state is one a sandbox can serve: the version,
// unique positive ids, one top group that every group reaches through its
// parents, known statuses and roles, users in known groups, industry ids in
// the list, and no two non-deleted users sharing an email.
func (st State) Validate() error {
	c := st.clone()
	return c.normalize()
}

// normalize validates st in place and fills defaults ("" status -> active,
// roles in canonical form).
func (st *State) normalize() error {
	if st.Version != Version {
		return fmt.Errorf("%w: version %d (this build reads version %d)", ErrVersion, st.Version, Version)
	}
	inds := make(map[int64]bool, len(st.Industries))
	for _, in := range st.Industries {
		if in.ID <= 0 {
			return fmt.Errorf("industry %q: industry_id must be positive", in.Name)
		}
		if inds[in.ID] {
			return fmt.Errorf("industry %d: duplicate industry_id", in.ID)
		}
		if strings.TrimSpace(in.Name) == "" {
			return fmt.Errorf("industry %d: empty industry_name", in.ID)
		}
		inds[in.ID] = true
	}
	parent := make(map[int64]int64, len(st.Groups))
	for i := range st.Groups {
		g := &st.Groups[i]
		if g.ID <= 0 {
			return fmt.Errorf("group %q: org_unit_id must be positive", g.Name)
		}
		if _, dup := parent[g.ID]; dup {
			return fmt.Errorf("group %d: duplicate org_unit_id", g.ID)
		}
		parent[g.ID] = g.ParentID
		if g.Status == "" {
			g.Status = state.StatusActive
		}
		if !validStatus(g.Status) {
			return fmt.Errorf("group %d: unknown org_unit_status %q", g.ID, g.Status)
		}
		if strings.TrimSpace(g.Name) == "" {
			return fmt.Errorf("group %d: empty org_unit_name", g.ID)
		}
		if g.IndustryID != 0 && !inds[g.IndustryID] {
			return fmt.Errorf("group %d: industry_id %d is not in the industry list", g.ID, g.IndustryID)
		}
	}
	if st.TopGroupID == 0 {
		return errors.New("no top_group_id")
	}
	top, ok := parent[st.TopGroupID]
	if !ok {
		return fmt.Errorf("top_group_id %d names no group", st.TopGroupID)
	}
	if top != 0 {
		return fmt.Errorf("top group %d has a parent (%d)", st.TopGroupID, top)
	}
	// Every group must reach the top group. Memoize the groups known good.
	good := map[int64]bool{st.TopGroupID: true}
	for _, g := range st.Groups {
		var path []int64
		id := g.ID
		for !good[id] {
			p := parent[id]
			if p == 0 {
				return fmt.Errorf("group %d: not under the top group %d", g.ID, st.TopGroupID)
			}
			if _, ok := parent[p]; !ok {
				return fmt.Errorf("group %d: parent %d names no group", id, p)
			}
			path = append(path, id)
			if len(path) > len(parent) {
				return fmt.Errorf("group %d: its parents form a cycle", g.ID)
			}
			id = p
		}
		for _, p := range path {
			good[p] = true
		}
	}
	seenUser := make(map[int64]bool, len(st.Users))
	emails := make(map[string]int64, len(st.Users))
	for i := range st.Users {
		u := &st.Users[i]
		if u.ID <= 0 {
			return fmt.Errorf("user %q: ct_user_id must be positive", u.Email)
		}
		if seenUser[u.ID] {
			return fmt.Errorf("user %d: duplicate ct_user_id", u.ID)
		}
		seenUser[u.ID] = true
		if u.Status == "" {
			u.Status = state.StatusActive
		}
		if !validStatus(u.Status) {
			return fmt.Errorf("user %d: unknown status %q", u.ID, u.Status)
		}
		if u.Role == "" {
			return fmt.Errorf("user %d: no role", u.ID)
		}
		r, ok := state.ParseRole(string(u.Role))
		if !ok {
			return fmt.Errorf("user %d: unknown role %q", u.ID, u.Role)
		}
		u.Role = r
		if strings.TrimSpace(u.Email) == "" {
			return fmt.Errorf("user %d: empty email", u.ID)
		}
		if _, ok := parent[u.GroupID]; !ok {
			return fmt.Errorf("user %d: group_org_unit_id %d names no group", u.ID, u.GroupID)
		}
		if u.Status != state.StatusDeleted {
			k := EmailKey(u.Email)
			if other, dup := emails[k]; dup {
				return fmt.Errorf("users %d and %d share the email of a non-deleted user", other, u.ID)
			}
			emails[k] = u.ID
		}
	}
	return nil
}

func validStatus(s state.Status) bool {
	return s == state.StatusActive || s == state.StatusInactive || s == state.StatusDeleted
}

func (st State) clone() State {
	c := st
	c.Groups = slices.Clone(st.Groups)
	c.Users = slices.Clone(st.Users)
	for i := range c.Users {
		c.Users[i].Aliases = slices.Clone(c.Users[i].Aliases)
	}
	c.Industries = slices.Clone(st.Industries)
	return c
}

// Sort orders the groups, users and industries by id, as Write does.
func (st *State) Sort() {
	slices.SortFunc(st.Groups, func(a, b Group) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Users, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Industries, func(a, b Industry) int { return cmp.Compare(a.ID, b.ID) })
}

// FromCurrent turns what the client read from Convirza into a state
// file: the root becomes the top group (its parent is dropped), every group
// and user keeps its id and status. `convirza-sync export` writes this.
func FromCurrent(cs *state.CurrentState) State {
	st := State{Version: Version, TopGroupID: cs.RootID, Groups: []Group{}, Users: []User{}, Industries: []Industry{}}
	for _, g := range cs.Groups {
		sg := Group{
			ID: g.ID, ExtID: g.ExtID, Name: g.Name, ParentID: g.ParentID, Status: g.Status,
			BillingID: g.BillingID, Address: g.Address, City: g.City, State: g.State, Zip: g.Zip,
			Phone: g.Phone, IndustryID: g.IndustryID, Timezone: g.Timezone,
			Created: g.Created.UTC(), Modified: g.Modified.UTC(),
		}
		if g.ID == cs.RootID {
			sg.ParentID = 0
		}
		st.Groups = append(st.Groups, sg)
	}
	for _, u := range cs.Users {
		st.Users = append(st.Users, User{
			ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ExtID: u.ExtID,
			Status: u.Status, Role: u.Role, GroupID: u.GroupID, Created: u.Created.UTC(),
		})
	}
	for _, in := range cs.Industries {
		st.Industries = append(st.Industries, Industry{ID: in.ID, Name: in.Name})
	}
	st.Sort()
	return st
}

// Duplicates lists what a sync must never leave behind, among the objects
// that are not deleted: an ext id held by two groups, two siblings whose
// names are equal ignoring case and surrounding spaces, an email held by two
// users. Each entry says what and how many times, in a stable order; none
// means the state is clean.
func (st State) Duplicates() []string {
	type key struct{ what, k string }
	counts := map[key]int{}
	for _, g := range st.Groups {
		if g.Status == state.StatusDeleted {
			continue
		}
		if g.ExtID != "" {
			counts[key{"ext id", g.ExtID}]++
		}
		counts[key{"sibling name", fmt.Sprintf("%d/%s", g.ParentID, strings.ToLower(strings.TrimSpace(g.Name)))}]++
	}
	for _, u := range st.Users {
		if u.Status != state.StatusDeleted {
			counts[key{"email", strings.ToLower(u.Email)}]++
		}
	}
	var out []string
	for k, n := range counts {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s %q is there %d times", k.what, k.k, n))
		}
	}
	slices.Sort(out)
	return out
}

// EmailKey is the form in which emails are compared: trimmed, lower case.
func EmailKey(e string) string { return strings.ToLower(strings.TrimSpace(e)) }
