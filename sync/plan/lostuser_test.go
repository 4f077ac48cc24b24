package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// A user that a mirror run deactivated, and whose group it then deleted,
// comes back to the export: it is reactivated into its new group, not
// created again (its username is still taken, so a create would get 409).
func TestReactivateUserWhoseGroupWasDeleted(t *testing.T) {
	carol := usr(50, 2, "carol@example.com", state.RoleStandard)
	carol.Status = state.StatusInactive
	gone := grp(2, 1, "W1", "West One")
	gone.Status = state.StatusDeleted
	c := withUsers(cur(gone, grp(3, 1, "WEST", "West")), carol)
	d := withDesiredUsers(des(dg("WEST", "West", "")),
		state.DesiredUser{Email: "carol@example.com", GroupExtID: ptr("WEST")})

	p, err := Calculate(d, c, Options{Policy: PolicyUpsert})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("want one change, got %d: %+v", len(p.Changes), p.Changes)
	}
	ch := p.Changes[0]
	if ch.Action != Reactivate || ch.ObjectID != 50 {
		t.Fatalf("want a reactivation of user 50, got %s of %d", ch.Action, ch.ObjectID)
	}
	want := []FieldChange{
		{Field: FieldUserGroup, Before: "2", After: "3", BeforeLabel: "deleted group 2", AfterLabel: "WEST"},
		{Field: FieldUserStatus, Before: "inactive", After: "active"},
	}
	if d := cmp.Diff(want, ch.Fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}
