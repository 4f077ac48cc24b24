package plan

import (
	"fmt"
	"strconv"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// Drift is one before-value of a plan that no longer holds in Convirza.
type Drift struct {
	// ChangeID is the change it is about (0 for the plan as a whole) and
	// Change describes it ("update group ORG-1").
	ChangeID int    `json:"change"`
	Change   string `json:"change_desc"`
	// Kind and Key name the object checked: the change's own, or the group
	// it goes under.
	Kind Kind   `json:"kind"`
	Key  string `json:"key"`
	// Field is the field whose value moved; "" when the object itself is
	// in question (Planned and Now are then "present", "absent", "missing",
	// "deleted", "active", "inactive").
	Field   string `json:"field,omitempty"`
	Planned string `json:"planned"`
	Now     string `json:"now"`
}

// String renders the drift for people.
func (d Drift) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: the %s %s was %s when planned, now %s", d.Change, d.Kind, d.Key, d.Planned, d.Now)
	}
	return fmt.Sprintf("%s: %s %s: %s was %q when planned, now %q", d.Change, d.Kind, d.Key, d.Field, d.Planned, d.Now)
}

// CheckStale reports every before-value of the plan that no longer holds in
// current, a freshly read state: the plan's root, each changed field's
// Before, that each object changed is still there and not deleted (and,
// for a group delete, still has the ext id the plan names it by), that
// what a create makes is still absent, and that the existing group a create
// or a move goes under is still there and active. A field that an earlier
// change of the plan writes (the second rename of a swap) is compared by
// that change, not again. The result is in change order; none means the
// plan may be applied.
func CheckStale(p *Plan, current *state.CurrentState) []Drift {
	var out []Drift
	if p.Account.RootID != current.RootID {
		out = append(out, Drift{Change: "plan", Kind: KindGroup, Key: "root", Field: "root_id",
			Planned: strconv.FormatInt(p.Account.RootID, 10), Now: strconv.FormatInt(current.RootID, 10)})
	}
	x := newStateIndex(current)
	x.region = p.PhoneRegion
	type fieldOf struct {
		kind  Kind
		id    int64
		field string
	}
	touched := map[fieldOf]bool{}
	for i := range p.Changes {
		c := &p.Changes[i]
		fresh := func(field string) bool { return !touched[fieldOf{c.Kind, c.ObjectID, field}] }
		out = append(out, x.check(c, fresh)...)
		for _, f := range c.Fields {
			touched[fieldOf{c.Kind, c.ObjectID, f.Field}] = true
		}
		if c.Action == Deactivate || c.Action == Reactivate {
			touched[fieldOf{c.Kind, c.ObjectID, FieldUserStatus}] = true
		}
	}
	return out
}

// stateIndex finds the objects of a current state.
type stateIndex struct {
	groups       map[int64]*state.Group
	groupsByExt  map[string]*state.Group // not deleted
	users        map[int64]*state.User
	usersByEmail map[string]*state.User // not deleted
	usersByExt   map[string]*state.User // not deleted
	region       string                 // the plan's phone region
}

func newStateIndex(current *state.CurrentState) *stateIndex {
	x := &stateIndex{
		groups:       make(map[int64]*state.Group, len(current.Groups)),
		groupsByExt:  map[string]*state.Group{},
		users:        make(map[int64]*state.User, len(current.Users)),
		usersByEmail: map[string]*state.User{},
		usersByExt:   map[string]*state.User{},
	}
	for i := range current.Groups {
		g := &current.Groups[i]
		x.groups[g.ID] = g
		if g.ExtID != "" && g.Status != state.StatusDeleted {
			x.groupsByExt[normalize.ExtIDKey(g.ExtID)] = g
		}
	}
	for i := range current.Users {
		u := &current.Users[i]
		x.users[u.ID] = u
		if u.Status == state.StatusDeleted {
			continue
		}
		x.usersByEmail[normalize.EmailKey(u.Email)] = u
		if u.ExtID != "" {
			x.usersByExt[normalize.UserExtIDKey(u.ExtID)] = u
		}
	}
	return x
}

