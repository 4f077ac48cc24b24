package convirzatest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// AddGroup creates a group under parentID through the API's own rules (the
// parent exists and is active, the name is free among its siblings, the
// industry is known), with the top group's admin as the caller. Unlike the
// API it honours g.ID (when not 0), g.Status (active, inactive or deleted),
// g.Created and g.Modified, so that tests can seed any shape; g.ParentID is
// ignored in favour of parentID.
func (s *Sandbox) AddGroup(parentID int64, g Group) (int64, error) {
	status := g.Status
	if status == "" {
		status = state.StatusActive
	}
	if !validStatus(status) {
		return 0, fmt.Errorf("add group %q under %d: unknown status %q", g.Name, parentID, status)
	}
	in := groupInput{
		name: &g.Name, extID: &g.ExtID, address: &g.Address, city: &g.City, st: &g.State,
		zip: &g.Zip, phone: &g.Phone, parentID: &parentID,
	}
	if g.IndustryID != 0 {
		in.industryID = &g.IndustryID
	}
	if g.Timezone != "" {
		in.timezone = &g.Timezone
	}
	if g.BillingID != 0 {
		in.billingID = &g.BillingID
	}
	now := time.Now()
	if !g.Created.IsZero() {
		now = g.Created
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.createGroupLocked(s.top, in, status, Shapes{}, now, g.ID)
	if err != nil {
		return 0, fmt.Errorf("add group %q under %d: %w", g.Name, parentID, err)
	}
	if !g.Modified.IsZero() {
		s.groups[id].Modified = g.Modified.UTC()
	}
	return id, nil
}

// AddUser creates a user in groupID through the API's own rules (a valid
// and free email, both names, an active group). Unlike the API it honours
// u.ID (when not 0), u.Status (active, inactive or deleted) and u.Created; an
// empty u.Role means standard. u.GroupID is ignored in favour of groupID.
func (s *Sandbox) AddUser(groupID int64, u User) (int64, error) {
	role := u.Role
	if role == "" {
		role = state.RoleStandard
	}
	r, ok := state.ParseRole(string(role))
	if !ok {
		return 0, fmt.Errorf("add user %q: unknown role %q", u.Email, u.Role)
	}
	status := u.Status
	if status == "" {
		status = state.StatusActive
	}
	if !validStatus(status) {
		return 0, fmt.Errorf("add user %q: unknown status %q", u.Email, status)
	}
	live := state.StatusActive
	if status == state.StatusInactive {
		live = state.StatusInactive
	}
	in := userInput{
		username: &u.Email, firstName: &u.FirstName, lastName: &u.LastName, extID: &u.ExtID,
		timezone: &u.Timezone, ringTo: &u.AgentRingTo, agentCode: &u.AgentCode, groupID: &groupID,
		role: &r, status: &live, scoreCall: &u.ScoreCall, accessAudio: &u.AccessAudio,
	}
	if u.Aliases != nil {
		in.aliases = &u.Aliases
	}
	now := time.Now()
	if !u.Created.IsZero() {
		now = u.Created
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.createUserLocked(s.top, in, now, u.ID)
	if err != nil {
		return 0, fmt.Errorf("add user %q to group %d: %w", u.Email, groupID, err)
	}
	if status == state.StatusDeleted {
		nu := s.users[id]
		nu.Status = state.StatusDeleted
		delete(s.emails, emailKey(nu.Email))
	}
	return id, nil
}

// SetGroupStatus changes a group's status, as an operator does in
// Convirza's web UI (the API cannot). Deleting follows the API's rule (no
// live child group, no active user); the top group keeps its status; a group
// that comes back from deleted must not clash with a live sibling's name.
func (s *Sandbox) SetGroupStatus(id int64, status state.Status) error {
	if !validStatus(status) {
		return fmt.Errorf("set status of group %d: unknown status %q", id, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	switch {
	case g == nil:
		return fmt.Errorf("set status of group %d: %w", id, errf(http.StatusNotFound, "org unit %d not found", id))
	case id == s.top:
		return fmt.Errorf("set status of group %d: the top group keeps its status", id)
	case g.Status == status:
		return nil
	}
	if status == state.StatusDeleted {
		for _, ch := range s.children[id] {
			if s.groups[ch].Status != state.StatusDeleted {
				return fmt.Errorf("set status of group %d: it still has the live child group %d", id, ch)
			}
		}
		for _, uid := range s.usersByGroup[id] {
			if s.users[uid].Status == state.StatusActive {
				return fmt.Errorf("set status of group %d: it still has the active user %d", id, uid)
			}
		}
	}
	if g.Status == state.StatusDeleted && s.nameTakenLocked(g.ParentID, id, g.Name) {
		return fmt.Errorf("set status of group %d: a live sibling already uses the name %q", id, g.Name)
	}
	g.Status = status
	g.Modified = time.Now().UTC().Truncate(time.Millisecond)
	s.version++
	return nil
}

// GenSpec describes a generated account for benchmarks and paging tests.
type GenSpec struct {
	// PerLevel[i] is the number of groups on level i+1 below the top group.
	// The groups of one level are dealt round-robin over the groups of the
	// level above, so fan-out is even. When PerLevel is empty, Depth levels
	// with Fanout children per group are made instead.
	PerLevel      []int
	Depth, Fanout int
	// Users are dealt round-robin over the generated groups (over the top
	// group when there is none). Every 20th user is an admin, every 7th
	// other one read-only, the rest standard.
	Users int
	// InactiveEvery makes every n-th generated group inactive (0 = none).
	// Its subtree stays active, as it may in Convirza.
	InactiveEvery int
	// InactiveUsersEvery makes every n-th user inactive (0 = none).
	InactiveUsersEvery int
}

var (
	genFirst = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
		"David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah"}
	genLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
		"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor"}
	genCities = []struct{ city, st, zip, area string }{
		{"Boston", "MA", "02110", "617"}, {"New York", "NY", "10001", "212"}, {"Chicago", "IL", "60601", "312"},
		{"Austin", "TX", "78701", "512"}, {"Denver", "CO", "80202", "303"}, {"Seattle", "WA", "98101", "206"},
		{"Atlanta", "GA", "30303", "404"}, {"Phoenix", "AZ", "85004", "602"}, {"Miami", "FL", "33130", "305"},
	}
)

// Generate builds a deterministic account on top of DefaultState: the same
// spec always gives the same ids, names and timestamps. Group ids follow
// the top group (1002, 1003, ...), level by level; ext ids are "GEN-000001"
// and so on; user emails are "user000001@example.com" and so on, with ids
// from 10001. Generating 5,000 groups and 20,000 users takes milliseconds.
func Generate(spec GenSpec) State {
	st := DefaultState()
	levels := spec.PerLevel
	if len(levels) == 0 && spec.Depth > 0 && spec.Fanout > 0 {
		n := 1
		for range spec.Depth {
			n *= spec.Fanout
			levels = append(levels, n)
		}
	}
	total := 0
	for _, n := range levels {
		total += max(n, 0)
	}
	st.Groups = append(make([]Group, 0, total+1), st.Groups...)
	prev := []int64{st.TopGroupID}
	next := int64(st.TopGroupID + 1)
	seq := 0
	var generated []int64
	for lvl, n := range levels {
		cur := make([]int64, 0, max(n, 0))
		for i := range max(n, 0) {
			seq++
			c := genCities[seq%len(genCities)]
			created := stateEpoch.Add(time.Duration(seq) * time.Minute)
			g := Group{
				ID: next, ExtID: fmt.Sprintf("GEN-%06d", seq), Name: fmt.Sprintf("L%d Group %06d", lvl+1, seq),
				ParentID: prev[i%len(prev)], Status: state.StatusActive, BillingID: 5001,
				Address: fmt.Sprintf("%d Commerce Way", 100+seq%900), City: c.city, State: c.st, Zip: c.zip,
				Phone:      fmt.Sprintf("+1%s555%04d", c.area, seq%10000),
				IndustryID: int64(seq%20 + 1), Timezone: "America/New_York", Created: created, Modified: created,
			}
			if spec.InactiveEvery > 0 && seq%spec.InactiveEvery == 0 {
				g.Status = state.StatusInactive
			}
			st.Groups = append(st.Groups, g)
			cur = append(cur, next)
			generated = append(generated, next)
			next++
		}
		if len(cur) == 0 {
			break
		}
		prev = cur
	}
	if len(generated) == 0 {
		generated = []int64{st.TopGroupID}
	}
	st.Users = make([]User, 0, max(spec.Users, 0))
	for i := range max(spec.Users, 0) {
		n := i + 1
		role := state.RoleStandard
		switch {
		case n%20 == 0:
			role = state.RoleAdmin
		case n%7 == 0:
			role = state.RoleReadOnly
		}
		u := User{
			ID: int64(10000 + n), Email: fmt.Sprintf("user%06d@example.com", n),
			FirstName: genFirst[i%len(genFirst)], LastName: genLast[(i/len(genFirst))%len(genLast)],
			ExtID: fmt.Sprintf("EMP-%06d", n), Status: state.StatusActive, Role: role,
			GroupID: generated[i%len(generated)], Created: stateEpoch.Add(time.Duration(n) * time.Second),
		}
		if spec.InactiveUsersEvery > 0 && n%spec.InactiveUsersEvery == 0 {
			u.Status = state.StatusInactive
		}
		st.Users = append(st.Users, u)
	}
	return st
}
