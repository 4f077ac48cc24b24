package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

const exports = "../testdata/exports/"

func mustMapping(t *testing.T, path string) *Mapping {
	t.Helper()
	m, err := LoadMapping(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func groupByExt(ds *state.DesiredState, ext string) *state.DesiredGroup {
	for i := range ds.Groups {
		if ds.Groups[i].ExtID == ext {
			return &ds.Groups[i]
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestSalesforceExport loads the messy Salesforce Account export (BOM,
// CRLF, odd header spacing and case, a multi-line address, 15- and
// 18-character ids, null markers, Excel damage) with its users.
func TestSalesforceExport(t *testing.T) {
	ds, err := Load(LoadOptions{
		GroupsPath: exports + "salesforce/accounts.csv",
		UsersPath:  exports + "salesforce/users.csv",
		Mapping:    mustMapping(t, exports+"salesforce/mapping.yaml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{7, "Account ID", "001Hs00000LoC02IAF", E, `duplicate org_unit_ext_id "001Hs00000LoC02IAF": also on line 13`},
		{8, "Phone", "001Hs00000LoC03IAF", E, `bad phone number "555-0199"`},
		{9, "Parent Account ID", "001Hs00000LoC04IAF", E, `parent_ext_id "001Hs00000ReGzZIAV" names no row of the export`},
		{10, "Billing State/Province", "001Hs00000LoC05IAF", E, `not a US state: "Masachusetts"`},
		{11, "Billing Zip/Postal Code", "001Hs00000LoC06IAF", E, `not a US ZIP code: "ABCDE"`},
		{12, "Phone", "001Hs00000LoC07IAF", E, "the cell holds the Excel error #REF!"},
		{13, "Account ID", "001Hs00000LoC02IAF", E, "also on line 7"},
		{14, "Billing city", "001Hs00000LoC08IAF", E, "expected 12 fields, got 5"},
		{15, "Account Name", "001Hs00000LoC09IAF", E, "bad quoting at line 15"},
		{16, "Account Name", "001Hs00000LoC10IAF", E, "missing org_unit_name"},
		{17, "Account Name", "001Hs00000LoC11IAF", E, `missing org_unit_name (the cell holds "N/A", a null marker)`},
		{21, "Parent Account ID", "001Hs00000LoC14IAF", E, `parent cycle: "001Hs00000LoC14IAF" -> "001Hs00000LoC15IAF" -> "001Hs00000LoC14IAF"`},
		{22, "Parent Account ID", "001Hs00000LoC15IAF", E, "parent cycle"},
		{3, "Email", "lee.park@acmehealth.example", E, `duplicate email (ignoring case) "lee.park@acmehealth.example": also on line 4`},
		{4, "Email", "LEE.PARK@AcmeHealth.example", E, "also on line 3"},
		{5, "Email", "not-an-email", E, `bad email "not-an-email"`},
		{6, "Email", "F104", E, "missing email"},
		{7, "Role", "pat.quinn@acmehealth.example", E, `unknown role "superuser"`},
		{8, "Account ID", "ria.bose@acmehealth.example", E, `group_ext_id "001Hs00000ReGzZIAV" names no group of the export`},
		{9, "Account ID", "tom.hale@acmehealth.example", E, `group row "001Hs00000LoC02IAF" (accounts.csv:7) is invalid; this user depends on it`},
		{6, "Billing Zip/Postal Code", "001Hs00000LoC01IAF", W, `ZIP "2116" padded to "02116"`},
		{6, "Phone", "001Hs00000LoC01IAF", W, `extension "204" dropped`},
		{18, "", "", W, "empty row skipped"},
	})
	for _, p := range ds.Invalid[:13] {
		if p.Source.File != "accounts.csv" || p.Kind != "group" {
			t.Errorf("%v: file %q kind %q", p, p.Source.File, p.Kind)
		}
	}
	type g struct{ Name, Parent, Address, City, State, Zip, Phone, Industry string }
	view := func(ext string) g {
		x := groupByExt(ds, ext)
		if x == nil {
			return g{}
		}
		return g{x.Name, x.ParentExtID, deref(x.Address), deref(x.City), deref(x.State), deref(x.Zip), deref(x.Phone), deref(x.Industry)}
	}
	got := map[string]g{}
	for _, ext := range []string{"001Hs00000ReGnEIAV", "001Hs00000ReGcAIAV", "001Hs00000LoC01IAF", "001Hs00000LoC12IAF", "001Hs00000LoC16IAF"} {
		got[ext] = view(ext)
	}
	wantG := map[string]g{
		// A multi-line address is collapsed; "new york" is NY.
		"001Hs00000ReGnEIAV": {"Acme Health Northeast", "001Hs00000CoRp1IAF", "One Lincoln Plaza Suite 400", "New York", "NY", "10023", "+12125550110", "Healthcare"},
		// The parent was given in its 15-character form; Canada passes through.
		"001Hs00000ReGcAIAV": {"Acme Health Canada", "001Hs00000CoRp1IAF", "200 Bay Street", "Toronto", "Ontario", "M5J 2J2", "+14165550120", "Healthcare"},
		"001Hs00000LoC01IAF": {"Acme Back Bay", "001Hs00000ReGnEIAV", "500 Boylston St.", "Boston", "MA", "02116", "+16175550142", "Dental Practice"},
		// The UK row: no state, its ZIP as is, its phone in the GB region.
		"001Hs00000LoC12IAF": {"Acme London", "001Hs00000CoRp1IAF", "1 Poultry", "London", "<nil>", "EC2R 8EJ", "+442079460958", "Dental Practice"},
		// An empty Phone, and the mapping says clear.
		"001Hs00000LoC16IAF": {"Acme Quincy", "001Hs00000ReGnEIAV", "1 Hancock Street", "Quincy", "MA", "02169", "", "Dental Practice"},
	}
	if diff := cmp.Diff(wantG, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if p := groupByExt(ds, "001Hs00000LoC02IAF"); p != nil {
		t.Error("a duplicate row was kept")
	}
	if x := groupByExt(ds, "001Hs00000LoC03IAF"); x != nil {
		t.Error("a row with a bad phone was kept")
	}
	if len(ds.Groups) != 7 {
		t.Errorf("%d valid groups, want 7", len(ds.Groups))
	}
	var users []string
	for _, u := range ds.Users {
		users = append(users, u.Email+" "+string(*u.Role)+" "+deref(u.GroupExtID)+" "+deref(u.FirstName))
	}
	wantU := []string{
		"dana.whitfield@acmehealth.example admin 001Hs00000CoRp1IAF Dana",
		"zoe.kerr@acmehealth.example admin  Zoe",
		"al.vance@acmehealth.example standard 001Hs00000CoRp1IAF Al",
	}
	if diff := cmp.Diff(wantU, users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"dental practice": "Healthcare"}, ds.IndustrySynonyms); diff != "" {
		t.Error(diff)
	}
	if got := Problems(ds); got.InvalidRows != 20 || got.InvalidGroups != 13 || got.InvalidUsers != 7 || got.Warnings != 3 {
		t.Errorf("Problems = %+v", got)
	}
}

// TestHubSpotExport loads the messy HubSpot companies export: parents by
// name, a Record ID Excel turned into scientific notation, Latin-1 bytes,
// a multi-line quoted address with a comma.
func TestHubSpotExport(t *testing.T) {
	// The file is Excel's plain CSV: windows-1252 ("Café" on line 11).
	// Read as UTF-8 it is one file-level error that names the fix.
	_, err := Load(LoadOptions{GroupsPath: exports + "hubspot/companies.csv", Mapping: mustMapping(t, exports+"hubspot/mapping.yaml")})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 11 || !strings.Contains(fe.Message, "--encoding windows-1252") || !strings.Contains(fe.Message, `"Company name"`) {
		t.Fatalf("read as UTF-8: got %v, want one file error at line 11 naming --encoding windows-1252", err)
	}
	ds, err := Load(LoadOptions{GroupsPath: exports + "hubspot/companies.csv", Mapping: mustMapping(t, exports+"hubspot/mapping.yaml"), Encoding: "windows-1252"})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{5, "Record ID", "", E, `"1.23457E+11" is in scientific notation: Excel rounded this number and its digits are lost`},
		{6, "Parent Company", "5100000005", E, `parent_name "Bayside Southbay" matches no row of the export`},
		{10, "Parent Company", "5100000009", E, `parent_name "Bayside Clinic" matches 2 rows (lines 8, 9)`},
		{14, "Parent Company", "5100000012", E, `parent cycle: "5100000012" -> "5100000013" -> "5100000012"`},
		{15, "Parent Company", "5100000013", E, `parent cycle: "5100000013" -> "5100000012" -> "5100000013"`},
		{16, "Phone Number", "5100000014", W, `extension "7" dropped`},
	})
	type g struct {
		Line                                     int
		Name, Parent, Address, State, Zip, Phone string
	}
	var got []g
	for _, x := range ds.Groups {
		got = append(got, g{x.Source.Line, x.Name, x.ParentExtID, deref(x.Address), deref(x.State), deref(x.Zip), deref(x.Phone)})
	}
	wantG := []g{
		{2, "Bayside Family Dental Group", "", "1 Harbor Way", "CA", "92101", "+16195550100"},
		{3, "Bayside North County", "5100000001", "200 Coast Highway", "CA", "92054", "+17605550101"},
		{4, "Bayside Downtown", "5100000001", "300 Broadway", "CA", "92101", "+16195550102"}, // "bayside family dental group", any case
		{7, "Bayside La Jolla", "5100000002", "600 Prospect Street", "CA", "92037", "+16195550106"},
		{8, "Bayside Clinic", "5100000002", "700 Mission Avenue", "CA", "92054", "+17605550107"},
		{9, "Bayside Clinic", "5100000003", "800 Market Street", "CA", "92101", "+16195550108"},
		{11, "Café Azul Dental", "5100000003", "1000 India Street", "CA", "92101", "+16195550110"},
		{12, "Bayside Capitol", "5100000001", "1 Dupont Circle NW, Suite 200", "DC", "20036", "+12025550111"},
		{16, "Bayside Temecula", "5100000002", "27 Old Town Front Street", "CA", "92590", "+19515550114"},
		{17, "Bayside Escondido", "5100000002", "16 Grand Avenue", "CA", "92025", "<nil>"}, // Phone "N/A"
	}
	if diff := cmp.Diff(wantG, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"hospital_health_care": "Healthcare", "food & beverage": "Restaurants"}, ds.IndustrySynonyms); diff != "" {
		t.Error(diff)
	}
}

// TestCleanExample is the example set the demo uses: no problem at all.
func TestCleanExample(t *testing.T) {
	ds, err := Load(LoadOptions{
		GroupsPath: exports + "clean/groups.csv",
		UsersPath:  exports + "clean/users.csv",
		Mapping:    mustMapping(t, exports+"clean/mapping.yaml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, nil)
	if len(ds.Groups) != 40 || len(ds.Users) != 30 {
		t.Fatalf("%d groups, %d users", len(ds.Groups), len(ds.Users))
	}
	depth := map[string]int{}
	for _, g := range ds.Groups { // parents come first in this export
		depth[g.ExtID] = depth[g.ParentExtID] + 1
		if g.Phone == nil || !strings.HasPrefix(*g.Phone, "+1") || g.State == nil || g.Zip == nil || g.Industry == nil {
			t.Errorf("line %d: incomplete %+v", g.Source.Line, g)
		}
	}
	levels := map[int]int{}
	for _, d := range depth {
		levels[d]++
	}
	if diff := cmp.Diff(map[int]int{1: 1, 2: 4, 3: 35}, levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	for _, u := range ds.Users {
		if u.Role == nil || u.GroupExtID == nil || groupByExt(ds, *u.GroupExtID) == nil {
			t.Errorf("user line %d: %+v", u.Source.Line, u)
		}
	}
}

// TestJSONArrayExport: an array of row objects goes through the mapping;
// lines are where each object starts; values may be numbers or null.
func TestJSONArrayExport(t *testing.T) {
	ds, err := Load(LoadOptions{GroupsPath: exports + "json/companies.json", Mapping: mustMapping(t, exports+"hubspot/mapping.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{8, "Record ID", "", E, `"1.23457e+11" is in scientific notation`},
		{9, "Phone Number", "5100000004", E, "expected text or a number, got a boolean (true)"},
		{11, "Company name", "5100000005", E, "expected text or a number, got an array"},
		{12, "", "", E, "expected a row object, got a string"},
		{5, "Postal Code", "5100000002", W, `ZIP "2054" padded to "02054"`},
		{13, "Phone Number", "5100000007", W, `extension "3" dropped`},
	})
	type g struct {
		Line                                    int
		Ext, Name, Parent, Zip, Phone, Industry string
	}
	var got []g
	for _, x := range ds.Groups {
		got = append(got, g{x.Source.Line, x.ExtID, x.Name, x.ParentExtID, deref(x.Zip), deref(x.Phone), deref(x.Industry)})
	}
	wantG := []g{
		{2, "5100000001", "Bayside Family Dental Group", "", "92101", "+16195550100", "HOSPITAL_HEALTH_CARE"},
		{5, "5100000002", "Bayside North County", "5100000001", "02054", "+17605550101", "HOSPITAL_HEALTH_CARE"},
		{13, "5100000007", "Bayside Carlsbad", "5100000002", "92008", "+17605550107", "Food & Beverage"},
	}
	if diff := cmp.Diff(wantG, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

// TestJSONCombinedExport: {"groups": [...], "users": [...]} with canonical
// keys, given as the groups file alone or as both: the same.
func TestJSONCombinedExport(t *testing.T) {
	p := exports + "json/combined.json"
	a, errA := Load(LoadOptions{GroupsPath: p})
	b, errB := Load(LoadOptions{GroupsPath: p, UsersPath: "../testdata/exports/json/../json/combined.json"})
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("alone and both differ:\n%s", diff)
	}
	checkProblems(t, a, []want{
		{6, "parent_ext_id", "CAM", E, `parent_ext_id "NOPE" names no row`},
		{9, "email", "ann@example.com", E, "also on line 10"},
		{10, "email", "ANN@example.com", E, "also on line 9"},
		{11, "role", "bo@example.com", E, `unknown role "owner"`},
		{11, "group_ext_id", "bo@example.com", E, `group_ext_id "GONE" names no group`},
	})
	if !a.GroupsManaged || !a.UsersManaged {
		t.Error("both are managed")
	}
	id := int64(12)
	s := func(v string) *string { return &v }
	wantG := []state.DesiredGroup{
		{Source: state.Source{File: "combined.json", Line: 3}, ExtID: "NE", Name: "Northeast", State: s("MA"), Zip: s("02110")},
		{Source: state.Source{File: "combined.json", Line: 4}, ExtID: "BOS", Name: "Boston", ParentExtID: "NE", Phone: s("+16175550142"), IndustryID: &id},
	}
	if diff := cmp.Diff(wantG, a.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(a.Users) != 1 || a.Users[0].Email != "cy@example.com" || deref(a.Users[0].GroupExtID) != "" {
		t.Errorf("users: %+v", a.Users)
	}
	// Given as the users file alone, a file with groups is refused.
	if _, err := Load(LoadOptions{UsersPath: p}); err == nil || !strings.Contains(err.Error(), "give it as the groups file") {
		t.Errorf("users alone: %v", err)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
