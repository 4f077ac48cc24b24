package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// semantics are the sandbox's two readings of a group delete: the mirror
// tests run against both.
var semantics = []convirzatest.DeleteSemantics{convirzatest.DeleteRefuse, convirzatest.DeleteCascade}

// mirrorWorld seeds an account for a mirror run: KEEP (in the export) with
// its user stay@; OLD (owned, leaving the export) with a child OLD1 (owned,
// leaving) that holds gone@ (managed, leaving).
func mirrorWorld(t *testing.T, ds convirzatest.DeleteSemantics) *world {
	t.Helper()
	w := setup(t, convirzatest.Options{DeleteSemantics: ds, CallLogLimit: -1}, convirza.Options{})
	w.group(t, "KEEP", "Keep", "", convirzatest.Group{})
	w.group(t, "OLD", "Old", "", convirzatest.Group{})
	w.group(t, "OLD1", "Old One", "OLD", convirzatest.Group{})
	w.user(t, "stay@acme.example", "KEEP", convirzatest.User{})
	w.user(t, "gone@acme.example", "OLD1", convirzatest.User{})
	return w
}

// mirrorPlan plans the mirror of an export holding KEEP and stay@ only.
func mirrorPlan(t *testing.T, w *world) *plan.Plan {
	t.Helper()
	cur, _, err := w.client.FetchState(context.Background(), convirza.FetchOptions{Root: "id:1001", Industries: true})
	if err != nil {
		t.Fatal(err)
	}
	std := state.RoleStandard
	first, last := "Pat", "Doe"
	d := &state.DesiredState{
		GroupsManaged: true, UsersManaged: true,
		Groups: []state.DesiredGroup{{Source: state.Source{File: "groups.csv", Line: 2}, ExtID: "KEEP", Name: "Keep"}},
		Users: []state.DesiredUser{{Source: state.Source{File: "users.csv", Line: 2}, Email: "stay@acme.example",
			FirstName: &first, LastName: &last, Role: &std, GroupExtID: new("KEEP")}},
	}
	p, err := plan.Calculate(d, cur, plan.Options{Policy: plan.PolicyMirror, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// byKey renders a run's results as "action kind key: outcome message".
func byKey(p *plan.Plan, res *Results) []string {
	var out []string
	for _, r := range res.Results {
		s := fmt.Sprintf("%s %s %s: %s", r.Action, r.Kind, r.Key, r.Outcome)
		if r.Message != "" {
			s += " " + r.Message
		}
		out = append(out, s)
	}
	return out
}

// TestDeleteChecksHoldings: right before each group DELETE, apply re-reads
// what the group holds, and refuses the delete when something there was
// not deleted or deactivated earlier in the run: a user added after the
// plan was made, a child group nobody owns. Under both delete semantics,
// nothing that must survive is deleted, nothing is made twice, and a fresh
// run converges.
func TestDeleteChecksHoldings(t *testing.T) {
	tests := []struct {
		name string
		// between runs between plan and apply; it returns what must survive
		// (ext ids or emails; "id:N" for a group without ext id).
		between func(t *testing.T, w *world) []string
		want    []string
		// refusedAfter is how many deletes the plan itself refuses once the
		// job is done: a group that holds a child nobody owns stays.
		refusedAfter int
	}{
		{
			name:    "nothing changed since the plan",
			between: func(*testing.T, *world) []string { return nil },
			want: []string{
				"deactivate user gone@acme.example: deactivated",
				"delete group OLD1: deleted",
				"delete group OLD: deleted",
			},
		},
		{
			name: "a user added to a group after the plan",
			between: func(t *testing.T, w *world) []string {
				w.user(t, "late@acme.example", "OLD1", convirzatest.User{})
				return []string{"late@acme.example", "OLD1", "OLD"}
			},
			want: []string{
				"deactivate user gone@acme.example: deactivated",
				"delete group OLD1: refused not deleted: the group still holds 1 active user: late@acme.example (late@acme.example) that this run did not delete or deactivate, and a delete could take them with it",
				"delete group OLD: blocked waits on change 2 (delete group OLD1), which was refused",
			},
		},
		{
			name: "a child group nobody owns, added after the plan",
			between: func(t *testing.T, w *world) []string {
				id := w.group(t, "", "Legacy", "OLD", convirzatest.Group{})
				return []string{fmt.Sprintf("id:%d", id), "OLD"}
			},
			want: []string{
				"deactivate user gone@acme.example: deactivated",
				"delete group OLD1: deleted",
				`delete group OLD: refused not deleted: the group still holds 1 child group: "Legacy" (legacy, no ext id) that this run did not delete or deactivate, and a delete could take them with it`,
			},
			refusedAfter: 1,
		},
	}
	for _, ds := range semantics {
		for _, tt := range tests {
			t.Run(string(ds)+"/"+tt.name, func(t *testing.T) {
				w := mirrorWorld(t, ds)
				p := mirrorPlan(t, w)
				survive := append(tt.between(t, w), "KEEP", "stay@acme.example")
				w.srv.ResetCalls()
				res, err := Apply(context.Background(), p, w.remote, Options{})
				if err != nil {
					t.Fatal(err)
				}
				got := byKey(p, res)
				for i, s := range got { // the ids are seeded per run
					got[i] = strings.ReplaceAll(s, fmt.Sprintf("(%d", w.ids["late@acme.example"]), "(late@acme.example")
					got[i] = strings.ReplaceAll(got[i], fmt.Sprintf("(%d, no ext id", w.ids[""]), "(legacy, no ext id")
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}

				// Each group delete cost two GETs more: its children, its
				// active users.
				deletes := 0 // the group deletes that were not blocked
				for _, r := range res.Results {
					if r.Action == plan.Delete && r.Kind == plan.KindGroup && r.Outcome != plan.OutcomeBlocked {
						deletes++
					}
				}
				lists := w.srv.CountCalls("GET", "/v3/groups/list") + w.srv.CountCalls("GET", "/v3/users/list")
				if res.Checks != deletes || lists != 2*deletes {
					t.Errorf("%d checks and %d listings for %d group deletes: want %d and %d", res.Checks, lists, deletes, deletes, 2*deletes)
				}
				for _, c := range w.srv.Writes() {
					if c.Method == "DELETE" && c.Status != 200 {
						t.Errorf("DELETE %s answered %d: apply sent a delete the check should have refused", c.Path, c.Status)
					}
				}

				checkSurvivors(t, w, survive)
				checkNoDuplicates(t, w.srv.Snapshot())

				// A fresh run of a fresh plan finishes the job; a third plan is
				// empty.
				p2 := mirrorPlan(t, w)
				res2, err := Apply(context.Background(), p2, w.remote, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res2.Results {
					if !r.Outcome.Done() {
						t.Errorf("second run: %s %s %s: %s %s", r.Action, r.Kind, r.Key, r.Outcome, r.Message)
					}
				}
				if p3 := mirrorPlan(t, w); !p3.Empty() || len(p3.Refused) != tt.refusedAfter {
					t.Errorf("a third plan holds %d changes and %d refused, want none and %d", len(p3.Changes), len(p3.Refused), tt.refusedAfter)
				}
				checkSurvivors(t, w, []string{"KEEP", "stay@acme.example"})
				checkNoDuplicates(t, w.srv.Snapshot())
			})
		}
	}
}

// checkSurvivors: each group (ext id, or "id:N") and user (email) named is
// still there and not deleted.
func checkSurvivors(t *testing.T, w *world, names []string) {
	t.Helper()
	groups, users := live(w.srv.Snapshot())
	for _, n := range names {
		_, g := groups[n]
		_, u := users[n]
		if !g && !u {
			t.Errorf("%s was deleted; it must survive", n)
		}
	}
}
