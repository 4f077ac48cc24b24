package statefile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestWriteReadRoundTrip: what export writes (FromCurrent, Write), Read
// gives back unchanged, with roles in canonical form.
func TestWriteReadRoundTrip(t *testing.T) {
	ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	st := FromCurrent(&state.CurrentState{
		RootID: 2000,
		Groups: []state.Group{
			{ID: 2001, ExtID: "K", Name: "Kid", ParentID: 2000, Status: state.StatusInactive, IndustryID: 4},
			{ID: 2000, ExtID: "ROOT", Name: "Root", ParentID: 1001, Status: state.StatusActive, Created: ts},
		},
		Users:      []state.User{{ID: 7, Email: "x@acme.example", Role: state.RoleReadOnly, Status: state.StatusActive, GroupID: 2001}},
		Industries: []state.Industry{{ID: 4, Name: "Home Services"}},
	})
	var b bytes.Buffer
	if err := st.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("round trip (-written +read):\n%s", diff)
	}
	if got.Groups[0].ID != 2000 || got.Groups[0].ParentID != 0 {
		t.Errorf("the root is not first, or kept its parent: %+v", got.Groups[0])
	}
}

func TestReadRefuses(t *testing.T) {
	tests := []struct {
		name, file, want string
		version          bool
	}{
		{"no version", `{"top_group_id": 1}`, "no \"version\"", true},
		{"future version", `{"version": 2}`, "version 2", true},
		{"unknown field", `{"version": 1, "top_group_id": 1, "groups": [{"org_unit_id": 1, "org_unit_name": "A"}], "color": "red"}`, "unknown field", false},
		{"trailing data", `{"version": 1, "top_group_id": 1, "groups": [{"org_unit_id": 1, "org_unit_name": "A"}]} {}`, "not a JSON state object", false},
		{"no top group", `{"version": 1, "top_group_id": 2, "groups": [{"org_unit_id": 1, "org_unit_name": "A"}]}`, "names no group", false},
		{"shared email", `{"version": 1, "top_group_id": 1, "groups": [{"org_unit_id": 1, "org_unit_name": "A"}],
			"users": [{"ct_user_id": 1, "email": "a@x.example", "role": "admin", "group_org_unit_id": 1},
			          {"ct_user_id": 2, "email": " A@x.example", "role": "admin", "group_org_unit_id": 1}]}`, "share the email", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read: %v, want an error with %q", err, tt.want)
			}
			if errors.Is(err, ErrVersion) != tt.version {
				t.Errorf("errors.Is(err, ErrVersion) = %v, want %v", !tt.version, tt.version)
			}
		})
	}
}
