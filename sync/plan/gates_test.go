package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func gateNamed(p *Plan, name string) Gate {
	for _, g := range p.Gates {
		if g.Name == name {
			return g
		}
	}
	return Gate{}
}

// Groups and the users in them all change in place: one change per object,
// so the max-changes gate counts exactly the summary's changes. A group
// that changes does not hide the users in it.
func TestGateCountsWhatTheSummaryCounts(t *testing.T) {
	c := cur()
	d := des()
	var users []state.User
	var dusers []state.DesiredUser
	for g := range 5 {
		ext := fmt.Sprintf("G%d", g)
		gr := grp(int64(10+g), 1, ext, "Group "+ext)
		gr.City = "Boston"
		c.Groups = append(c.Groups, gr)
		dgr := dg(ext, "Group "+ext, "")
		dgr.City = ptr("Cambridge") // every group changes
		d.Groups = append(d.Groups, dgr)
		for u := range 3 {
			email := fmt.Sprintf("u%d.%d@example.com", g, u)
			cu := usr(int64(100+10*g+u), int64(10+g), email, state.RoleStandard)
			cu.FirstName = "Old"
			users = append(users, cu)
			du := du(email, ext)
			du.FirstName = ptr("New") // and every user in it
			dusers = append(dusers, du)
		}
	}
	c = withUsers(c, users...)
	d = withDesiredUsers(d, dusers...)
	p := mustPlan(t, d, c, Options{MaxChanges: CountLimit(1000)})
	if len(p.Changes) != 20 {
		t.Fatalf("want 20 changes (5 groups, 15 users), got %d:\n%v", len(p.Changes), summary(p))
	}
	if g := gateNamed(p, "max-changes"); g.Count != len(p.Changes) {
		t.Errorf("max-changes counts %d objects; the summary counts %d changes", g.Count, len(p.Changes))
	}
	// A gate whose limit is below the real count trips.
	p = mustPlan(t, d, c, Options{MaxChanges: CountLimit(19)})
	if g := gateNamed(p, "max-changes"); !g.Tripped {
		t.Errorf("max-changes 19 over 20 changed objects did not trip: %+v", g)
	}
}

// For generated plans, the gates count each object once: an object changed
// in place, or every group and user of the current subtree of a group that
// is deleted (max-deletes, max-changes) or moved (max-changes), plus every
// deactivated user (max-deletes). The count is made here from the plan and
// the current state alone, and must be the gate's.
func TestGateCountProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(*propSeed, 11))
	runs := max(*propRuns/2, 50)
	nonzero := 0
	for run := range runs {
		sc := genScenario(r, 30)
		p, err := Calculate(sc.des, sc.cur, sc.opts)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for _, deletesOnly := range []bool{false, true} {
			name := "max-changes"
			if deletesOnly {
				name = "max-deletes"
			}
			want := objectsTouched(p, sc.cur, deletesOnly)
			if got := gateNamed(p, name).Count; got != want {
				t.Fatalf("run %d: %s counts %d, the objects touched are %d\n%v", run, name, got, want, summary(p))
			}
			if want > 0 {
				nonzero++
			}
		}
	}
	if nonzero < runs/2 {
		t.Errorf("the generator is too weak: %d of %d counts are not zero", nonzero, 2*runs)
	}
}

func objectsTouched(p *Plan, c *state.CurrentState, deletesOnly bool) int {
	kids := map[int64][]int64{}
	for _, g := range c.Groups {
		if g.Status != state.StatusDeleted && g.ID != c.RootID {
			kids[g.ParentID] = append(kids[g.ParentID], g.ID)
		}
	}
	usersIn := map[int64][]int64{}
	for _, u := range c.Users {
		if u.Status != state.StatusDeleted {
			usersIn[u.GroupID] = append(usersIn[u.GroupID], u.ID)
		}
	}
	seen := map[string]bool{}
	for _, ch := range p.Changes {
		switch {
		case ch.Kind == KindGroup && (ch.Action == Delete || ch.Action == Move && !deletesOnly):
			stack := []int64{ch.ObjectID}
			for len(stack) > 0 {
				id := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				seen[fmt.Sprint("g", id)] = true
				for _, u := range usersIn[id] {
					seen[fmt.Sprint("u", u)] = true
				}
				stack = append(stack, kids[id]...)
			}
		}
	}
	for _, ch := range p.Changes {
		switch {
		case deletesOnly && !(ch.Kind == KindUser && ch.Action == Deactivate):
		case ch.Kind == KindGroup && ch.ObjectID == 0:
			seen["new group "+ch.CreateKey()] = true
		case ch.Kind == KindGroup:
			seen[fmt.Sprint("g", ch.ObjectID)] = true
		case ch.ObjectID == 0:
			seen["new user "+ch.Key] = true
		default:
			seen[fmt.Sprint("u", ch.ObjectID)] = true
		}
	}
	return len(seen)
}
