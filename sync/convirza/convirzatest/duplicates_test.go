package convirzatest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestStateDuplicates(t *testing.T) {
	st := State{
		Groups: []Group{
			{ID: 1, Name: "Top", Status: state.StatusActive},
			{ID: 2, ParentID: 1, ExtID: "A", Name: "East", Status: state.StatusActive},
			{ID: 3, ParentID: 1, ExtID: "A", Name: " east ", Status: state.StatusActive},
			{ID: 4, ParentID: 1, ExtID: "B", Name: "East", Status: state.StatusDeleted}, // deleted: free
		},
		Users: []User{
			{ID: 10, Email: "Jo@x.com", Status: state.StatusActive},
			{ID: 11, Email: "jo@x.com", Status: state.StatusInactive},
			{ID: 12, Email: "al@x.com", Status: state.StatusDeleted},
			{ID: 13, Email: "al@x.com", Status: state.StatusActive},
		},
	}
	want := []string{
		`email "jo@x.com" is there 2 times`,
		`ext id "A" is there 2 times`,
		`sibling name "1/east" is there 2 times`,
	}
	if d := cmp.Diff(want, st.Duplicates()); d != "" {
		t.Errorf("Duplicates (-want +got):\n%s", d)
	}
	if got := (State{Groups: st.Groups[:2]}).Duplicates(); len(got) != 0 {
		t.Errorf("a clean state has duplicates: %q", got)
	}
}
