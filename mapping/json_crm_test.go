package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sfJSONMapping maps a Salesforce REST query of Accounts.
func sfJSONMapping() *Mapping {
	return &Mapping{Groups: GroupsMapping{Columns: map[string]string{
		"org_unit_ext_id": "Id", "org_unit_name": "Name", "parent_ext_id": "Parent.Id",
		"phone_number": "Phone", "city": "BillingAddress.city",
	}}}
}

// TestJSONMappedKeyNoObjectCarries: a mapped key that no object carries is
// the same file-level error as a CSV header that lacks a mapped column, not
// a field silently left unmanaged (every group flat under the root).
func TestJSONMappedKeyNoObjectCarries(t *testing.T) {
	m := &Mapping{Groups: GroupsMapping{Columns: map[string]string{
		"org_unit_ext_id": "Id", "org_unit_name": "Name", "parent_ext_id": "Parent_Id", "phone_number": "Phone",
	}}}
	data := `[
 {"Id": "A1", "Name": "Acme", "ParentId": null, "Phone_Number": "555-0100"},
 {"Id": "A2", "Name": "Acme East", "ParentId": "A1", "Phone_Number": "555-0101"}
]`
	_, err := loadString(t, m, "", kindGroups, "json", data)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FileError, got %v", err)
	}
	want := &FileError{File: "export.json", Line: 1, Message: "no object of the groups array carries 2 mapped keys", Missing: []MissingColumn{
		{Field: "parent_ext_id", Column: "Parent_Id", Suggestions: []string{"ParentId"}},
		{Field: "phone_number", Column: "Phone", Suggestions: []string{"Phone_Number"}},
	}}
	if diff := cmp.Diff(want, fe, cmpopts.IgnoreFields(FileError{}, "Err")); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	// The same typo in a CSV header, for comparison: the same Missing list.
	_, err = loadString(t, m, "", kindGroups, "csv", "Id,Name,ParentId,Phone_Number\nA1,Acme,,555-0100\n")
	var ce *FileError
	if !errors.As(err, &ce) {
		t.Fatalf("csv: want a FileError, got %v", err)
	}
	if diff := cmp.Diff(want.Missing, ce.Missing); diff != "" {
		t.Errorf("csv missing (-json +csv):\n%s", diff)
	}
}

// TestSalesforceRESTEnvelope: {"totalSize", "done", "records": [...]} with
// "attributes" in each record, nested Parent.Id and BillingAddress.city,
// and null nested objects.
func TestSalesforceRESTEnvelope(t *testing.T) {
	data := `{"totalSize": 3, "done": true, "records": [
  {"attributes": {"type": "Account", "url": "/services/data/v59.0/sobjects/Account/001A"},
   "Id": "001000000000001AAA", "Name": "Acme", "Parent": null, "Phone": "6175550100", "BillingAddress": {"city": "Boston", "state": "MA"}},
  {"attributes": {"type": "Account"}, "Id": "001000000000002AAA", "Name": "Acme East",
   "Parent": {"attributes": {"type": "Account"}, "Id": "001000000000001AAA"}, "Phone": null, "BillingAddress": null},
  {"attributes": {"type": "Account"}, "Id": "001000000000003AAA", "Name": "Acme West",
   "Parent": {"Id": "001000000000001"}, "BillingAddress": {"city": "Denver"}}
]}`
	ds, err := loadString(t, sfJSONMapping(), "", kindGroups, "json", data)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, nil)
	type g struct {
		Line                    int
		Ext, Name, Parent, City string
	}
	var got []g
	for _, x := range ds.Groups {
		got = append(got, g{x.Source.Line, x.ExtID, x.Name, x.ParentExtID, deref(x.City)})
	}
	want := []g{
		{2, "001000000000001AAA", "Acme", "", "Boston"},
		{4, "001000000000002AAA", "Acme East", "001000000000001AAA", "<nil>"},
		{6, "001000000000003AAA", "Acme West", "001000000000001AAA", "Denver"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestSalesforceEnvelopeErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"one page of many", `{"totalSize": 5000, "done": false, "nextRecordsUrl": "/x", "records": [{"Id": "1", "Name": "a"}]}`, `"done": false`},
		{"records mixed with groups", `{"groups": [{"org_unit_ext_id": "1", "org_unit_name": "a"}], "records": []}`, "cannot be mixed"},
		{"records not an array", `{"records": {}}`, `"records" must be an array`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadString(t, sfJSONMapping(), "", kindGroups, "json", tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
