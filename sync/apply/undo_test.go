package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

func fc(field, before, after string) plan.FieldChange {
	return plan.FieldChange{Field: field, Before: before, After: after}
}

// undoFixture is a plan with one change of every kind, and what a run of it
// did: everything done but change 12, which failed.
func undoFixture() (*plan.Plan, *Results) {
	root := plan.Ref{ID: 1001, ExtID: "ACME", Name: "Acme"}
	p := &plan.Plan{
		Version:      plan.Version,
		Account:      plan.Account{APIURL: "http://127.0.0.1/v3", RootID: 1001, RootExtID: "ACME"},
		Policy:       plan.PolicyMirror,
		UsersManaged: true,
		Changes: []plan.Change{
			{ID: 1, Action: plan.Create, Kind: plan.KindGroup, Key: "N1", Name: "North", Parent: root,
				Fields: []plan.FieldChange{fc(plan.FieldExtID, "", "N1"), fc(plan.FieldName, "", "North"), fc(plan.FieldParent, "", "1001")}},
			{ID: 2, Action: plan.Create, Kind: plan.KindGroup, Key: "N2", Name: "North 2", Parent: plan.Ref{ExtID: "N1", Name: "North"},
				Fields: []plan.FieldChange{fc(plan.FieldExtID, "", "N2"), fc(plan.FieldName, "", "North 2"), fc(plan.FieldParent, "", "")}},
			{ID: 3, Action: plan.Create, Kind: plan.KindUser, Key: "new@acme.example", Name: "new@acme.example", Parent: plan.Ref{ExtID: "N2"}, NewUser: true,
				Fields: []plan.FieldChange{fc(plan.FieldUserGroup, "", ""), fc(plan.FieldUsername, "", "new@acme.example")}},
			{ID: 4, Action: plan.Update, Kind: plan.KindGroup, Key: "E1", ObjectID: 1002, Name: "East", Parent: root,
				Fields: []plan.FieldChange{fc(plan.FieldCity, "Boston", "Cambridge")}},
			{ID: 5, Action: plan.Move, Kind: plan.KindGroup, Key: "W1", ObjectID: 1003, Name: "West", Parent: plan.Ref{ExtID: "N1", Name: "North"}, FromParent: &root,
				Fields: []plan.FieldChange{{Field: plan.FieldParent, Before: "1001", After: "", BeforeLabel: "ACME"}}},
			{ID: 6, Action: plan.Rename, Kind: plan.KindGroup, Key: "A", ObjectID: 1004, Name: "A (renaming)", Parent: root, Reason: "temporary name to break a rename swap",
				Fields: []plan.FieldChange{fc(plan.FieldName, "Alpha", "Alpha (renaming)")}},
			{ID: 7, Action: plan.Rename, Kind: plan.KindGroup, Key: "B", ObjectID: 1005, Name: "Alpha", Parent: root, After: []int{6},
				Fields: []plan.FieldChange{fc(plan.FieldName, "Beta", "Alpha")}},
			{ID: 8, Action: plan.Rename, Kind: plan.KindGroup, Key: "A", ObjectID: 1004, Name: "Beta", Parent: root, After: []int{7},
				Fields: []plan.FieldChange{fc(plan.FieldName, "Alpha (renaming)", "Beta")}},
			{ID: 9, Action: plan.Deactivate, Kind: plan.KindUser, Key: "gone@acme.example", ObjectID: 10001, Parent: root},
			{ID: 10, Action: plan.Reactivate, Kind: plan.KindUser, Key: "back@acme.example", ObjectID: 10002, Parent: root,
				Fields: []plan.FieldChange{fc(plan.FieldFirstName, "Bo", "Bob"), fc(plan.FieldUserStatus, "inactive", "active")}},
			{ID: 11, Action: plan.Delete, Kind: plan.KindGroup, Key: "OLD", ObjectID: 1006, Name: "Old", Parent: root, After: []int{9}},
			{ID: 12, Action: plan.Update, Kind: plan.KindGroup, Key: "F1", ObjectID: 1007, Parent: root,
				Fields: []plan.FieldChange{fc(plan.FieldZip, "02110", "02111")}},
		},
		Tree: []plan.Node{
			{Ref: root},
			{Ref: plan.Ref{ID: 1002, ExtID: "E1", Name: "East"}, Parent: root},
			{Ref: plan.Ref{ExtID: "N1", Name: "North"}, Parent: root},
			{Ref: plan.Ref{ExtID: "N2", Name: "North 2"}, Parent: plan.Ref{ExtID: "N1", Name: "North"}},
			{Ref: plan.Ref{ID: 1003, ExtID: "W1", Name: "West"}, Parent: plan.Ref{ExtID: "N1", Name: "North"}},
		},
	}
	res := &Results{}
	for i := range p.Changes {
		c := &p.Changes[i]
		r := done(c, c.ObjectID)
		switch c.ID {
		case 1:
			r.ObjectID = 2001
		case 2:
			r.ObjectID = 2002
		case 3:
			r.ObjectID = 20001
		case 12:
			r = plan.ResultFor(c, plan.OutcomeFailed)
		}
		res.Results = append(res.Results, r)
	}
	return p, res
}

