package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A group outside the US holds its number as Convirza shows it, in national
// form; the export has the same number in E.164. In the mapping's phone
// region that is no difference, and neither is a US row's or a German
// row's number in that account (the E.164 side says its country): no
// PATCH, run after run. A number that really differs is still patched.
func TestPhoneRegionNoFalsePatch(t *testing.T) {
	c := cur(grp(2, 1, "LON", "London"), grp(3, 1, "BOS", "Boston"), grp(4, 1, "BER", "Berlin"), grp(5, 1, "MAN", "Manchester"))
	c.Groups[1].Phone = "020 7946 0958"
	c.Groups[2].Phone = "(617) 555-0100"
	c.Groups[3].Phone = "030 1234567"
	c.Groups[4].Phone = "0161 496 0000"
	d := des(dg("LON", "London", ""), dg("BOS", "Boston", ""), dg("BER", "Berlin", ""), dg("MAN", "Manchester", ""))
	d.Groups[0].Phone = ptr("+442079460958")
	d.Groups[1].Phone = ptr("+16175550100")
	d.Groups[2].Phone = ptr("+49301234567")
	d.Groups[3].Phone = ptr("+441614960001")
	d.PhoneRegion = "GB"
	for _, o := range []Options{{}, {PhoneRegion: "GB"}, {PhoneRegion: "gb"}} {
		p := mustPlan(t, d, c, o)
		want := []string{"1 update group MAN {phone_number:0161 496 0000->+441614960001}"}
		var got []string
		for _, ch := range p.Changes {
			got = append(got, changeLine(ch))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("options %+v: changes (-want +got):\n%s", o, diff)
		}
		if p.PhoneRegion != "GB" {
			t.Errorf("plan PhoneRegion = %q, want GB", p.PhoneRegion)
		}
		if d := CheckStale(p, c); len(d) != 0 {
			t.Errorf("options %+v: the plan is stale against the state it was made from: %v", o, d)
		}
	}
	// A region that disagrees with the one the export was read in is
	// refused, not guessed.
	if _, err := Calculate(d, c, Options{PhoneRegion: "US"}); err == nil {
		t.Error("Calculate with PhoneRegion US over an export read in GB: no error")
	}
}

// The stale check compares as the planner does: ext ids by their key, ZIPs
// as ZIPs, phones in the plan's region.
func TestStaleCheckUsesThePlannersRules(t *testing.T) {
	const id18, id15 = "001Dn001wjBTde6IAD", "001Dn001wjBTde6"
	p := &Plan{
		Version: Version, Account: Account{RootID: 1}, PhoneRegion: "GB",
		Changes: []Change{
			{ID: 1, Action: Create, Kind: KindGroup, Key: id18, Parent: Ref{ID: 1},
				Fields: []FieldChange{fc(FieldExtID, "", id18), fc(FieldName, "", "Northwind"), fc(FieldParent, "", "1")}},
			{ID: 2, Action: Update, Kind: KindGroup, Key: "E1", ObjectID: 2, Parent: Ref{ID: 1},
				Fields: []FieldChange{fc(FieldZip, "02134", "02135"), fc(FieldPhone, "+442079460958", "+442079460959")}},
		},
	}
	now := cur(grp(2, 1, "E1", "East"), grp(3, 1, id15, "Northwind"))
	now.Groups[1].Zip = "2134"            // Excel dropped the zero: the same ZIP
	now.Groups[1].Phone = "020 7946 0958" // the same number, in the plan's region
	got := CheckStale(p, now)
	want := []Drift{{ChangeID: 1, Change: "change 1 (create group " + id18 + ")", Kind: KindGroup, Key: id18, Planned: "absent", Now: "present (id 3)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckStale (-want +got):\n%s", diff)
	}
}

