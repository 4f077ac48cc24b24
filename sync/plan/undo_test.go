package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func fc(field, before, after string) FieldChange {
	return FieldChange{Field: field, Before: before, After: after}
}

// undoFixture is a plan with one change of every kind, and what a run of it
// did: everything done but change 12, which failed.
func undoFixture() (*Plan, []Result) {
	root := Ref{ID: 1001, ExtID: "ACME", Name: "Acme"}
	p := &Plan{
		Version:      Version,
		Account:      Account{APIURL: "http://127.0.0.1/v3", RootID: 1001, RootExtID: "ACME"},
		Policy:       PolicyMirror,
		UsersManaged: true,
		PhoneRegion:  "GB",
		Changes: []Change{
			{ID: 1, Action: Create, Kind: KindGroup, Key: "N1", Name: "North", Parent: root,
				Fields: []FieldChange{fc(FieldExtID, "", "N1"), fc(FieldName, "", "North"), fc(FieldParent, "", "1001")}},
			{ID: 2, Action: Create, Kind: KindGroup, Key: "N2", Name: "North 2", Parent: Ref{ExtID: "N1", Name: "North"},
				Fields: []FieldChange{fc(FieldExtID, "", "N2"), fc(FieldName, "", "North 2"), fc(FieldParent, "", "")}},
			{ID: 3, Action: Create, Kind: KindUser, Key: "new@acme.example", Name: "new@acme.example", Parent: Ref{ExtID: "N2"}, NewUser: true,
				Fields: []FieldChange{fc(FieldUserGroup, "", ""), fc(FieldUsername, "", "new@acme.example")}},
			{ID: 4, Action: Update, Kind: KindGroup, Key: "E1", ObjectID: 1002, Name: "East", Parent: root,
				Fields: []FieldChange{fc(FieldCity, "Boston", "Cambridge")}},
			{ID: 5, Action: Move, Kind: KindGroup, Key: "W1", ObjectID: 1003, Name: "West", Parent: Ref{ExtID: "N1", Name: "North"}, FromParent: &root,
				Fields: []FieldChange{{Field: FieldParent, Before: "1001", After: "", BeforeLabel: "ACME"}}},
			{ID: 6, Action: Rename, Kind: KindGroup, Key: "A", ObjectID: 1004, Name: "A (renaming)", Parent: root, Reason: "temporary name to break a rename swap",
				Fields: []FieldChange{fc(FieldName, "Alpha", "Alpha (renaming)")}},
			{ID: 7, Action: Rename, Kind: KindGroup, Key: "B", ObjectID: 1005, Name: "Alpha", Parent: root, After: []int{6},
				Fields: []FieldChange{fc(FieldName, "Beta", "Alpha")}},
			{ID: 8, Action: Rename, Kind: KindGroup, Key: "A", ObjectID: 1004, Name: "Beta", Parent: root, After: []int{7},
				Fields: []FieldChange{fc(FieldName, "Alpha (renaming)", "Beta")}},
			{ID: 9, Action: Deactivate, Kind: KindUser, Key: "gone@acme.example", ObjectID: 10001, Parent: root},
			{ID: 10, Action: Reactivate, Kind: KindUser, Key: "back@acme.example", ObjectID: 10002, Parent: root,
				Fields: []FieldChange{fc(FieldFirstName, "Bo", "Bob"), fc(FieldUserStatus, "inactive", "active")}},
			{ID: 11, Action: Delete, Kind: KindGroup, Key: "OLD", ObjectID: 1006, Name: "Old", Parent: root, After: []int{9}},
			{ID: 12, Action: Update, Kind: KindGroup, Key: "F1", ObjectID: 1007, Parent: root,
				Fields: []FieldChange{fc(FieldZip, "02110", "02111")}},
		},
		Tree: []Node{
			{Ref: root},
			{Ref: Ref{ID: 1002, ExtID: "E1", Name: "East"}, Parent: root},
			{Ref: Ref{ExtID: "N1", Name: "North"}, Parent: root},
			{Ref: Ref{ExtID: "N2", Name: "North 2"}, Parent: Ref{ExtID: "N1", Name: "North"}},
			{Ref: Ref{ID: 1003, ExtID: "W1", Name: "West"}, Parent: Ref{ExtID: "N1", Name: "North"}},
		},
	}
	var res []Result
	for i := range p.Changes {
		c := &p.Changes[i]
		r := ResultFor(c, Outcome(c.Action.Outcome()))
		switch c.ID {
		case 1:
			r.ObjectID = 2001
		case 2:
			r.ObjectID = 2002
		case 3:
			r.ObjectID = 20001
		case 12:
			r = ResultFor(c, OutcomeFailed)
		}
		res = append(res, r)
	}
	return p, res
}