func TestUndo(t *testing.T) {
	p, res := undoFixture()
	root := plan.Ref{ID: 1001, ExtID: "ACME", Name: "Acme"}
	n1 := plan.Ref{ID: 2001, ExtID: "N1", Name: "North"}
	want := &plan.Plan{
		Version:      plan.Version,
		Account:      p.Account,
		Policy:       plan.PolicyMirror,
		UsersManaged: true,
		Changes: []plan.Change{
			{ID: 1, Action: plan.Deactivate, Kind: plan.KindUser, Key: "back@acme.example", ObjectID: 10002, Parent: root, Reason: "undo change 10 (reactivate)",
				Fields: []plan.FieldChange{fc(plan.FieldFirstName, "Bob", "Bo"), fc(plan.FieldUserStatus, "active", "inactive")}},
			{ID: 2, Action: plan.Reactivate, Kind: plan.KindUser, Key: "gone@acme.example", ObjectID: 10001, Parent: root, Reason: "undo change 9 (deactivate)"},
			{ID: 3, Action: plan.Rename, Kind: plan.KindGroup, Key: "A", ObjectID: 1004, Name: "Alpha (renaming)", Parent: root, Reason: "undo change 8 (rename)",
				Fields: []plan.FieldChange{fc(plan.FieldName, "Beta", "Alpha (renaming)")}},
			{ID: 4, Action: plan.Rename, Kind: plan.KindGroup, Key: "B", ObjectID: 1005, Name: "Beta", Parent: root, Reason: "undo change 7 (rename)", After: []int{3},
				Fields: []plan.FieldChange{fc(plan.FieldName, "Alpha", "Beta")}},
			{ID: 5, Action: plan.Rename, Kind: plan.KindGroup, Key: "A", ObjectID: 1004, Name: "Alpha", Parent: root, After: []int{4},
				Reason: "undo change 6 (rename): temporary name to break a rename swap",
				Fields: []plan.FieldChange{fc(plan.FieldName, "Alpha (renaming)", "Alpha")}},
			{ID: 6, Action: plan.Move, Kind: plan.KindGroup, Key: "W1", ObjectID: 1003, Name: "West", Parent: root, FromParent: &n1, Reason: "undo change 5 (move)",
				Fields: []plan.FieldChange{{Field: plan.FieldParent, Before: "2001", After: "1001", BeforeLabel: "N1", AfterLabel: "ACME"}}},
			{ID: 7, Action: plan.Update, Kind: plan.KindGroup, Key: "E1", ObjectID: 1002, Name: "East", Parent: root, Reason: "undo change 4 (update)",
				Fields: []plan.FieldChange{fc(plan.FieldCity, "Cambridge", "Boston")}},
			{ID: 8, Action: plan.Delete, Kind: plan.KindUser, Key: "new@acme.example", ObjectID: 20001, Name: "new@acme.example",
				Parent: plan.Ref{ID: 2002, ExtID: "N2"}, Reason: "undo change 3: remove the user it created"},
			{ID: 9, Action: plan.Delete, Kind: plan.KindGroup, Key: "N2", ObjectID: 2002, Name: "North 2",
				Parent: n1, Reason: "undo change 2: remove the group it created", After: []int{8}},
			{ID: 10, Action: plan.Delete, Kind: plan.KindGroup, Key: "N1", ObjectID: 2001, Name: "North",
				Parent: root, Reason: "undo change 1: remove the group it created", After: []int{6, 9}},
		},
		Refused: []plan.Change{
			{Action: plan.Delete, Kind: plan.KindGroup, Key: "OLD", ObjectID: 1006, Name: "Old", Parent: root, Reason: ReasonNoUndoDelete},
		},
		Tree: []plan.Node{
			{Ref: root},
			{Ref: plan.Ref{ID: 1002, ExtID: "E1", Name: "East"}, Parent: root},
			{Ref: n1, Parent: root},
			{Ref: plan.Ref{ID: 2002, ExtID: "N2", Name: "North 2"}, Parent: n1},
			{Ref: plan.Ref{ID: 1003, ExtID: "W1", Name: "West"}, Parent: root},
		},
	}
	got := Undo(p, res)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Undo (-want +got):\n%s", diff)
	}
	// The undo plan is a plan Apply takes: its graph is sound.
	if _, err := newGraph(got.Changes); err != nil {
		t.Errorf("undo plan graph: %v", err)
	}
	b, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := plan.Unmarshal(b)
	if err != nil {
		t.Fatalf("undo plan does not read back: %v", err)
	}
	if diff := cmp.Diff(got, back); diff != "" {
		t.Errorf("undo plan JSON round trip (-want +got):\n%s", diff)
	}
}

