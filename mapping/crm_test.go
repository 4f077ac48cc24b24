package mapping

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSalesforceNullIDsAreEmpty(t *testing.T) {
	data := "org_unit_ext_id,org_unit_name,parent_ext_id\nA1,Acme,000000000000000AAA\nA2,Beta,000000000000000\nA3,Gamma,A1\n"
	ds, err := loadString(t, nil, "", kindGroups, "csv", data)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, nil)
	var got []string
	for _, g := range ds.Groups {
		got = append(got, g.ExtID+"<"+g.ParentExtID)
	}
	if diff := cmp.Diff([]string{"A1<", "A2<", "A3<A1"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestRolesMapping(t *testing.T) {
	m, err := parseMapping([]byte("users:\n  columns: {email: Email, role: Profile}\n  roles:\n    System Administrator: admin\n    Marketing User: readonly\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := loadString(t, m, "", kindUsers, "csv", "Email,Profile\na@x.com,System Administrator\nb@x.com,marketing  user\nc@x.com,Standard User\nd@x.com,Chatter Free Administrator\n")
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{{5, "Profile", "d@x.com", E, "unknown role \"Chatter Free Administrator\" (Convirza's roles are admin, standard and readonly; the nearest is admin): to map it, add to the mapping\n  users:\n    roles:\n      Chatter Free Administrator: admin"}})
	var got []string
	for _, u := range ds.Users {
		got = append(got, u.Email+"="+string(*u.Role))
	}
	if diff := cmp.Diff([]string{"a@x.com=admin", "b@x.com=readonly", "c@x.com=standard"}, got); diff != "" {
		t.Error(diff)
	}
	if _, err := parseMapping([]byte("users:\n  roles:\n    Boss: owner\n"), ""); err == nil {
		t.Error("a role map to an unknown role: no error")
	}
}

// TestCanadaWithoutCountry: a row whose province and postal code are both
// Canadian is Canadian with no country column; a row that is only half
// Canadian keeps the US rules, and the message says to map the country.
func TestCanadaWithoutCountry(t *testing.T) {
	data := "org_unit_ext_id,org_unit_name,state,zip,phone_number\n" +
		"C1,Toronto,Ontario,M5H 2N2,416-555-0120\n" +
		"C2,Montréal,QC,h2y1c6,\n" +
		"U1,Boston,MA,02134,617-555-0100\n" +
		"X1,Half,Ontario,02134,\n"
	ds, err := loadString(t, nil, "", kindGroups, "csv", data)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{{5, "state", "X1", E, `not a US state: "Ontario" (a row outside the US needs its country: map groups.columns.country to the export's country column)`}})
	type g struct{ Ext, State, Zip, Phone string }
	var got []g
	for _, x := range ds.Groups {
		got = append(got, g{x.ExtID, deref(x.State), deref(x.Zip), deref(x.Phone)})
	}
	want := []g{{"C1", "Ontario", "M5H 2N2", "+14165550120"}, {"C2", "QC", "h2y1c6", "<nil>"}, {"U1", "MA", "02134", "+16175550100"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCanadianPostal(t *testing.T) {
	for in, want := range map[string]string{"M5H 2N2": "M5H 2N2", "m5h2n2": "M5H 2N2", "K1A-0B1": "K1A 0B1", "W1A 0A1": "", "D5H 2N2": "", "02134": "", "M5H 2N": ""} {
		got, ok := canadianPostal(in)
		if got != want || ok != (want != "") {
			t.Errorf("canadianPostal(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestMappingBounds: a mapping over the size limit, or whose aliases
// expand past the node limit ("billion laughs"), is refused before it is
// decoded; a few aliases are fine.
func TestMappingBounds(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	tests := []struct{ name, yaml, want string }{
		{"billion laughs", laughs, "expands to more than 100000 values"},
		{"too big", "groups:\n  industries:\n" + strings.Repeat("    aaaaaaaaaaaaaaaaaaaaaaaaa: bbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", 20000), "a mapping is at most 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMapping([]byte(tc.yaml), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	ok := "x: &cols {org_unit_ext_id: Id, org_unit_name: Name}\ngroups:\n  columns: *cols\n"
	if _, err := parseMapping([]byte(ok), ""); err != nil && strings.Contains(err.Error(), "expands") {
		t.Errorf("a single alias refused: %v", err)
	}
}