func TestUndo(t *testing.T) {
	p, res := undoFixture()
	root := Ref{ID: 1001, ExtID: "ACME", Name: "Acme"}
	n1 := Ref{ID: 2001, ExtID: "N1", Name: "North"}
	want := &Plan{
		Version:      Version,
		Account:      p.Account,
		Policy:       PolicyMirror,
		UsersManaged: true,
		PhoneRegion:  "GB", // the stale check compares phones in it
		Changes: []Change{
			{ID: 1, Action: Deactivate, Kind: KindUser, Key: "back@acme.example", ObjectID: 10002, Parent: root, Reason: "undo change 10 (reactivate)",
				Fields: []FieldChange{fc(FieldFirstName, "Bob", "Bo"), fc(FieldUserStatus, "active", "inactive")}},
			{ID: 2, Action: Reactivate, Kind: KindUser, Key: "gone@acme.example", ObjectID: 10001, Parent: root, Reason: "undo change 9 (deactivate)"},
			{ID: 3, Action: Rename, Kind: KindGroup, Key: "A", ObjectID: 1004, Name: "Alpha (renaming)", Parent: root, Reason: "undo change 8 (rename)",
				Fields: []FieldChange{fc(FieldName, "Beta", "Alpha (renaming)")}},
			{ID: 4, Action: Rename, Kind: KindGroup, Key: "B", ObjectID: 1005, Name: "Beta", Parent: root, Reason: "undo change 7 (rename)", After: []int{3},
				Fields: []FieldChange{fc(FieldName, "Alpha", "Beta")}},
			{ID: 5, Action: Rename, Kind: KindGroup, Key: "A", ObjectID: 1004, Name: "Alpha", Parent: root, After: []int{4},
				Reason: "undo change 6 (rename): temporary name to break a rename swap",
				Fields: []FieldChange{fc(FieldName, "Alpha (renaming)", "Alpha")}},
			{ID: 6, Action: Move, Kind: KindGroup, Key: "W1", ObjectID: 1003, Name: "West", Parent: root, FromParent: &n1, Reason: "undo change 5 (move)",
				Fields: []FieldChange{{Field: FieldParent, Before: "2001", After: "1001", BeforeLabel: "N1", AfterLabel: "ACME"}}},
			{ID: 7, Action: Update, Kind: KindGroup, Key: "E1", ObjectID: 1002, Name: "East", Parent: root, Reason: "undo change 4 (update)",
				Fields: []FieldChange{fc(FieldCity, "Cambridge", "Boston")}},
			{ID: 8, Action: Delete, Kind: KindUser, Key: "new@acme.example", ObjectID: 20001, Name: "new@acme.example",
				Parent: Ref{ID: 2002, ExtID: "N2"}, Reason: "undo change 3: remove the user it created"},
			{ID: 9, Action: Delete, Kind: KindGroup, Key: "N2", ObjectID: 2002, Name: "North 2",
				Parent: n1, Reason: "undo change 2: remove the group it created", After: []int{8}},
			{ID: 10, Action: Delete, Kind: KindGroup, Key: "N1", ObjectID: 2001, Name: "North",
				Parent: root, Reason: "undo change 1: remove the group it created", After: []int{6, 9}},
		},
		Refused: []Change{
			{Action: Delete, Kind: KindGroup, Key: "OLD", ObjectID: 1006, Name: "Old", Parent: root, Reason: ReasonNoUndoDelete},
		},
		Tree: []Node{
			{Ref: root},
			{Ref: Ref{ID: 1002, ExtID: "E1", Name: "East"}, Parent: root},
			{Ref: n1, Parent: root},
			{Ref: Ref{ID: 2002, ExtID: "N2", Name: "North 2"}, Parent: n1},
			{Ref: Ref{ID: 1003, ExtID: "W1", Name: "West"}, Parent: root},
		},
	}
	got := Undo(p, res)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Undo (-want +got):\n%s", diff)
	}
	// The undo plan is a plan Apply takes: its graph is sound.
	if _, err := NewGraph(got.Changes); err != nil {
		t.Errorf("undo plan graph: %v", err)
	}
	b, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("undo plan does not read back: %v", err)
	}
	if diff := cmp.Diff(got, back); diff != "" {
		t.Errorf("undo plan JSON round trip (-want +got):\n%s", diff)
	}
}

