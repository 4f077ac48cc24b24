package plan

import (
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/google/go-cmp/cmp"
)

// richPlan has every action, refusals, invalid rows, gates and a tree.
func richPlan(t *testing.T) *Plan {
	t.Helper()
	c := withUsers(cur(grp(2, 1, "A", "Alpha"), grp(3, 1, "B", "Beta"), grp(4, 2, "C", "C"), grp(5, 1, "", "Loose"),
		grp(6, 1, "GONE", "Gone"), grp(7, 6, "GONE2", "Gone too"), grp(8, 1, "KEEP", "Keep")),
		usr(10, 2, "me@x.com", state.RoleAdmin), usr(11, 7, "gone@x.com", state.RoleStandard),
		func() state.User {
			u := usr(12, 2, "back@x.com", state.RoleReadOnly)
			u.Status = state.StatusInactive
			return u
		}())
	c.CallerUserID = 10
	a := dg("A", "Beta", "")
	a.Phone, a.Industry = ptr("(617) 555-0142"), ptr("technology")
	d := des(a, dg("B", "Alpha", ""), dg("C", "C", "B"), dg("L", "loose", ""), dg("N", "New", "C"), dg("KEEP", "Keep", ""))
	me := du("me@x.com", "B")
	me.Role = ptr(state.RoleStandard)
	d = withDesiredUsers(d, me, du("back@x.com", "N"), nu("new@x.com", "N"))
	d.Invalid = []state.Problem{{Source: state.Source{File: "users.csv", Line: 9}, Kind: "user", Key: "bad", Column: "email", Severity: state.SeverityError, Message: "not an email"}}
	p := mustPlan(t, d, c, Options{Policy: PolicyMirror, Force: true, MaxInvalid: CountLimit(1), Account: Account{APIURL: "https://api.example/v3"}})
	// the loader's invalid row turns deletes off; add one by hand so that
	// every action is in the file
	p.Changes = append(p.Changes, Change{ID: len(p.Changes) + 1, Action: Delete, Kind: KindGroup, Key: "GONE2", ObjectID: 7, Name: "Gone too",
		Parent: Ref{ID: 6, ExtID: "GONE", Name: "Gone"}, Reason: "its ext id left the export"},
		Change{ID: len(p.Changes) + 2, Action: Deactivate, Kind: KindUser, Key: "gone@x.com", ObjectID: 11, Name: "gone@x.com",
			Fields: []FieldChange{{Field: FieldUserStatus, Before: "active", After: "inactive"}}, After: []int{1}})
	return p
}

func TestPlanJSONRoundTrip(t *testing.T) {
	p := richPlan(t)
	seen := map[Action]bool{}
	for _, c := range append(append([]Change{}, p.Changes...), p.Refused...) {
		seen[c.Action] = true
	}
	for a := Create; a <= Reactivate; a++ {
		if !seen[a] {
			t.Errorf("the rich plan has no %s change: %v", a, summary(p))
		}
	}
	if len(p.Invalid) == 0 || len(p.Refused) == 0 || len(p.Tree) == 0 || len(p.Gates) == 0 {
		t.Fatalf("the rich plan is not rich: %v", summary(p))
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("round trip (-before +after):\n%s", diff)
	}
	if !strings.Contains(string(b), `"action": "adopt"`) {
		t.Errorf("actions are not written by name:\n%s", b)
	}
}
