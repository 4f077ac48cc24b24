package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestParseMapping(t *testing.T) {
	m, err := parseMapping([]byte(`groups:
  columns:
    org_unit_ext_id: Account ID
    org_unit_name: Account Name
    parent_name: Parent Company
    industry_id: Industry Code
    country: Billing Country
  industries:
    Food & Beverage: Restaurants
    Dental: 12
  empty: {phone_number: clear, city: ignore}
users:
  match: user_ext_id
  defaults: {role: Standard User}
  columns: {email: Email, user_ext_id: Employee ID}
phone_region: ca
`), "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Mapping{
		Groups: GroupsMapping{
			Columns: map[string]string{"org_unit_ext_id": "Account ID", "org_unit_name": "Account Name", "parent_name": "Parent Company",
				"industry_id": "Industry Code", "country": "Billing Country"},
			Industries: map[string]string{"Food & Beverage": "Restaurants", "Dental": "12"},
			Empty:      map[string]EmptyPolicy{"phone_number": EmptyClear, "city": EmptyIgnore},
		},
		Users: UsersMapping{
			Match:    state.MatchExtID,
			Defaults: UserDefaults{Role: "Standard User"},
			Columns:  map[string]string{"email": "Email", "user_ext_id": "Employee ID"},
		},
		PhoneRegion: "ca",
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("mapping (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"food & beverage": "Restaurants", "dental": "12"}, m.industrySynonyms()); diff != "" {
		t.Errorf("synonyms (-want +got):\n%s", diff)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestParseMappingErrors: every fault of a mapping file names its line.
func TestParseMappingErrors(t *testing.T) {
	type fault struct {
		Line int
		Msg  string
	}
	tests := []struct {
		name string
		yaml string
		want []fault
	}{
		{"an unknown key", "groups:\n  columns:\n    org_unit_ext_id: A\n    org_unit_name: B\n  colums: {}\n", []fault{{5, `unknown field "colums"`}}},
		{"an unknown top-level key", "phone_region: US\nroot: x\n", []fault{{2, `unknown field "root"`}}},
		{"a key given twice", "users:\n  match: email\n  match: user_ext_id\n", []fault{{3, `mapping key "match" already defined`}}},
		{"not YAML", "groups: [\n", []fault{{1, "mapping:"}}},
		{
			"an unknown Convirza field, with a suggestion",
			"groups:\n  columns:\n    org_unit_ext_id: A\n    org_unit_name: B\n    phone: Phone\n    zipcode: Zip\n",
			[]fault{{5, `groups.columns: unknown Convirza field "phone" (did you mean "phone_number"?)`}, {6, `unknown Convirza field "zipcode" (did you mean "zip"?)`}},
		},
		{
			"both industry and industry_id",
			"groups:\n  columns:\n    org_unit_ext_id: A\n    org_unit_name: B\n    industry: Industry\n    industry_id: Industry Code\n",
			[]fault{{6, "groups.columns maps both industry and industry_id; map one"}},
		},
		{
			"both parent_ext_id and parent_name",
			"groups:\n  columns:\n    org_unit_ext_id: A\n    org_unit_name: B\n    parent_name: P\n    parent_ext_id: Q\n",
			[]fault{{5, "groups.columns maps both parent_ext_id and parent_name; map one"}},
		},
		{
			"required columns not mapped",
			"groups:\n  columns:\n    city: City\nusers:\n  match: user_ext_id\n  columns:\n    first_name: First\n",
			[]fault{
				{2, "groups.columns does not map org_unit_ext_id"},
				{2, "groups.columns does not map org_unit_name"},
				{6, "users.columns does not map email"},
				{5, "users.match is user_ext_id but users.columns does not map user_ext_id"},
			},
		},
		{
			"empty policies",
			"groups:\n  empty:\n    phone_number: wipe\n    org_unit_name: clear\n    industry: clear\n    fax: clear\n",
			[]fault{
				{6, `groups.empty: unknown Convirza field "fax"`},
				{5, "groups.empty.industry: industry cannot be cleared"},
				{4, "groups.empty.org_unit_name: org_unit_name cannot be cleared"},
				{3, `groups.empty.phone_number: "wipe" is neither clear nor ignore`},
			},
		},
		{
			// Convirza refuses an empty first or last name
			"names cannot be cleared",
			"users:\n  empty:\n    first_name: clear\n    last_name: clear\n    user_ext_id: clear\n",
			[]fault{
				{3, "users.empty.first_name: first_name cannot be cleared"},
				{4, "users.empty.last_name: last_name cannot be cleared"},
			},
		},
		{
			"bad settings",
			"users:\n  match: username\n  defaults:\n    role: owner\nphone_region: Narnia\n",
			[]fault{
				{2, `users.match: "username" is neither email nor user_ext_id`},
				{4, `users.defaults.role: unknown role "owner"`},
				{5, `phone_region: "Narnia" is not a region`},
			},
		},
		{
			"an empty CRM column",
			"groups:\n  columns:\n    org_unit_ext_id: \"\"\n    org_unit_name: Name\n",
			[]fault{{3, "groups.columns.org_unit_ext_id: the CRM column is empty"}, {2, "groups.columns does not map org_unit_ext_id"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMapping([]byte(tt.yaml), "")
			if err == nil {
				t.Fatal("no error")
			}
			var got []fault
			var fe *FileError
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				if !errors.As(e, &fe) {
					t.Fatalf("not a *FileError: %v", e)
				}
				got = append(got, fault{fe.Line, fe.Message})
			}
			for i := range got {
				if i < len(tt.want) && strings.Contains(got[i].Msg, tt.want[i].Msg) {
					got[i].Msg = tt.want[i].Msg
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("faults (-want +got):\n%s\n(error: %v)", diff, err)
			}
		})
	}
}

func TestLoadMapping(t *testing.T) {
	for _, p := range []string{"clean", "salesforce", "hubspot"} {
		if _, err := LoadMapping("../testdata/exports/" + p + "/mapping.yaml"); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	_, err := LoadMapping("../testdata/exports/nope.yaml")
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != "nope.yaml" {
		t.Errorf("missing mapping file: %v", err)
	}
	// A mapping with users columns only reads groups by canonical names.
	m, err := parseMapping([]byte("users:\n  columns: {email: E-mail}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Groups.OptionalColumns || m.Users.OptionalColumns {
		t.Errorf("optional: groups %v, users %v", m.Groups.OptionalColumns, m.Users.OptionalColumns)
	}
	if s := m.section(kindGroups, false); s.columns[gExtID] != "org_unit_ext_id" || !s.optional {
		t.Errorf("groups section: %+v", s)
	}
}

func TestDefaultMapping(t *testing.T) {
	m := DefaultMapping()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range groupFields {
		names = append(names, m.Groups.Columns[f.name])
	}
	want := []string{"org_unit_ext_id", "org_unit_name", "parent_ext_id", "parent_name", "address", "city", "state", "zip",
		"phone_number", "industry", "industry_id", "country"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("canonical group columns (-want +got):\n%s", diff)
	}
	if m.Users.Match != state.MatchEmail || len(m.Users.Columns) != 6 || !m.Groups.OptionalColumns || !m.Users.OptionalColumns {
		t.Errorf("users: %+v", m.Users)
	}
}
