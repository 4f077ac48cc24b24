package mapping

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/keyjoin"
)

// want is a problem as the tests state it: the message need only contain
// Msg.
type want struct {
	Line   int
	Column string
	Key    string
	Sev    state.Severity
	Msg    string
}

const (
	E = state.SeverityError
	W = state.SeverityWarning
)

// checkProblems compares the errors, then the warnings, of ds to ws.
func checkProblems(t *testing.T, ds *state.DesiredState, ws []want) {
	t.Helper()
	var got []want
	for _, ps := range [][]state.Problem{ds.Invalid, ds.Warnings} {
		for _, p := range ps {
			got = append(got, want{Line: p.Source.Line, Column: p.Column, Key: p.Key, Sev: p.Severity, Msg: p.Message})
		}
	}
	for i := range got {
		if i < len(ws) && ws[i].Msg != "" && strings.Contains(got[i].Msg, ws[i].Msg) {
			got[i].Msg = ws[i].Msg
		}
	}
	if diff := cmp.Diff(ws, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func loadString(t *testing.T, m *Mapping, root string, k kind, format, data string) (*state.DesiredState, error) {
	t.Helper()
	name := "export." + format
	return loadReader(m, root, k, format, name, strings.NewReader(data))
}

const groupsHeader = "org_unit_ext_id,org_unit_name,parent_ext_id,address,city,state,zip,phone_number,industry\n"

// TestGroupRowProblems covers every kind of row problem of a groups CSV,
// each at its exact line and column.
func TestGroupRowProblems(t *testing.T) {
	tests := []struct {
		name string
		root string
		data string
		want []want
		keys []string // the ext ids of the valid groups, in order
	}{
		{
			name: "ragged row, too few fields",
			data: groupsHeader + "A1,Acme\n",
			want: []want{{2, "parent_ext_id", "A1", E, "expected 9 fields, got 2"}},
		},
		{
			name: "ragged row, too many fields",
			data: groupsHeader + "A1,Acme,,,,,,,,surplus\nA2,Beta,,,,,,,\n",
			want: []want{{2, "", "A1", E, "expected 9 fields, got 10"}},
			keys: []string{"A2"},
		},
		{
			name: "missing ext id",
			data: groupsHeader + ",Acme,,,,,,,\n",
			want: []want{{2, "org_unit_ext_id", "", E, "missing org_unit_ext_id"}},
		},
		{
			name: "missing name",
			data: groupsHeader + "A1,  ,,,,,,,\n",
			want: []want{{2, "org_unit_name", "A1", E, "missing org_unit_name"}},
		},
		{
			name: "null marker as the name",
			data: groupsHeader + "A1,NULL,,,,,,,\nA2,n/a,,,,,,,\nA3,#N/A,,,,,,,\nA4,-,,,,,,,\n",
			want: []want{
				{2, "org_unit_name", "A1", E, `the cell holds "NULL", a null marker`},
				{3, "org_unit_name", "A2", E, `"n/a", a null marker`},
				{4, "org_unit_name", "A3", E, `"#N/A", a null marker`},
				{5, "org_unit_name", "A4", E, `"-", a null marker`},
			},
		},
		{
			name: "duplicate ext id names both lines",
			data: groupsHeader + "A1,Acme,,,,,,,\nA2,Beta,,,,,,,\nA1,Acme again,,,,,,,\n",
			want: []want{
				{2, "org_unit_ext_id", "A1", E, `duplicate org_unit_ext_id "A1": also on line 4`},
				{4, "org_unit_ext_id", "A1", E, `duplicate org_unit_ext_id "A1": also on line 2`},
			},
			keys: []string{"A2"},
		},
		{
			name: "three copies and two keys, each copy naming the others",
			data: groupsHeader + "B1,One,,,,,,,\nA1,Acme,,,,,,,\nB1,Two,,,,,,,\nA1,Acme 2,,,,,,,\nC1,Fine,,,,,,,\nA1,Acme 3,,,,,,,\n",
			want: []want{
				{2, "org_unit_ext_id", "B1", E, `duplicate org_unit_ext_id "B1": also on line 4`},
				{3, "org_unit_ext_id", "A1", E, `duplicate org_unit_ext_id "A1": also on lines 5, 7`},
				{4, "org_unit_ext_id", "B1", E, `duplicate org_unit_ext_id "B1": also on line 2`},
				{5, "org_unit_ext_id", "A1", E, `duplicate org_unit_ext_id "A1": also on lines 3, 7`},
				{7, "org_unit_ext_id", "A1", E, `duplicate org_unit_ext_id "A1": also on lines 3, 5`},
			},
			keys: []string{"C1"},
		},
		{
			name: "a Salesforce 18-character id and its 15-character form are one key",
			data: groupsHeader + "001Hs00000CoRp1IAF,Acme,,,,,,,\n001Hs00000CoRp1,Acme,,,,,,,\n001hs00000corp1,Other,,,,,,,\n",
			want: []want{
				{2, "org_unit_ext_id", "001Hs00000CoRp1IAF", E, "also on line 3"},
				{3, "org_unit_ext_id", "001Hs00000CoRp1", E, "also on line 2"},
			},
			keys: []string{"001hs00000corp1"}, // other case: another record
		},
		{
			name: "parent_ext_id that names no row",
			root: "ROOT",
			data: groupsHeader + "A1,Acme,ROOT,,,,,,\nA2,Beta,A9,,,,,,\nA3,Gamma,A1,,,,,,\n",
			want: []want{{3, "parent_ext_id", "A2", E, `parent_ext_id "A9" names no row of the export and is not the root's ext id (for a partial export, pass --root)`}},
			keys: []string{"A1", "A3"},
		},
		{
			name: "parent cycle, listed, on each row of it",
			data: groupsHeader + "A1,Acme,A3,,,,,,\nA2,Beta,A1,,,,,,\nA3,Gamma,A2,,,,,,\nA4,Delta,A4,,,,,,\nA5,Leaf,A2,,,,,,\n",
			want: []want{
				{2, "parent_ext_id", "A1", E, `parent cycle: "A1" -> "A3" -> "A2" -> "A1"`},
				{3, "parent_ext_id", "A2", E, `parent cycle: "A2" -> "A1" -> "A3" -> "A2"`},
				{4, "parent_ext_id", "A3", E, `parent cycle: "A3" -> "A2" -> "A1" -> "A3"`},
				{5, "parent_ext_id", "A4", E, `parent cycle: "A4" -> "A4"`},
				{6, "parent_ext_id", "A5", E, `parent row "A2" (export.csv:3) is invalid; this row depends on it`},
			},
		},
		{
			name: "bad phone",
			data: groupsHeader + "A1,Acme,,,,,,555-0199,\nA2,Beta,,,,,,(123) 555-0142,\nA3,Gamma,,,,,,+1 617 555 0142,\n",
			want: []want{
				{2, "phone_number", "A1", E, `bad phone number "555-0199"`},
				{3, "phone_number", "A2", E, `bad phone number "(123) 555-0142"`},
			},
			keys: []string{"A3"},
		},
		{
			name: "bad US state and ZIP",
			data: groupsHeader + "A1,Acme,,,,Masachusetts,02134,,\nA2,Beta,,,,MA,ABCDE,,\nA3,Gamma,,,,mass.,02134-12,,\n",
			want: []want{
				{2, "state", "A1", E, `not a US state: "Masachusetts"`},
				{3, "zip", "A2", E, `not a US ZIP code: "ABCDE"`},
				{4, "zip", "A3", E, `not a US ZIP code: "02134-12"`},
			},
		},
		{
			name: "scientific notation is damage",
			data: groupsHeader + "1.23457E+11,Acme,,,,,,,\nA2,Beta,5.1E+09,,,,,,\nA3,Gamma,,,,,,6.17555E+09,\n",
			want: []want{
				{2, "org_unit_ext_id", "", E, `"1.23457E+11" is in scientific notation`},
				{3, "parent_ext_id", "A2", E, `"5.1E+09" is in scientific notation`},
				{4, "phone_number", "A3", E, `"6.17555E+09" is in scientific notation`},
			},
		},
		{
			name: "Excel error values",
			data: groupsHeader + "A1,Acme,,#VALUE!,,,,,\nA2,#REF!,,,,,,,\n",
			want: []want{
				{2, "address", "A1", E, "the Excel error #VALUE!"},
				{3, "org_unit_name", "A2", E, "the Excel error #REF!"},
			},
		},
		{
			name: "a bad quote is a row problem; the next rows are read",
			data: groupsHeader + "A1,Acme,,1 Main \"St\",Boston,MA,,,\nA2,\"Beta\"x,,,,,,,\nA3,Gamma,,,,,,,\n",
			want: []want{
				{2, "address", "A1", E, `bad quoting at line 2, byte 17: a quote (") inside an unquoted cell`},
				{3, "org_unit_name", "A2", E, "bad quoting at line 3, byte 9: text after a closing quote"},
			},
			keys: []string{"A3"},
		},
		{
			name: "an unclosed quote resyncs on the next line",
			data: groupsHeader + "A1,\"Acme,,,,,,,\nA2,Beta,,,,,,,\nA3,Gamma,,,,,,,\n",
			want: []want{{2, "org_unit_name", "A1", E, "a quoted cell opened on line 2 is not closed properly"}},
			keys: []string{"A2", "A3"},
		},
		{
			name: "a quote closed lines later resyncs too",
			data: groupsHeader + "A1,\"Acme,,,,,,,\nA2,Beta,,,,,,,\nA3,\"Gamma\"x,,,,,,,\nA4,Delta,,,,,,,\n",
			want: []want{
				{2, "org_unit_name", "A1", E, "a quoted cell opened on line 2 is not closed properly (the fault shows on line 4)"},
				{4, "org_unit_name", "A3", E, "bad quoting at line 4"},
			},
			keys: []string{"A2", "A4"},
		},
		{
			name: "multi-line cells: a record is named by its first line",
			data: groupsHeader + "A1,Acme,,\"1 Main St\nSuite 2\nBack door\",Boston,MA,02134,,\nA2,Beta,,\"x\r\ny\",,,,555-0100,\n\nA3,Gamma,,,,,,555-0101,\n",
			want: []want{
				{5, "phone_number", "A2", E, `bad phone number "555-0100"`},
				{8, "phone_number", "A3", E, `bad phone number "555-0101"`},
			},
			keys: []string{"A1"},
		},
		{
			name: "BOM, CRLF and odd header spacing and case",
			data: "\ufeff  ORG_UNIT_EXT_ID ,Org_Unit_Name,  city  \r\nA1,Acme,Boston\r\nA2,,Quincy\r\n",
			want: []want{{3, "Org_Unit_Name", "A2", E, "missing org_unit_name"}},
			keys: []string{"A1"},
		},
		{
			name: "both industry and industry_id",
			data: "org_unit_ext_id,org_unit_name,industry,industry_id\nA1,Acme,Dental,12\nA2,Beta,,12\nA3,Gamma,Dental,\nA4,Delta,,twelve\n",
			want: []want{
				{2, "industry_id", "A1", E, "both industry and industry_id are given"},
				{5, "industry_id", "A4", E, `industry_id "twelve" is not a positive whole number`},
			},
			keys: []string{"A2", "A3"},
		},
		{
			name: "both parent_ext_id and parent_name",
			data: "org_unit_ext_id,org_unit_name,parent_ext_id,parent_name\nA1,Acme,,\nA2,Beta,A1,Acme\n",
			want: []want{{3, "parent_name", "A2", E, "both parent_ext_id and parent_name are given"}},
			keys: []string{"A1"},
		},
		{
			name: "parent_name matching no row, or more than one",
			data: "org_unit_ext_id,org_unit_name,parent_name\nA1,Acme,\nA2,Clinic,Acme\nA3,Clinic,acme\nA4,Annex,Clinic\nA5,Lost,Nowhere\nA6,Self,Self\n",
			want: []want{
				{3, "org_unit_name", "A2", E, `the name "Clinic" under "A1" is also wanted on line 4`},
				{4, "org_unit_name", "A3", E, `the name "Clinic" under "A1" is also wanted on line 3`},
				{5, "parent_name", "A4", E, `parent_name "Clinic" matches 2 rows (lines 3, 4); name the parent by ext id instead`},
				{6, "parent_name", "A5", E, `parent_name "Nowhere" matches no row of the export`},
				{7, "parent_name", "A6", E, `parent cycle: "A6" -> "A6"`},
			},
			keys: []string{"A1"},
		},
		{
			name: "warnings: ZIP padded, phone extension dropped, empty row skipped",
			data: groupsHeader + "A1,Acme,,,,MA,2134,617-555-0142 x123,\n,,,,,,,,\n  , ,,,,,,,\nA2,Beta,,,,MA,'02134,'6175550143,\n",
			want: []want{
				{2, "zip", "A1", W, `ZIP "2134" padded to "02134"`},
				{2, "phone_number", "A1", W, `extension "123" dropped`},
				{3, "", "", W, "empty row skipped"},
				{4, "", "", W, "empty row skipped"},
			},
			keys: []string{"A1", "A2"},
		},
		{
			name: "state and ZIP rules apply to US rows only",
			data: "org_unit_ext_id,org_unit_name,state,zip,phone_number,country\nA1,Acme,Ontario,M5J 2J2,(416) 555-0120,Canada\nA2,Beta,Ontario,M5J 2J2,,USA\nA3,Gamma,,EC2R 8EJ,020 7946 0958,United Kingdom\n",
			want: []want{
				{3, "state", "A2", E, `not a US state: "Ontario"`},
				{3, "zip", "A2", E, `not a US ZIP code: "M5J 2J2"`},
			},
			keys: []string{"A1", "A3"},
		},
		{
			name: "a row may have several problems",
			data: groupsHeader + ",,,,,XX,1,12,\n",
			want: []want{
				{2, "org_unit_ext_id", "", E, "missing org_unit_ext_id"},
				{2, "org_unit_name", "", E, "missing org_unit_name"},
				{2, "state", "", E, "not a US state"},
				{2, "zip", "", E, "not a US ZIP code"},
				{2, "phone_number", "", E, "bad phone number"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := loadString(t, nil, tt.root, kindGroups, "csv", tt.data)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkProblems(t, ds, tt.want)
			var keys []string
			for _, g := range ds.Groups {
				keys = append(keys, g.ExtID)
			}
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("valid groups (-want +got):\n%s", diff)
			}
		})
	}
}

const usersHeader = "email,first_name,last_name,role,group_ext_id,user_ext_id\n"

func TestUserRowProblems(t *testing.T) {
	tests := []struct {
		name  string
		match string
		data  string
		want  []want
		keys  []string
	}{
		{
			name: "missing and bad emails",
			data: usersHeader + ",Ann,Lee,,,U1\nann@,Ann,Lee,,,U2\nann lee@example.com,Ann,Lee,,,U3\nAnn Lee <ann@example.com>,Ann,Lee,,,U4\nann@example,Ann,Lee,,,U5\nok@example.com,,,,,\n",
			want: []want{
				{2, "email", "U1", E, "missing email"},
				{3, "email", "ann@", E, `bad email "ann@"`},
				{4, "email", "ann lee@example.com", E, "bad email"},
				{5, "email", "Ann Lee <ann@example.com>", E, "bad email"},
				{6, "email", "ann@example", E, "bad email"},
			},
			keys: []string{"ok@example.com"},
		},
		{
			name: "duplicate email, ignoring case, names both lines",
			data: usersHeader + "ann@example.com,,,,,\nbo@example.com,,,,,\nANN@Example.com,,,,,\nann@EXAMPLE.com,,,,,\n",
			want: []want{
				{2, "email", "ann@example.com", E, `duplicate email (ignoring case) "ann@example.com": also on lines 4, 5`},
				{4, "email", "ANN@Example.com", E, "also on line 2"},
				{5, "email", "ann@EXAMPLE.com", E, "also on line 2"},
			},
			keys: []string{"bo@example.com"},
		},
		{
			name: "unknown role spelling",
			data: usersHeader + "a@example.com,,,superuser,,\nb@example.com,,,Read Only User,,\nc@example.com,,,Standard User,,\nd@example.com,,,#N/A,,\n",
			want: []want{{2, "role", "a@example.com", E, `unknown role "superuser" (Convirza's roles are admin, standard and readonly)`}},
			keys: []string{"b@example.com", "c@example.com", "d@example.com"},
		},
		{
			name: "duplicate user_ext_id",
			data: usersHeader + "a@example.com,,,,,U1\nb@example.com,,,,,U1\n",
			want: []want{
				{2, "user_ext_id", "a@example.com", E, `duplicate user_ext_id "U1": also on line 3`},
				{3, "user_ext_id", "b@example.com", E, "also on line 2"},
			},
		},
		{
			name:  "matching by user_ext_id requires it",
			match: "user_ext_id",
			data:  usersHeader + "a@example.com,,,,,\nb@example.com,,,,,U2\n",
			want:  []want{{2, "user_ext_id", "a@example.com", E, "missing user_ext_id"}},
			keys:  []string{"b@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := DefaultMapping()
			if tt.match != "" {
				m.Users.Match = state.UserMatch(tt.match)
			}
			ds, err := loadString(t, m, "", kindUsers, "csv", tt.data)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkProblems(t, ds, tt.want)
			var keys []string
			for _, u := range ds.Users {
				keys = append(keys, u.Email)
			}
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("valid users (-want +got):\n%s", diff)
			}
			if !ds.UsersManaged || ds.GroupsManaged {
				t.Errorf("managed: groups %v, users %v", ds.GroupsManaged, ds.UsersManaged)
			}
			// the index handed to the planner is the index of the valid
			// rows, as keyjoin makes it
			if diff := cmp.Diff(keyjoin.Index(ds.Users, ds.UserMatch), ds.UserKeys, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("UserKeys (-want +got):\n%s", diff)
			}
			if keyjoin.Usable(ds) == nil {
				t.Error("the loader's UserKeys are not usable")
			}
		})
	}
}

// TestOnlyCarriedColumnsAreManaged: a column the export does not carry is
// nil; an empty cell is nil unless the mapping says clear.
func TestOnlyCarriedColumnsAreManaged(t *testing.T) {
	s := func(v string) *string { return &v }
	role := func(r state.Role) *state.Role { return &r }
	m := DefaultMapping()
	m.Groups.Empty = map[string]EmptyPolicy{"phone_number": EmptyClear, "city": EmptyIgnore}
	ds, err := loadString(t, m, "ROOT", kindGroups, "csv",
		"org_unit_ext_id,org_unit_name,parent_ext_id,city,phone_number\nA1,Acme,ROOT,,\nA2,  Beta   Two ,A1,NULL,617.555.0142\n")
	if err != nil {
		t.Fatal(err)
	}
	wantG := []state.DesiredGroup{
		{Source: state.Source{File: "export.csv", Line: 2}, ExtID: "A1", Name: "Acme", Phone: s("")},
		{Source: state.Source{File: "export.csv", Line: 3}, ExtID: "A2", Name: "Beta Two", ParentExtID: "A1", Phone: s("+16175550142")},
	}
	if diff := cmp.Diff(wantG, ds.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	m.Users.Defaults.Role = "Standard User"
	ds, err = loadString(t, m, "ROOT", kindUsers, "csv",
		"email,first_name,role,group_ext_id\na@example.com,,,\nb@example.com,Bo,admin,ROOT\nc@example.com,Cy,,G1\n")
	if err != nil {
		t.Fatal(err)
	}
	wantU := []state.DesiredUser{
		{Source: state.Source{File: "export.csv", Line: 2}, Email: "a@example.com", Role: role(state.RoleStandard), GroupExtID: s("")},
		{Source: state.Source{File: "export.csv", Line: 3}, Email: "b@example.com", FirstName: s("Bo"), Role: role(state.RoleAdmin), GroupExtID: s("")},
		{Source: state.Source{File: "export.csv", Line: 4}, Email: "c@example.com", FirstName: s("Cy"), Role: role(state.RoleStandard), GroupExtID: s("G1")},
	}
	if diff := cmp.Diff(wantU, ds.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}

	m.Users.Empty = map[string]EmptyPolicy{"group_ext_id": EmptyIgnore}
	m.Users.Defaults.Role = ""
	ds, err = loadString(t, m, "", kindUsers, "csv", "email,group_ext_id\na@example.com,\n")
	if err != nil {
		t.Fatal(err)
	}
	if u := ds.Users[0]; u.GroupExtID != nil || u.Role != nil || u.FirstName != nil {
		t.Errorf("empty group ignored, no role column, no default: got %+v", u)
	}
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFileErrors covers the failures that stop reading a file.
func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	sfMapping := &Mapping{Groups: GroupsMapping{Columns: map[string]string{
		"org_unit_ext_id": "Account ID", "org_unit_name": "Account Name", "zip": "Billing Zip", "phone_number": "Phone", "city": "Billing City",
	}}}
	tests := []struct {
		name    string
		opts    LoadOptions
		wantErr []*FileError // compared without Err
		is      error
	}{
		{
			name:    "missing file",
			opts:    LoadOptions{GroupsPath: filepath.Join(dir, "nope.csv")},
			wantErr: []*FileError{{File: "nope.csv", Message: "open the groups export"}},
			is:      fs.ErrNotExist,
		},
		{
			name: "the header lacks mapped columns, with suggestions",
			opts: LoadOptions{Mapping: sfMapping, GroupsPath: writeFile(t, dir, "sf.csv",
				"AccountID,Account  name,Billing Zip/Postal Code,Phone Number,Mailing City,Billing Street\n1,Acme,02134,,,\n")},
			wantErr: []*FileError{{File: "sf.csv", Line: 1, Message: "the header lacks 4 mapped columns", Missing: []MissingColumn{
				{Field: "org_unit_ext_id", Column: "Account ID", Suggestions: []string{"AccountID"}},
				{Field: "city", Column: "Billing City", Suggestions: []string{"Mailing City"}},
				{Field: "zip", Column: "Billing Zip", Suggestions: []string{"Billing Zip/Postal Code"}},
				{Field: "phone_number", Column: "Phone", Suggestions: []string{"Phone Number"}},
			}}},
		},
		{
			name: "without a mapping only the required canonical columns must be there",
			opts: LoadOptions{GroupsPath: writeFile(t, dir, "crm.csv", "Account ID,Account Name\n1,Acme\n")},
			wantErr: []*FileError{{File: "crm.csv", Line: 1, Message: "the header lacks 2 mapped columns (no mapping names the groups columns, so they must carry the canonical names, or pass --mapping)", Missing: []MissingColumn{
				{Field: "org_unit_ext_id", Column: "org_unit_ext_id"}, {Field: "org_unit_name", Column: "org_unit_name"},
			}}},
		},
		{
			name:    "a mapped column twice in the header",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "twice.csv", "org_unit_ext_id,org_unit_name,Org_Unit_Name\n1,a,b\n")},
			wantErr: []*FileError{{File: "twice.csv", Line: 1, Message: `the header is ambiguous: "org_unit_name" (org_unit_name) is in the header 2 times, at positions 2, 3`}},
		},
		{
			name:    "an empty file",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "empty.csv", "")},
			wantErr: []*FileError{{File: "empty.csv", Message: "the export has no rows: the file is empty"}},
			is:      ErrNoRows,
		},
		{
			name:    "a header alone",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "header.csv", "\ufefforg_unit_ext_id,org_unit_name\r\n\r\n")},
			wantErr: []*FileError{{File: "header.csv", Line: 1, Message: "the export has no rows: the file holds a header alone"}},
			is:      ErrNoRows,
		},
		{
			name:    "blank rows alone",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "blank.csv", "org_unit_ext_id,org_unit_name\n,\n , \n")},
			wantErr: []*FileError{{File: "blank.csv", Line: 1, Message: "the export has no rows: the file holds a header alone"}},
			is:      ErrNoRows,
		},
		{
			name:    "an empty JSON array",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "empty.json", "\n  [ ]\n")},
			wantErr: []*FileError{{File: "empty.json", Line: 2, Message: "the export has no rows: the groups array is empty"}},
			is:      ErrNoRows,
		},
		{
			name: "an empty users array in a combined file",
			opts: LoadOptions{GroupsPath: writeFile(t, dir, "combined-empty.json", `{"groups": [{"org_unit_ext_id": "A", "org_unit_name": "A"}],
 "users": []}`)},
			wantErr: []*FileError{{File: "combined-empty.json", Line: 2, Message: "the export has no rows: the users array is empty"}},
			is:      ErrNoRows,
		},
		{
			name:    "a JSON syntax error names its line",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "broken.json", "[\n {\"org_unit_ext_id\": \"A\", \"org_unit_name\": \"A\"},\n {\"org_unit_ext_id\": \"B\",\n  \"org_unit_name\": \"B\" \"x\"}\n]\n")},
			wantErr: []*FileError{{File: "broken.json", Line: 4, Message: "invalid JSON in the groups array: invalid character '\"' after object key:value pair"}},
		},
		{
			name:    "a truncated JSON file",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "truncated.json", "[\n {\"org_unit_ext_id\": \"A\",\n")},
			wantErr: []*FileError{{File: "truncated.json", Line: 3, Message: "invalid JSON in the groups array: the file ends too early"}},
		},
		{
			name:    "an unknown key in a combined file",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "odd.json", "{\n  \"groups\": [{\"org_unit_ext_id\": \"A\", \"org_unit_name\": \"A\"}],\n  \"teams\": []\n}\n")},
			wantErr: []*FileError{{File: "odd.json", Line: 3, Message: `unknown key "teams" at the top of the export: it holds either "groups" and "users" (a combined export) or "records" (a Salesforce query result)`}},
		},
		{
			name:    "a CSV given as both groups and users",
			opts:    LoadOptions{GroupsPath: filepath.Join(dir, "crm.csv"), UsersPath: filepath.Join(dir, ".", "crm.csv")},
			wantErr: []*FileError{{File: "crm.csv", Message: "a file given for both groups and users must be a combined JSON file"}},
		},
		{
			name:    "an unknown extension",
			opts:    LoadOptions{GroupsPath: writeFile(t, dir, "export.dat", "PK")},
			wantErr: []*FileError{{File: "export.dat", Message: "cannot tell the format of export.dat from its extension; use --input-format csv, json or xlsx"}},
		},
		{
			name: "both files fail: both are listed",
			opts: LoadOptions{GroupsPath: filepath.Join(dir, "empty.csv"), UsersPath: writeFile(t, dir, "users.csv", "E-mail\nx@example.com\n")},
			wantErr: []*FileError{
				{File: "empty.csv", Message: "the export has no rows: the file is empty"},
				{File: "users.csv", Line: 1, Message: "the header lacks 1 mapped column (no mapping names the users columns, so they must carry the canonical names, or pass --mapping)", Missing: []MissingColumn{{Field: "email", Column: "email", Suggestions: []string{"E-mail"}}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			var got []*FileError
			var one *FileError
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					if errors.As(e, &one) {
						got = append(got, one)
					}
				}
			} else if errors.As(err, &one) {
				got = append(got, one)
			}
			for i, fe := range got {
				if i < len(tt.wantErr) && strings.HasPrefix(fe.Message, tt.wantErr[i].Message) {
					c := *fe
					c.Message, c.Err = tt.wantErr[i].Message, nil
					got[i] = &c
				}
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n(error: %v)", diff, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.wantErr[0].File) {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}
}

func TestLoadOptionsErrors(t *testing.T) {
	if _, err := Load(LoadOptions{}); err == nil {
		t.Error("no inputs: no error")
	}
	if _, err := Load(LoadOptions{GroupsPath: "x.csv", Format: "xml"}); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad format: %v", err)
	}
}

// TestGroupsAndUsers loads groups and users together: group_ext_id is
// checked against the groups export and the root.
func TestGroupsAndUsers(t *testing.T) {
	dir := t.TempDir()
	g := writeFile(t, dir, "groups.csv", "org_unit_ext_id,org_unit_name\n001Hs00000CoRp1IAF,Acme\nB,Beta\nB,Beta again\n")
	u := writeFile(t, dir, "users.csv", usersHeader+
		"a@example.com,,,,001Hs00000CoRp1,\nb@example.com,,,,NOPE,\nc@example.com,,,,B,\nd@example.com,,,,ROOT,\n")
	ds, err := Load(LoadOptions{GroupsPath: g, UsersPath: u, RootExtID: "ROOT"})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{3, "org_unit_ext_id", "B", E, "also on line 4"},
		{4, "org_unit_ext_id", "B", E, "also on line 3"},
		{3, "group_ext_id", "b@example.com", E, `group_ext_id "NOPE" names no group of the export and is not the root's ext id`},
		{4, "group_ext_id", "c@example.com", E, `group row "B" (groups.csv:3) is invalid; this user depends on it`},
	})
	// The problems of groups.csv come first, then users.csv.
	if ds.Invalid[0].Source.File != "groups.csv" || ds.Invalid[2].Source.File != "users.csv" {
		t.Errorf("order: %v", ds.Invalid)
	}
	var groups []string
	for _, u := range ds.Users {
		groups = append(groups, *u.GroupExtID)
	}
	// The 15-character id is rewritten to the row's 18-character form; the
	// root's ext id becomes "" (directly under the root); a user of a group
	// that is itself invalid (a duplicate) is invalid too, naming it.
	if diff := cmp.Diff([]string{"001Hs00000CoRp1IAF", ""}, groups); diff != "" {
		t.Errorf("group_ext_id (-want +got):\n%s", diff)
	}
	if got := Problems(ds); got != (ProblemSummary{InvalidRows: 4, InvalidGroups: 2, InvalidUsers: 2, Errors: 4, Groups: 1, Users: 2}) {
		t.Errorf("Problems = %+v", got)
	}
	if !ds.GroupsManaged || !ds.UsersManaged || ds.UserMatch != state.MatchEmail {
		t.Errorf("managed: %v %v %q", ds.GroupsManaged, ds.UsersManaged, ds.UserMatch)
	}
}

