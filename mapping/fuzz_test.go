package mapping

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// fuzzInvariants: no panic (the caller got here), every problem and every
// row names the file and a line within it, or the error names the file.
func fuzzInvariants(t *testing.T, data []byte, name string, ds *state.DesiredState, err error) {
	lines := bytes.Count(data, []byte("\n")) + 1
	if err != nil {
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("the error does not name the file: %v", err)
		}
	}
	if ds == nil {
		if err == nil {
			t.Fatal("no state and no error")
		}
		return
	}
	for _, ps := range [][]state.Problem{ds.Invalid, ds.Warnings} {
		for _, p := range ps {
			if p.Source.Line <= 0 || p.Source.Line > lines || p.Source.File != name || p.Message == "" {
				t.Fatalf("problem without a line in the file (%d lines): %+v", lines, p)
			}
		}
	}
	for _, g := range ds.Groups {
		if g.Source.Line <= 0 || g.Source.Line > lines || g.ExtID == "" || g.Name == "" {
			t.Fatalf("bad group: %+v", g)
		}
	}
	for _, u := range ds.Users {
		if u.Source.Line <= 0 || u.Source.Line > lines || u.Email == "" {
			t.Fatalf("bad user: %+v", u)
		}
	}
}

func fuzzMapping(withMapping bool) *Mapping {
	if !withMapping {
		return nil
	}
	return &Mapping{
		Groups: GroupsMapping{Columns: map[string]string{"org_unit_ext_id": "Account ID", "org_unit_name": "Account Name",
			"parent_name": "Parent", "zip": "Zip", "phone_number": "Phone", "country": "Country", "state": "State"},
			Empty: map[string]EmptyPolicy{"phone_number": EmptyClear}},
		Users: UsersMapping{Columns: map[string]string{"email": "Email", "role": "Role", "group_ext_id": "Account ID"}},
	}
}

func fuzzSeeds(f *testing.F, dir string) {
	for _, p := range []string{"salesforce/accounts.csv", "salesforce/users.csv", "hubspot/companies.csv", "clean/groups.csv", "json/companies.json", "json/combined.json"} {
		if (dir == "csv") != strings.HasSuffix(p, ".csv") {
			continue
		}
		b, err := os.ReadFile(exports + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, strings.Contains(p, "users"))
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(groupsHeader+"A1,Acme,,\"1 Main\nSt\",Boston,MA,2134,617-555-0142 x1,\nA2,\"B\"x,A1,,,,,,\n"), false, false)
	f.Add([]byte("\ufeffAccount ID,Account Name,Parent,Zip,Phone,Country,State\r\n1,A,,02134,(617) 555-0142,US,ma\r\n2,B,A,M5J,,Canada,ON\r\n3,\"C,A\r\n"), true, false)
	f.Add([]byte("email,role,group_ext_id\nA@x.com,admin,\na@X.com,boss,G\n"), false, true)
	f.Add([]byte("Email,Role,Account ID\nx@y.com,1.2E+3,'00\n"), true, true)
	f.Add([]byte(""), false, false)
	f.Add([]byte("org_unit_ext_id,org_unit_name\n\"a\"\"b\",\"\n\n\n"), false, false)
	fuzzSeeds(f, "csv")
	f.Fuzz(func(t *testing.T, data []byte, withMapping, users bool) {
		k := kindGroups
		if users {
			k = kindUsers
		}
		ds, err := loadReader(fuzzMapping(withMapping), "ROOT", k, "csv", "fuzz.csv", bytes.NewReader(data))
		fuzzInvariants(t, data, "fuzz.csv", ds, err)
	})
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`[{"org_unit_ext_id": "A", "org_unit_name": "B", "zip": 2134, "phone_number": null}]`), false, false)
	f.Add([]byte("{\"groups\": [\n{\"org_unit_ext_id\": \"A\", \"org_unit_name\": \"B\", \"parent_ext_id\": \"A\"}],\n \"users\": [{\"email\": true}]}"), false, false)
	f.Add([]byte("[\n{\"Account ID\": 1.5e9, \"Account Name\": [1], \"Parent\": \"x\"},\n 7,\n{\"Phone\": {}}\n]"), true, false)
	f.Add([]byte("\ufeff[{\"Email\": \"a@b.co\", \"Role\": \"admin\"}, {\"email\": \"A@B.CO\"}]"), true, true)
	f.Add([]byte("[{\"org_unit_ext_id\": \"\xff\"}, "), false, false)
	f.Add([]byte("{\"groups\": [], \"users\": []}"), false, false)
	fuzzSeeds(f, "json")
	f.Fuzz(func(t *testing.T, data []byte, withMapping, users bool) {
		k := kindGroups
		if users {
			k = kindUsers
		}
		ds, err := loadReader(fuzzMapping(withMapping), "", k, "json", "fuzz.json", bytes.NewReader(data))
		fuzzInvariants(t, data, "fuzz.json", ds, err)
	})
}
