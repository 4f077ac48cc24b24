package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Builders for small states. The root is group 1, "Root", ext id "ROOT".

func ptr[T any](v T) *T { return &v }

func grp(id, parent int64, ext, name string) state.Group {
	return state.Group{ID: id, ParentID: parent, ExtID: ext, Name: name, Status: state.StatusActive}
}

func inactive(g state.Group) state.Group {
	g.Status = state.StatusInactive
	return g
}

func cur(groups ...state.Group) *state.CurrentState {
	all := append([]state.Group{{ID: 1, ExtID: "ROOT", Name: "Root", Status: state.StatusActive}}, groups...)
	return &state.CurrentState{RootID: 1, Groups: all, Industries: []state.Industry{
		{ID: 10, Name: "Technology"}, {ID: 11, Name: "Healthcare"}, {ID: 12, Name: "Restaurants"},
	}}
}

func withUsers(c *state.CurrentState, users ...state.User) *state.CurrentState {
	c.Users = append(c.Users, users...)
	return c
}

func usr(id, group int64, email string, role state.Role) state.User {
	return state.User{ID: id, GroupID: group, Email: email, FirstName: "F" + fmt.Sprint(id), LastName: "L" + fmt.Sprint(id), Role: role, Status: state.StatusActive}
}

func dg(ext, name, parent string) state.DesiredGroup {
	return state.DesiredGroup{ExtID: ext, Name: name, ParentExtID: parent}
}

// des numbers the rows from line 2 of groups.csv (and users.csv).
func des(groups ...state.DesiredGroup) *state.DesiredState {
	for i := range groups {
		groups[i].Source = state.Source{File: "groups.csv", Line: i + 2}
	}
	return &state.DesiredState{GroupsManaged: true, Groups: groups}
}

func withDesiredUsers(d *state.DesiredState, users ...state.DesiredUser) *state.DesiredState {
	for i := range users {
		users[i].Source = state.Source{File: "users.csv", Line: i + 2}
	}
	d.UsersManaged = true
	d.Users = append(d.Users, users...)
	return d
}

func du(email, group string) state.DesiredUser {
	return state.DesiredUser{Email: email, GroupExtID: ptr(group)}
}

// nu is a row for a new user: du with the first and last name a create
// needs.
func nu(email, group string) state.DesiredUser {
	u := du(email, group)
	u.FirstName, u.LastName = ptr("New"), ptr("User")
	return u
}

// summary renders a plan's changes, refusals and invalid rows one a line,
// for go-cmp diffs that read like the plan.
func summary(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, changeLine(c))
	}
	for _, c := range p.Refused {
		out = append(out, "refused "+changeLine(c)+": "+c.Reason)
	}
	for _, pr := range p.Invalid {
		out = append(out, fmt.Sprintf("invalid %s %s [%s]: %s", pr.Kind, pr.Key, pr.Column, pr.Message))
	}
	return out
}

func changeLine(c Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s %s", c.ID, c.Action, c.Kind, c.Key)
	var fs []string
	for _, f := range c.Fields {
		if c.Action == Create {
			fs = append(fs, f.Field+"="+f.After)
		} else {
			fs = append(fs, f.Field+":"+f.Before+"->"+f.After)
		}
	}
	if len(fs) > 0 {
		fmt.Fprintf(&b, " {%s}", strings.Join(fs, " "))
	}
	if c.Parent.ID == 0 && c.Parent.ExtID != "" {
		fmt.Fprintf(&b, " under new %s", c.Parent.ExtID)
	}
	if len(c.After) > 0 {
		fmt.Fprintf(&b, " after %v", c.After)
	}
	return b.String()
}

func mustPlan(t *testing.T, d *state.DesiredState, c *state.CurrentState, o Options) *Plan {
	t.Helper()
	p, err := Calculate(d, c, o)
	if err != nil {
		t.Fatalf("Calculate: %v", err)
	}
	return p
}
