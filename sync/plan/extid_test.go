package plan

import (
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Convirza holds ext ids in one spelling and the export writes another:
// a Salesforce 18-character id against its 15-character form, a GUID in
// braces and upper case against the plain lower-case one. They are the
// same records: nothing is created, patched or deleted, even in mirror.
func TestExtIDSpellingsMatch(t *testing.T) {
	c := withUsers(cur(
		grp(2, 1, "001Dn001wjBTde6IAD", "Northwind"),
		grp(3, 2, "{8A7B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D}", "Boston"),
	), usr(50, 3, "ann@example.com", state.RoleStandard))
	d := withDesiredUsers(des(
		dg("001Dn001wjBTde6", "Northwind", ""),
		dg("8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d", "Boston", "001Dn001wjBTde6"),
	), state.DesiredUser{Email: "ann@example.com", GroupExtID: ptr("8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d")})
	p, err := Calculate(d, c, Options{Policy: PolicyMirror})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes)+len(p.Refused)+len(p.Invalid) != 0 {
		t.Errorf("want an empty plan, got changes %+v, refused %+v, invalid %+v", p.Changes, p.Refused, p.Invalid)
	}
	if p.Unchanged.Groups != 2 || p.Unchanged.Users != 1 {
		t.Errorf("unchanged = %+v, want 2 groups and 1 user", p.Unchanged)
	}
}

// The root's ext id, in another spelling, still names the root.
func TestRootExtIDSpelling(t *testing.T) {
	c := cur(grp(2, 1, "A", "Alpha"))
	c.Groups[0].ExtID = "{8A7B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D}"
	d := des(dg("A", "Alpha", "8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"))
	p, err := Calculate(d, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes)+len(p.Invalid) != 0 {
		t.Errorf("want an empty plan, got changes %+v, invalid %+v", p.Changes, p.Invalid)
	}
}