func TestUndoNothingDone(t *testing.T) {
	p, res := undoFixture()
	for i := range res.Results {
		res.Results[i].Outcome = plan.OutcomeSkipped
	}
	got := Undo(p, res)
	if len(got.Changes) != 0 || len(got.Refused) != 0 {
		t.Errorf("Undo of a run that did nothing = %d changes, %d refused; want none", len(got.Changes), len(got.Refused))
	}
	if got.Version != plan.Version || got.Account != p.Account {
		t.Errorf("undo plan version/account = %d/%+v, want the plan's", got.Version, got.Account)
	}
}

// TestUndoStaleCheck: right after the run, the undo plan's before-values
// are what Convirza holds, so CheckStale passes it.
func TestUndoStaleCheck(t *testing.T) {
	p, res := undoFixture()
	u := Undo(p, res)
	after := &state.CurrentState{
		RootID: 1001,
		Groups: []state.Group{
			{ID: 1001, ExtID: "ACME", Name: "Acme", Status: state.StatusActive},
			{ID: 1002, ExtID: "E1", Name: "East", ParentID: 1001, City: "Cambridge", Status: state.StatusActive},
			{ID: 1003, ExtID: "W1", Name: "West", ParentID: 2001, Status: state.StatusActive},
			{ID: 1004, ExtID: "A", Name: "Beta", ParentID: 1001, Status: state.StatusActive},
			{ID: 1005, ExtID: "B", Name: "Alpha", ParentID: 1001, Status: state.StatusActive},
			{ID: 1006, ExtID: "OLD", Name: "Old", ParentID: 1001, Status: state.StatusDeleted},
			{ID: 2001, ExtID: "N1", Name: "North", ParentID: 1001, Status: state.StatusActive},
			{ID: 2002, ExtID: "N2", Name: "North 2", ParentID: 2001, Status: state.StatusActive},
		},
		Users: []state.User{
			{ID: 10001, Email: "gone@acme.example", Status: state.StatusInactive, GroupID: 1001},
			{ID: 10002, Email: "back@acme.example", FirstName: "Bob", Status: state.StatusActive, GroupID: 1001},
			{ID: 20001, Email: "new@acme.example", Status: state.StatusActive, GroupID: 2002},
		},
	}
	if d := CheckStale(u, after); len(d) != 0 {
		t.Errorf("CheckStale(undo plan) = %v, want none", d)
	}
}
