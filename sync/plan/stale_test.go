package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func staleFixture() (*Plan, *state.CurrentState) {
	root := Ref{ID: 1001, ExtID: "ACME"}
	p := &Plan{
		Version: Version,
		Account: Account{RootID: 1001},
		Changes: []Change{
			{ID: 1, Action: Create, Kind: KindGroup, Key: "NEW", Parent: Ref{ID: 1002, ExtID: "E1"},
				Fields: []FieldChange{fc(FieldExtID, "", "NEW"), fc(FieldName, "", "New"), fc(FieldParent, "", "1002")}},
			{ID: 2, Action: Update, Kind: KindGroup, Key: "E1", ObjectID: 1002, Parent: root,
				Fields: []FieldChange{
					fc(FieldCity, "Boston", "Cambridge"),
					fc(FieldPhone, "+16175550100", "+16175550199"), // Convirza holds it with dashes
					fc(FieldState, "MA", "NH"),
					fc(FieldIndustryID, "", "10"),
				}},
			{ID: 3, Action: Move, Kind: KindGroup, Key: "W1", ObjectID: 1003, Parent: Ref{ID: 1002, ExtID: "E1"}, FromParent: &root,
				Fields: []FieldChange{fc(FieldParent, "1001", "1002")}},
			{ID: 4, Action: Create, Kind: KindUser, Key: "new@acme.example", Parent: root,
				Fields: []FieldChange{fc(FieldUserGroup, "", "1001"), fc(FieldUsername, "", "New@Acme.example")}},
			{ID: 5, Action: Update, Kind: KindUser, Key: "jo@acme.example", ObjectID: 10001, Parent: root,
				Fields: []FieldChange{fc(FieldRole, "Standard", "Admin"), fc(FieldUsername, "JO@acme.example", "joe@acme.example")}},
			{ID: 6, Action: Deactivate, Kind: KindUser, Key: "al@acme.example", ObjectID: 10002, Parent: root},
			{ID: 7, Action: Delete, Kind: KindGroup, Key: "OLD", ObjectID: 1004, Parent: root},
			// A swap: the second rename's before-value is the first one's after.
			{ID: 8, Action: Rename, Kind: KindGroup, Key: "W1", ObjectID: 1003, Parent: root, Fields: []FieldChange{fc(FieldName, "West", "West (renaming)")}},
			{ID: 9, Action: Rename, Kind: KindGroup, Key: "W1", ObjectID: 1003, Parent: root, After: []int{8}, Fields: []FieldChange{fc(FieldName, "West (renaming)", "Wester")}},
		},
	}
	cur := &state.CurrentState{
		RootID: 1001,
		Groups: []state.Group{
			{ID: 1001, ExtID: "ACME", Name: "Acme", Status: state.StatusActive},
			{ID: 1002, ExtID: "E1", Name: "East", ParentID: 1001, City: "Boston", Phone: "+1-617-555-0100", State: "ma", Status: state.StatusActive},
			{ID: 1003, ExtID: "W1", Name: "West", ParentID: 1001, Status: state.StatusActive},
			{ID: 1004, ExtID: "OLD", Name: "Old", ParentID: 1001, Status: state.StatusActive},
			{ID: 1005, ExtID: "NEW", Name: "New", ParentID: 1002, Status: state.StatusDeleted}, // deleted: its ext id is free
		},
		Users: []state.User{
			{ID: 10001, Email: "jo@acme.example", Role: state.RoleStandard, GroupID: 1001, Status: state.StatusActive},
			{ID: 10002, Email: "al@acme.example", GroupID: 1001, Status: state.StatusActive},
			{ID: 10003, Email: "new@acme.example", GroupID: 1001, Status: state.StatusDeleted},
		},
	}
	return p, cur
}

