package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// model is an in-memory Convirza that applies a plan's changes one at a
// time and enforces what the API enforces: a parent that exists and is
// active, sibling names unique (ignoring case and surrounding spaces), no
// parent cycle, no delete of a group that still holds active groups or
// users. It also checks what apply checks (every before-value still holds)
// and the plan's own promises: no PATCH carries an unchanged field, no
// change runs before one it depends on.
type model struct {
	root    int64
	groups  map[int64]*state.Group
	users   map[int64]*state.User
	nextID  int64
	byKey   map[string]int64 // a created group's ext id -> its new id
	done    map[int]bool
	region  string
	steps   int
	applied []int
}

func newModel(c *state.CurrentState) *model {
	m := &model{root: c.RootID, groups: map[int64]*state.Group{}, users: map[int64]*state.User{}, nextID: 100000, byKey: map[string]int64{}, done: map[int]bool{}}
	for i := range c.Groups {
		g := c.Groups[i]
		m.groups[g.ID] = &g
	}
	for i := range c.Users {
		u := c.Users[i]
		m.users[u.ID] = &u
	}
	return m
}

// state exports the model as a CurrentState: the root first, then its
// subtree breadth-first, in id order; deleted groups are left out, as the
// listings leave them out.
func (m *model) state(base *state.CurrentState) *state.CurrentState {
	out := &state.CurrentState{RootID: m.root, CallerUserID: base.CallerUserID, Industries: base.Industries}
	kids := map[int64][]int64{}
	ids := make([]int64, 0, len(m.groups))
	for id := range m.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if g := m.groups[id]; g.Status != state.StatusDeleted && id != m.root {
			kids[g.ParentID] = append(kids[g.ParentID], id)
		}
	}
	queue := []int64{m.root}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		out.Groups = append(out.Groups, *m.groups[id])
		queue = append(queue, kids[id]...)
	}
	uids := make([]int64, 0, len(m.users))
	for id := range m.users {
		uids = append(uids, id)
	}
	slices.Sort(uids)
	for _, id := range uids {
		if u := m.users[id]; u.Status != state.StatusDeleted {
			out.Users = append(out.Users, *u)
		}
	}
	return out
}

func siblingKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (m *model) alive(id int64) (*state.Group, bool) {
	g, ok := m.groups[id]
	return g, ok && g.Status != state.StatusDeleted
}

// resolve finds the group a ref names, a symbolic one through the creates
// applied so far.
func (m *model) resolve(r Ref) (int64, error) {
	if r.ID != 0 {
		return r.ID, nil
	}
	id, ok := m.byKey[r.ExtID]
	if !ok {
		return 0, fmt.Errorf("group %q is not created yet", r.ExtID)
	}
	return id, nil
}

func (m *model) checkParent(id int64) error {
	g, ok := m.alive(id)
	if !ok {
		return fmt.Errorf("parent %d does not exist", id)
	}
	if !g.Active() {
		return fmt.Errorf("parent %d is %s", id, g.Status)
	}
	return nil
}

// checkSiblings enforces unique names among the live children of parent.
func (m *model) checkSiblings(parent int64) error {
	seen := map[string]int64{}
	for id, g := range m.groups {
		if g.Status == state.StatusDeleted || g.ParentID != parent || id == m.root {
			continue
		}
		k := siblingKey(g.Name)
		if other, dup := seen[k]; dup {
			return fmt.Errorf("groups %d and %d are both named %q under %d", min(id, other), max(id, other), g.Name, parent)
		}
		seen[k] = id
	}
	return nil
}

func (m *model) apply(c *Change) error {
	for _, a := range c.After {
		if !m.done[a] {
			return fmt.Errorf("change %d runs before change %d it depends on", c.ID, a)
		}
	}
	var err error
	switch c.Kind {
	case KindGroup:
		err = m.applyGroup(c)
	case KindUser:
		err = m.applyUser(c)
	default:
		err = fmt.Errorf("unknown kind %q", c.Kind)
	}
	if err != nil {
		return fmt.Errorf("change %d (%s %s %s): %w", c.ID, c.Action, c.Kind, c.Key, err)
	}
	m.done[c.ID] = true
	m.steps++
	m.applied = append(m.applied, c.ID)
	return nil
}

func setGroupField(g *state.Group, field, v string) error {
	switch field {
	case FieldName:
		g.Name = v
	case FieldExtID:
		g.ExtID = v
	case FieldParent:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		g.ParentID = id
	case FieldAddress:
		g.Address = v
	case FieldCity:
		g.City = v
	case FieldState:
		g.State = v
	case FieldZip:
		g.Zip = v
	case FieldPhone:
		g.Phone = v
	case FieldIndustryID:
		id, _ := strconv.ParseInt(v, 10, 64)
		g.IndustryID = id
	default:
		return fmt.Errorf("field %q is not writable", field)
	}
	return nil
}