func TestUndoNothingDone(t *testing.T) {
	p, res := undoFixture()
	for i := range res {
		res[i].Outcome = OutcomeSkipped
	}
	got := Undo(p, res)
	if len(got.Changes) != 0 || len(got.Refused) != 0 {
		t.Errorf("Undo of a run that did nothing = %d changes, %d refused; want none", len(got.Changes), len(got.Refused))
	}
	if got.Version != Version || got.Account != p.Account {
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

// An industry the run set where there was none cannot be put back: that
// would clear it, which the API documents no way to do (apply would refuse
// to send it). The undo plan lists it as refused, with its reason, and keeps
// the change's other fields; a change left with nothing to send is dropped.
func TestUndoIndustrySetFromNone(t *testing.T) {
	root := Ref{ID: 1001, ExtID: "ACME", Name: "Acme"}
	p := &Plan{
		Version: Version, Account: Account{APIURL: "http://127.0.0.1/v3", RootID: 1001, RootExtID: "ACME"},
		Changes: []Change{
			{ID: 1, Action: Update, Kind: KindGroup, Key: "E1", ObjectID: 1002, Name: "East", Parent: root,
				Fields: []FieldChange{fc(FieldCity, "Boston", "Cambridge"), {Field: FieldIndustryID, After: "11", AfterLabel: "Healthcare"}}},
			{ID: 2, Action: Update, Kind: KindGroup, Key: "W1", ObjectID: 1003, Name: "West", Parent: root,
				Fields: []FieldChange{{Field: FieldIndustryID, After: "12", AfterLabel: "Restaurants"}}},
			{ID: 3, Action: Update, Kind: KindGroup, Key: "S1", ObjectID: 1004, Name: "South", Parent: root,
				Fields: []FieldChange{{Field: FieldIndustryID, Before: "10", After: "12", BeforeLabel: "Technology", AfterLabel: "Restaurants"}}},
		},
	}
	var res []Result
	for i := range p.Changes {
		res = append(res, ResultFor(&p.Changes[i], OutcomeUpdated))
	}
	got := Undo(p, res)
	want := []string{
		"1 update group S1 {industry_id:12->10}",
		"2 update group E1 {city:Cambridge->Boston}",
		"refused 0 update group E1 {industry_id:11->}: " + ReasonNoUndoIndustry,
		"refused 0 update group W1 {industry_id:12->}: " + ReasonNoUndoIndustry,
	}
	if diff := cmp.Diff(want, summary(got)); diff != "" {
		t.Errorf("Undo (-want +got):\n%s", diff)
	}
}
