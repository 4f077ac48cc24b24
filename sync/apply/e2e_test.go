package apply

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestApplyCalculatedPlan is the core property, through the real planner:
// after Apply, a fresh plan is empty; and the undo plan of the run, applied
// in turn, brings back what Convirza held.
// It runs under both delete semantics.
func TestApplyCalculatedPlan(t *testing.T) {
	for _, ds := range semantics {
		t.Run(string(ds), func(t *testing.T) { testApplyCalculatedPlan(t, ds) })
	}
}

func testApplyCalculatedPlan(t *testing.T, ds convirzatest.DeleteSemantics) {
	w := setup(t, convirzatest.Options{AmbiguousRate: 0.2, Seed: 11, DeleteSemantics: ds}, convirza.Options{})
	w.group(t, "E1", "East", "", convirzatest.Group{City: "Boston"})
	w.group(t, "W1", "West", "", convirzatest.Group{City: "Worcester"})
	w.group(t, "A", "Alpha", "", convirzatest.Group{})
	w.group(t, "B", "Beta", "", convirzatest.Group{})
	w.user(t, "jo@acme.example", "E1", convirzatest.User{FirstName: "Jo", LastName: "Roe"})
	w.user(t, "al@acme.example", "W1", convirzatest.User{FirstName: "Al", LastName: "Poe", Status: state.StatusInactive})
	before := w.srv.Snapshot()

	s := func(v string) *string { return &v }
	std := state.RoleStandard
	desired := &state.DesiredState{
		GroupsManaged: true,
		UsersManaged:  true,
		Groups: []state.DesiredGroup{
			{Source: state.Source{File: "groups.csv", Line: 2}, ExtID: "E1", Name: "East", City: s("Cambridge")},
			{Source: state.Source{File: "groups.csv", Line: 3}, ExtID: "N1", Name: "North", City: s("Lowell")},
			{Source: state.Source{File: "groups.csv", Line: 4}, ExtID: "N2", Name: "North Two", ParentExtID: "N1"},
			{Source: state.Source{File: "groups.csv", Line: 5}, ExtID: "W1", Name: "West", ParentExtID: "N1", City: s("Worcester")},
			{Source: state.Source{File: "groups.csv", Line: 6}, ExtID: "A", Name: "Beta"},
			{Source: state.Source{File: "groups.csv", Line: 7}, ExtID: "B", Name: "Alpha"},
		},
		Users: []state.DesiredUser{
			{Source: state.Source{File: "users.csv", Line: 2}, Email: "jo@acme.example", FirstName: s("Joanne"), LastName: s("Roe"), Role: &std, GroupExtID: s("N2")},
			{Source: state.Source{File: "users.csv", Line: 3}, Email: "al@acme.example", FirstName: s("Al"), LastName: s("Poe"), Role: &std, GroupExtID: s("W1")},
			{Source: state.Source{File: "users.csv", Line: 4}, Email: "new@acme.example", FirstName: s("New"), LastName: s("Person"), Role: &std, GroupExtID: s("N2")},
		},
	}
	ctx := context.Background()
	fetch := func() *state.CurrentState {
		t.Helper()
		cur, _, err := w.client.FetchState(ctx, convirza.FetchOptions{Root: "id:1001", Industries: true})
		if err != nil {
			t.Fatal(err)
		}
		return cur
	}
	calc := func(cur *state.CurrentState) *plan.Plan {
		t.Helper()
		p, err := plan.Calculate(desired, cur, plan.Options{Policy: plan.PolicyUpsert})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	cur := fetch()
	p := calc(cur)
	if d := plan.CheckStale(p, cur); len(d) != 0 {
		t.Fatalf("a fresh plan is stale: %v", d)
	}
	actions := map[plan.Action]int{}
	for _, c := range p.Changes {
		actions[c.Action]++
		t.Logf("change %d after %v: %s %s %s %v", c.ID, c.After, c.Action, c.Kind, c.Key, c.Fields)
	}
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.Move, plan.Rename, plan.Reactivate} {
		if actions[a] == 0 {
			t.Errorf("the plan has no %s: it does not exercise what it should", a)
		}
	}
	res, err := Apply(ctx, p, w.remote, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		if !r.Outcome.Done() {
			t.Errorf("change %d (%s %s %s): %s %s", r.Change, r.Action, r.Kind, r.Key, r.Outcome, r.Message)
		}
	}
	checkParentsFirst(t, w)
	checkPatchBodies(t, w, p, res)
	checkNoDuplicates(t, w.srv.Snapshot())
	if again := calc(fetch()); !again.Empty() {
		for _, c := range again.Changes {
			t.Errorf("after apply, the plan still holds change %d: %s %s %s %+v", c.ID, c.Action, c.Kind, c.Key, c.Fields)
		}
	}

	u := plan.Undo(p, res.Results)
	cur = fetch()
	if d := plan.CheckStale(u, cur); len(d) != 0 {
		t.Fatalf("the undo plan is stale: %v", d)
	}
	ures, err := Apply(ctx, u, w.remote, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ures.Results {
		if !r.Outcome.Done() {
			t.Errorf("undo change %d: %s %s", r.Change, r.Outcome, r.Message)
		}
	}
	wantGroups, wantUsers := live(before)
	gotGroups, gotUsers := live(w.srv.Snapshot())
	if diff := cmp.Diff(wantGroups, gotGroups); diff != "" {
		t.Errorf("groups after undo (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(wantUsers, gotUsers); diff != "" {
		t.Errorf("users after undo (-before +after):\n%s", diff)
	}
}
