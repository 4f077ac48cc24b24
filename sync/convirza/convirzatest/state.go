package convirzatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// StateVersion is the version of the state file this package reads and writes.
const StateVersion = 1

// maxStateBytes caps the size of a state file LoadState reads (256 MiB).
const maxStateBytes = 256 << 20

// State is the sandbox's whole content, in the versioned state.json format
// described in the package documentation.
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

// ErrStateVersion is wrapped by the error for a state file of another version.
var ErrStateVersion = errors.New("unsupported state file version")

// ReadState decodes and validates a state file. It refuses another version,
// unknown fields, trailing data and a broken tree.
func ReadState(r io.Reader) (State, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStateBytes+1))
	if err != nil {
		return State{}, fmt.Errorf("read state file: %w", err)
	}
	if len(data) > maxStateBytes {
		return State{}, fmt.Errorf("read state file: larger than %d bytes", maxStateBytes)
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
		return State{}, fmt.Errorf("read state file: %w: no \"version\" field (this build reads version %d)", ErrStateVersion, StateVersion)
	}
	if *head.Version != StateVersion {
		return State{}, fmt.Errorf("read state file: %w: version %d (this build reads version %d)", ErrStateVersion, *head.Version, StateVersion)
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
		c.Version = StateVersion
	}
	c.sort()
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

// Validate checks that the state is one the sandbox can serve: the version,
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
	if st.Version != StateVersion {
		return fmt.Errorf("%w: version %d (this build reads version %d)", ErrStateVersion, st.Version, StateVersion)
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
			k := emailKey(u.Email)
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

func (st *State) sort() {
	slices.SortFunc(st.Groups, func(a, b Group) int { return cmpInt(a.ID, b.ID) })
	slices.SortFunc(st.Users, func(a, b User) int { return cmpInt(a.ID, b.ID) })
	slices.SortFunc(st.Industries, func(a, b Industry) int { return cmpInt(a.ID, b.ID) })
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DefaultIndustries is the industry reference list of DefaultState.
func DefaultIndustries() []Industry {
	names := []string{
		"Automotive", "Healthcare", "Restaurants", "Home Services", "Legal",
		"Real Estate", "Financial Services", "Insurance", "Education", "Technology",
		"Retail", "Hospitality", "Travel", "Marketing & Advertising", "Construction",
		"Manufacturing", "Telecommunications", "Dental", "Fitness", "Other",
	}
	out := make([]Industry, len(names))
	for i, n := range names {
		out[i] = Industry{ID: int64(i + 1), Name: n}
	}
	return out
}

// DefaultTopGroupID is the id of DefaultState's top group.
const DefaultTopGroupID = 1001

// stateEpoch is the creation time of DefaultState's top group.
var stateEpoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

// DefaultState is a fresh account: the top group "Acme Corp" (id 1001, ext id
// "ACME"), no other group, no user, and DefaultIndustries.
func DefaultState() State {
	return State{
		Version:    StateVersion,
		TopGroupID: DefaultTopGroupID,
		Groups: []Group{{
			ID: DefaultTopGroupID, ExtID: "ACME", Name: "Acme Corp", Status: state.StatusActive,
			BillingID: 5001, Address: "100 Main St", City: "Boston", State: "MA", Zip: "02110",
			Phone: "+16175550100", IndustryID: 10, Timezone: "America/New_York",
			Created: stateEpoch, Modified: stateEpoch,
		}},
		Users:      []User{},
		Industries: DefaultIndustries(),
	}
}

// StateFromCurrent turns what the client read from Convirza into a state
// file: the root becomes the top group (its parent is dropped), every group
// and user keeps its id and status. `convirza-sync export` writes this.
func StateFromCurrent(cs *state.CurrentState) State {
	st := State{Version: StateVersion, TopGroupID: cs.RootID, Groups: []Group{}, Users: []User{}, Industries: []Industry{}}
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
	st.sort()
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