// check returns the drifts of one change; fresh reports whether no earlier
// change of the plan writes that field of the change's object.
func (x *stateIndex) check(c *Change, fresh func(field string) bool) []Drift {
	var out []Drift
	drift := func(kind Kind, key, field, planned, now string) {
		out = append(out, Drift{ChangeID: c.ID, Change: fmt.Sprintf("change %d (%s)", c.ID, c.Describe()),
			Kind: kind, Key: key, Field: field, Planned: planned, Now: now})
	}
	// The group the object goes under, when it exists already.
	if c.Parent.ID != 0 && (c.Action == Create || c.Action == Move) {
		g, ok := x.groups[c.Parent.ID]
		switch {
		case !ok:
			drift(KindGroup, c.Parent.String(), "", "active", "missing")
		case !g.Active():
			drift(KindGroup, c.Parent.String(), "", "active", string(g.Status))
		}
	}
	if c.Action == Create {
		if c.Kind == KindGroup {
			if g, ok := x.groupsByExt[normalize.ExtIDKey(c.CreateKey())]; ok {
				drift(c.Kind, c.Key, "", "absent", fmt.Sprintf("present (id %d)", g.ID))
			}
			return out
		}
		if f, ok := c.Field(FieldUsername); ok {
			if u, ok := x.usersByEmail[normalize.EmailKey(f.After)]; ok {
				drift(c.Kind, c.Key, "", "absent", fmt.Sprintf("present (id %d)", u.ID))
				return out
			}
		}
		if f, ok := c.Field(FieldUserExtID); ok && f.After != "" {
			if u, ok := x.usersByExt[normalize.UserExtIDKey(f.After)]; ok {
				drift(c.Kind, c.Key, "", "absent", fmt.Sprintf("present (id %d)", u.ID))
			}
		}
		return out
	}
	if c.ObjectID == 0 {
		// An object this plan creates: nothing to compare yet.
		return out
	}
	var value func(field string) (string, bool)
	var status state.Status
	var ok bool
	var g *state.Group
	switch c.Kind {
	case KindGroup:
		if g, ok = x.groups[c.ObjectID]; ok {
			status = g.Status
			value = func(f string) (string, bool) { return groupValue(g, f) }
		}
	case KindUser:
		var u *state.User
		if u, ok = x.users[c.ObjectID]; ok {
			status = u.Status
			value = func(f string) (string, bool) { return userValue(u, f) }
		}
	default:
		return out
	}
	switch {
	case !ok:
		drift(c.Kind, c.Key, "", "present", "missing")
		return out
	case status == state.StatusDeleted:
		drift(c.Kind, c.Key, "", "present", "deleted")
		return out
	}
	// A delete carries no field, so its key is its before-value: the group
	// it deletes still has the ext id the plan names it by (a delete cannot
	// be undone, and must not land on another group than the one shown).
	if c.Action == Delete && g != nil && fresh(FieldExtID) && normalize.ExtIDKey(g.ExtID) != normalize.ExtIDKey(c.Key) {
		drift(c.Kind, c.Key, FieldExtID, c.Key, g.ExtID)
	}
	for _, f := range c.Fields {
		if now, known := value(f.Field); known && fresh(f.Field) && !sameValue(f.Field, f.Before, now, x.region) {
			drift(c.Kind, c.Key, f.Field, f.Before, now)
		}
	}
	if _, has := c.Field(FieldUserStatus); c.Kind == KindUser && !has && fresh(FieldUserStatus) {
		active := status == state.StatusActive || status == ""
		switch {
		case c.Action == Deactivate && !active:
			drift(c.Kind, c.Key, "", "active", string(status))
		case c.Action == Reactivate && active:
			drift(c.Kind, c.Key, "", "inactive", string(state.StatusActive))
		}
	}
	return out
}

// groupValue is a group's value of a request field, as text.
func groupValue(g *state.Group, field string) (string, bool) {
	switch field {
	case FieldName:
		return g.Name, true
	case FieldExtID:
		return g.ExtID, true
	case FieldParent:
		return fmtID(g.ParentID), true
	case FieldAddress:
		return g.Address, true
	case FieldCity:
		return g.City, true
	case FieldState:
		return g.State, true
	case FieldZip:
		return g.Zip, true
	case FieldPhone:
		return g.Phone, true
	case FieldIndustryID:
		return fmtID(g.IndustryID), true
	}
	return "", false
}

// userValue is a user's value of a request field, as text.
func userValue(u *state.User, field string) (string, bool) {
	switch field {
	case FieldUsername:
		return u.Email, true
	case FieldFirstName:
		return u.FirstName, true
	case FieldLastName:
		return u.LastName, true
	case FieldRole:
		return string(u.Role), true
	case FieldUserGroup:
		return fmtID(u.GroupID), true
	case FieldUserExtID:
		return u.ExtID, true
	case FieldUserStatus:
		if u.Status == "" {
			return string(state.StatusActive), true
		}
		return string(u.Status), true
	}
	return "", false
}