func TestCheckStale(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*state.CurrentState)
		want   []Drift
	}{
		{name: "nothing moved", mutate: func(*state.CurrentState) {}},
		{
			name: "fields moved",
			mutate: func(c *state.CurrentState) {
				c.Groups[1].City = "Springfield"
				c.Groups[1].IndustryID = 7
				c.Users[0].Role = state.RoleReadOnly
			},
			want: []Drift{
				{ChangeID: 2, Change: "change 2 (update group E1)", Kind: KindGroup, Key: "E1", Field: FieldCity, Planned: "Boston", Now: "Springfield"},
				{ChangeID: 2, Change: "change 2 (update group E1)", Kind: KindGroup, Key: "E1", Field: FieldIndustryID, Planned: "", Now: "7"},
				{ChangeID: 5, Change: "change 5 (update user jo@acme.example)", Kind: KindUser, Key: "jo@acme.example", Field: FieldRole, Planned: "Standard", Now: "readonly"},
			},
		},
		{
			name: "objects gone, created ones there, parent deleted",
			mutate: func(c *state.CurrentState) {
				c.Groups[1].Status = state.StatusDeleted // E1: the create's and the move's parent, and updated
				c.Groups[3].Status = state.StatusDeleted // OLD
				c.Groups[4].Status = state.StatusActive  // NEW exists again
				c.Users[1].Status = state.StatusInactive // al: already deactivated
				c.Users[2].Status = state.StatusActive   // new@ exists
			},
			want: []Drift{
				{ChangeID: 1, Change: "change 1 (create group NEW)", Kind: KindGroup, Key: "E1", Planned: "active", Now: "deleted"},
				{ChangeID: 1, Change: "change 1 (create group NEW)", Kind: KindGroup, Key: "NEW", Planned: "absent", Now: "present (id 1005)"},
				{ChangeID: 2, Change: "change 2 (update group E1)", Kind: KindGroup, Key: "E1", Planned: "present", Now: "deleted"},
				{ChangeID: 3, Change: "change 3 (move group W1)", Kind: KindGroup, Key: "E1", Planned: "active", Now: "deleted"},
				{ChangeID: 4, Change: "change 4 (create user new@acme.example)", Kind: KindUser, Key: "new@acme.example", Planned: "absent", Now: "present (id 10003)"},
				{ChangeID: 6, Change: "change 6 (deactivate user al@acme.example)", Kind: KindUser, Key: "al@acme.example", Planned: "active", Now: "inactive"},
				{ChangeID: 7, Change: "change 7 (delete group OLD)", Kind: KindGroup, Key: "OLD", Planned: "present", Now: "deleted"},
			},
		},
		{
			name: "missing, moved elsewhere, another root",
			mutate: func(c *state.CurrentState) {
				c.RootID = 2001
				c.Groups[2].ParentID = 1004
				c.Groups[2].Name = "Far West"
				c.Users = c.Users[1:] // jo is gone
			},
			want: []Drift{
				{Change: "plan", Kind: KindGroup, Key: "root", Field: "root_id", Planned: "1001", Now: "2001"},
				{ChangeID: 3, Change: "change 3 (move group W1)", Kind: KindGroup, Key: "W1", Field: FieldParent, Planned: "1001", Now: "1004"},
				{ChangeID: 5, Change: "change 5 (update user jo@acme.example)", Kind: KindUser, Key: "jo@acme.example", Planned: "present", Now: "missing"},
				{ChangeID: 8, Change: "change 8 (rename group W1)", Kind: KindGroup, Key: "W1", Field: FieldName, Planned: "West", Now: "Far West"},
			},
		},
		{
			// A delete has no field to compare: its key is its before-value,
			// so it cannot land on another group than the one reviewed.
			name: "the deleted group's ext id changed",
			mutate: func(c *state.CurrentState) {
				c.Groups[3].ExtID = "OTHER"
			},
			want: []Drift{
				{ChangeID: 7, Change: "change 7 (delete group OLD)", Kind: KindGroup, Key: "OLD", Field: FieldExtID, Planned: "OLD", Now: "OTHER"},
			},
		},
		{
			name: "the deleted group's ext id in its other spelling",
			mutate: func(c *state.CurrentState) {
				c.Groups[3].ExtID = " OLD "
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, cur := staleFixture()
			tt.mutate(cur)
			got := CheckStale(p, cur)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckStale (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriftString(t *testing.T) {
	tests := []struct {
		d    Drift
		want string
	}{
		{
			d:    Drift{ChangeID: 2, Change: "change 2 (update group E1)", Kind: KindGroup, Key: "E1", Field: FieldCity, Planned: "Boston", Now: "Springfield"},
			want: `change 2 (update group E1): group E1: city was "Boston" when planned, now "Springfield"`,
		},
		{
			d:    Drift{ChangeID: 7, Change: "change 7 (delete group OLD)", Kind: KindGroup, Key: "OLD", Planned: "present", Now: "deleted"},
			want: `change 7 (delete group OLD): the group OLD was present when planned, now deleted`,
		},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