// sameValue is the one rule per field; these are its edges.
func TestSameValue(t *testing.T) {
	tests := []struct {
		field, a, b, region string
		want                bool
	}{
		{FieldName, "Boston  HQ", " Boston HQ", "", true},
		{FieldName, "Boston", "boston", "", false},
		{FieldState, "Massachusetts", "MA", "", true},
		{FieldState, "Bavaria", "Bayern", "", false},
		{FieldZip, "2134", "02134", "", true},
		{FieldZip, "SW1A 1AA", "SW1A  1AA", "", true},
		{FieldZip, "02134", "02135", "", false},
		{FieldPhone, "020 7946 0958", "+442079460958", "GB", true},
		{FieldPhone, "020 7946 0958", "+442079460958", "US", true}, // the E.164 side says GB
		{FieldPhone, "(617) 555-0100", "+16175550100", "DE", true},
		{FieldPhone, "617-555-0100", "617-555-0101", "", false},
		{FieldParent, "", "0", "", true},
		{FieldParent, "12", " 12", "", true},
		{FieldParent, "12", "13", "", false},
		{FieldExtID, "001Dn001wjBTde6IAD", "001Dn001wjBTde6", "", true},
		{FieldUsername, "Ann@Example.com", "ann@example.com", "", true},
		{FieldUserExtID, " U1 ", "U1", "", true},
		{FieldUserExtID, "u1", "U1", "", false},
		{FieldRole, "Standard", "standard", "", true},
		{FieldRole, "admin", "standard", "", false},
		{FieldUserStatus, "", "Active", "", true},
	}
	for _, tt := range tests {
		if got := sameValue(tt.field, tt.a, tt.b, tt.region); got != tt.want {
			t.Errorf("sameValue(%s, %q, %q, %q) = %v, want %v", tt.field, tt.a, tt.b, tt.region, got, tt.want)
		}
		if got := sameValue(tt.field, tt.b, tt.a, tt.region); got != tt.want {
			t.Errorf("sameValue(%s, %q, %q, %q) = %v, want %v (reversed)", tt.field, tt.b, tt.a, tt.region, got, tt.want)
		}
	}
}

// Convirza's Create User takes a first and a last name and refuses an
// empty one (the sandbox answers 400): a new user whose row lacks either
// is an invalid row of the plan, found offline, not a failed create at
// apply. A matched user's row needs neither: an absent name is left as it
// is.
func TestNewUserNeedsBothNames(t *testing.T) {
	c := withUsers(cur(grp(2, 1, "A", "A")), usr(100, 2, "kept@x.com", "standard"))
	noFirst := nu("first@x.com", "A")
	noFirst.FirstName = nil
	blankLast := nu("last@x.com", "A")
	blankLast.LastName = ptr("  ")
	d := withDesiredUsers(des(dg("A", "A", "")), du("kept@x.com", "A"), noFirst, blankLast, nu("ok@x.com", "A"))
	p, err := Calculate(d, c, Options{MaxInvalid: mustLimit(t, "2")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 create user ok@x.com {ct_user_ou_id=2 first_name=New last_name=User role=Standard username=ok@x.com}",
		"invalid user first@x.com [first_name]: a new user needs a first_name: Convirza's Create User takes first_name and last_name, and refuses an empty one; the row has none",
		"invalid user last@x.com [last_name]: a new user needs a last_name: Convirza's Create User takes first_name and last_name, and refuses an empty one; the row has none",
	}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func mustLimit(t *testing.T, s string) Limit {
	t.Helper()
	l, err := ParseLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A create the policy drops needs no name: an update-only plan is not held
// up by a nameless row it would never send, while create-only refuses it.
func TestNewUserNamesUnderPolicies(t *testing.T) {
	c := withUsers(cur(grp(2, 1, "A", "A")), usr(100, 2, "kept@x.com", "standard"))
	kept := du("kept@x.com", "A")
	kept.LastName = ptr("Keeper")
	d := withDesiredUsers(des(dg("A", "A", "")), kept, du("nameless@x.com", "A"))
	p, err := Calculate(d, c, Options{Policy: PolicyUpdateOnly})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1 update user kept@x.com {last_name:L100->Keeper}"}, summary(p)); diff != "" || p.Blocked() {
		t.Errorf("update-only (-want +got), blocked %v:\n%s", p.Blocked(), diff)
	}
	p, err = Calculate(d, c, Options{Policy: PolicyCreateOnly})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"invalid user nameless@x.com [first_name]: a new user needs a first_name: Convirza's Create User takes first_name and last_name, and refuses an empty one; the row has none"}
	if diff := cmp.Diff(want, summary(p)); diff != "" || !p.Blocked() {
		t.Errorf("create-only (-want +got), blocked %v:\n%s", p.Blocked(), diff)
	}
}