// The loader reads the same files from any fs.FS (the demo reads embedded
// ones) as from the operating system.
func TestLoadFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"in/groups.csv": {Data: []byte("org_unit_ext_id,org_unit_name,parent_ext_id\nA,Alpha,\nB,Beta,A\n")},
		"in/map.yaml":   {Data: []byte("groups:\n  columns:\n    org_unit_ext_id: org_unit_ext_id\n    org_unit_name: org_unit_name\n    parent_ext_id: parent_ext_id\n")},
	}
	m, err := ReadMapping(fsys, "in/map.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(LoadOptions{GroupsPath: "in/groups.csv", Mapping: m, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Groups) != 2 || ds.Groups[1].ParentExtID != "A" || ds.Groups[1].Source != (state.Source{File: "groups.csv", Line: 3}) {
		t.Errorf("loaded %+v", ds.Groups)
	}
	if _, err := ReadMapping(fsys, "in/missing.yaml"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing mapping: %v", err)
	}
}

// TestRepeatedCellValues covers the memos of the state, city and industry
// columns: a value read again gives the same result as the first time
// (its error too), whatever came between, and the rows' values stay their
// own.
func TestRepeatedCellValues(t *testing.T) {
	data := groupsHeader +
		"A1,One,,,Boston,Massachusetts,02110,,Dental\n" +
		"A2,Two,,,Boston,Masachusetts,02110,,Dental\n" +
		"A3,Three,,,Toronto,ON,M5H 2N2,,Legal\n" +
		"A4,Four,,,Boston,MA,02110,,Dental\n" +
		"A5,Five,,,boston,Masachusetts,02110,,Dental\n" +
		"A6,Six,,,Boston,Massachusetts,02110,,Legal\n" +
		"A7,Seven,,, Boston ,ma,02110,,Dental\n"
	ds, err := loadString(t, nil, "", kindGroups, "csv", data)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{3, "state", "A2", E, `not a US state: "Masachusetts"`},
		{6, "state", "A5", E, `not a US state: "Masachusetts"`},
	})
	type row struct{ Ext, City, State, Industry string }
	var got []row
	for i := range ds.Groups {
		g := &ds.Groups[i]
		got = append(got, row{g.ExtID, deref(g.City), deref(g.State), deref(g.Industry)})
	}
	want := []row{
		{"A1", "Boston", "MA", "Dental"},
		{"A3", "Toronto", "ON", "Legal"},
		{"A4", "Boston", "MA", "Dental"},
		{"A6", "Boston", "MA", "Legal"},
		{"A7", "Boston", "MA", "Dental"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}