func (m *model) applyGroup(c *Change) error {
	switch c.Action {
	case Create:
		parent, err := m.resolve(c.Parent)
		if err != nil {
			return err
		}
		if err := m.checkParent(parent); err != nil {
			return err
		}
		m.nextID++
		g := &state.Group{ID: m.nextID, ParentID: parent, Status: state.StatusActive}
		for _, f := range c.Fields {
			if f.Field == FieldParent {
				if f.After != "" && f.After != fmtID(parent) {
					return fmt.Errorf("parent field %q and ref %d disagree", f.After, parent)
				}
				continue
			}
			if err := setGroupField(g, f.Field, f.After); err != nil {
				return err
			}
		}
		if g.ExtID == "" || g.Name == "" {
			return fmt.Errorf("create without ext id or name")
		}
		m.groups[g.ID] = g
		m.byKey[g.ExtID] = g.ID
		return m.checkSiblings(parent)
	case Update, Adopt, Rename, Move:
		g, ok := m.alive(c.ObjectID)
		if !ok {
			return fmt.Errorf("group %d does not exist", c.ObjectID)
		}
		if len(c.Fields) == 0 {
			return fmt.Errorf("empty PATCH")
		}
		for _, f := range c.Fields {
			cur, ok := groupValue(g, f.Field)
			if !ok {
				return fmt.Errorf("unknown field %q", f.Field)
			}
			if cur != f.Before {
				return fmt.Errorf("field %s is %q, the plan expected %q", f.Field, cur, f.Before)
			}
			after := f.After
			if f.Field == FieldParent {
				id, err := m.resolve(c.Parent)
				if err != nil {
					return err
				}
				if after != "" && after != fmtID(id) {
					return fmt.Errorf("parent field %q and ref %d disagree", after, id)
				}
				after = fmtID(id)
				if err := m.checkParent(id); err != nil {
					return err
				}
				for x := id; x != 0; x = m.groups[x].ParentID {
					if x == g.ID {
						return fmt.Errorf("moving %d under %d makes a cycle", g.ID, id)
					}
					if x == m.root {
						break
					}
				}
			}
			if sameValue(f.Field, cur, after, m.region) {
				return fmt.Errorf("PATCH carries unchanged field %s (%q -> %q)", f.Field, cur, after)
			}
			if err := setGroupField(g, f.Field, after); err != nil {
				return err
			}
		}
		if err := m.checkSiblings(g.ParentID); err != nil {
			return err
		}
		return nil
	case Delete:
		g, ok := m.alive(c.ObjectID)
		if !ok {
			return fmt.Errorf("group %d does not exist", c.ObjectID)
		}
		if c.ObjectID == m.root {
			return fmt.Errorf("the root is deleted")
		}
		for _, ch := range m.groups {
			if ch.ParentID == g.ID && ch.Status == state.StatusActive && ch.ID != m.root {
				return fmt.Errorf("group %d still has active child %d", g.ID, ch.ID)
			}
		}
		for _, u := range m.users {
			if u.GroupID == g.ID && u.Active() {
				return fmt.Errorf("group %d still has active user %d", g.ID, u.ID)
			}
		}
		g.Status = state.StatusDeleted
		return nil
	}
	return fmt.Errorf("action %s on a group", c.Action)
}

func userField(u *state.User, field string) (string, bool) {
	switch field {
	case FieldUsername:
		return u.Email, true
	case FieldFirstName:
		return u.FirstName, true
	case FieldLastName:
		return u.LastName, true
	case FieldRole:
		if r, ok := state.ParseRole(string(u.Role)); ok {
			return r.APIName(), true
		}
		return string(u.Role), true
	case FieldUserGroup:
		return fmtID(u.GroupID), true
	case FieldUserExtID:
		return u.ExtID, true
	case FieldUserStatus:
		return string(u.Status), true
	}
	return "", false
}

func (m *model) setUserField(u *state.User, c *Change, f FieldChange) error {
	switch f.Field {
	case FieldUsername:
		u.Email = f.After
	case FieldFirstName:
		u.FirstName = f.After
	case FieldLastName:
		u.LastName = f.After
	case FieldRole:
		r, ok := state.ParseRole(f.After)
		if !ok {
			return fmt.Errorf("bad role %q", f.After)
		}
		u.Role = r
	case FieldUserGroup:
		id, err := m.resolve(c.Parent)
		if err != nil {
			return err
		}
		if f.After != "" && f.After != fmtID(id) {
			return fmt.Errorf("group field %q and ref %d disagree", f.After, id)
		}
		if err := m.checkParent(id); err != nil {
			return err
		}
		u.GroupID = id
	case FieldUserExtID:
		u.ExtID = f.After
	case FieldUserStatus:
		u.Status = state.Status(f.After)
	default:
		return fmt.Errorf("field %q is not writable", f.Field)
	}
	return nil
}

func (m *model) applyUser(c *Change) error {
	switch c.Action {
	case Create:
		if !c.NewUser {
			return fmt.Errorf("a user create without NewUser")
		}
		m.nextID++
		u := &state.User{ID: m.nextID, Status: state.StatusActive}
		for _, f := range c.Fields {
			if err := m.setUserField(u, c, f); err != nil {
				return err
			}
		}
		for _, o := range m.users {
			if o.Status != state.StatusDeleted && strings.EqualFold(o.Email, u.Email) {
				return fmt.Errorf("username %s is taken by user %d", u.Email, o.ID)
			}
		}
		m.users[u.ID] = u
		return nil
	case Update, Reactivate, Deactivate:
		u, ok := m.users[c.ObjectID]
		if !ok || u.Status == state.StatusDeleted {
			return fmt.Errorf("user %d does not exist", c.ObjectID)
		}
		if len(c.Fields) == 0 {
			return fmt.Errorf("empty PATCH")
		}
		for _, f := range c.Fields {
			cur, ok := userField(u, f.Field)
			if !ok {
				return fmt.Errorf("unknown field %q", f.Field)
			}
			if cur != f.Before {
				return fmt.Errorf("field %s is %q, the plan expected %q", f.Field, cur, f.Before)
			}
			after := f.After
			if f.Field == FieldUserGroup && after == "" {
				id, err := m.resolve(c.Parent)
				if err != nil {
					return err
				}
				after = fmtID(id)
			}
			if sameValue(f.Field, cur, after, m.region) {
				return fmt.Errorf("PATCH carries unchanged field %s (%q -> %q)", f.Field, cur, after)
			}
			if err := m.setUserField(u, c, f); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("action %s on a user", c.Action)
}
