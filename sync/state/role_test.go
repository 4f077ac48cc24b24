package state

import "testing"

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want Role
		ok   bool
	}{
		{"Admin", RoleAdmin, true},
		{"administrator", RoleAdmin, true},
		{"1", RoleAdmin, true},
		{"Standard User", RoleStandard, true},
		{" standard ", RoleStandard, true},
		{"2", RoleStandard, true},
		{"ReadOnly", RoleReadOnly, true},
		{"read-only", RoleReadOnly, true},
		{"Read Only User", RoleReadOnly, true},
		{"3", RoleReadOnly, true},
		{"", "", false},
		{"user", "", false},
		{"superuser", "", false},
		{"4", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseRole(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.APIName() == "" {
			t.Errorf("%q has no API name", got)
		}
	}
	for id := 1; id <= 3; id++ {
		r, ok := RoleFromID(id)
		if !ok || r.ID() != id {
			t.Errorf("RoleFromID(%d) = %q, %v", id, r, ok)
		}
	}
}
