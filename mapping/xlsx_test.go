package mapping

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// buildWorkbook writes a workbook of the given sheets, each a list of rows
// whose cells are set with their Go type (numbers stay numbers). zipFormat
// gives column G the number format 00000, as Excel's "ZIP Code" does.
func buildWorkbook(t testing.TB, sheets []string, rows map[string][][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	zip := "00000"
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &zip})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range rows[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.SetColStyle(name, "G", style); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var xlsxHeader = []any{"Account ID", "Account Name", "Parent Account ID", "Billing Street", "Billing City", "Billing State/Province", "Billing Zip/Postal Code", "Phone"}

func xlsxAccounts() [][]any {
	return [][]any{
		xlsxHeader,
		{100000000, "Müller & Söhne GmbH", nil, "Hauptstraße 1", "Boston", "MA", 2134, 6175550100},
		{100000001, "Café Olé – Nord", 100000000, "12 Rue Saint-Étienne", "Cambridge", "MA", 2139, "617-555-0101"},
		{},
		{100000002, "Bad Phone", 100000000, "5 Main St", "Somerville", "MA", 2143, 12},
		{123456789012, "Long Id", nil, nil, nil, nil, nil, nil},
	}
}

// TestXLSX: a workbook built here, numbers stored as numbers: ids, ZIPs
// and phones come out as the text Excel shows, with no 1E+8 and no lost
// zero, and problems point at Sheet!A<row>.
func TestXLSX(t *testing.T) {
	dir := t.TempDir()
	data := buildWorkbook(t, []string{"Accounts", "Notes"}, map[string][][]any{
		"Accounts": xlsxAccounts(),
		"Notes":    {{"org_unit_ext_id", "org_unit_name"}, {"N1", "From the second sheet"}},
	})
	m := mustMapping(t, exports+"excel/mapping.yaml")
	for _, name := range []string{"groups.xlsx", "renamed.csv"} { // by extension, or by the first bytes
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			ds, err := Load(LoadOptions{GroupsPath: path, Mapping: m})
			if err != nil {
				t.Fatal(err)
			}
			// No "ZIP padded" warning: the number format kept the zero.
			checkProblems(t, ds, []want{{5, "Phone", "100000002", E, `bad phone number "12"`}})
			if got := ds.Invalid[0].Error(); !strings.HasPrefix(got, name+":Accounts!A5: column \"Phone\"") {
				t.Errorf("position: %s", got)
			}
			type g struct{ Ext, Name, Parent, Zip, Phone string }
			var got []g
			for _, x := range ds.Groups {
				got = append(got, g{x.ExtID, x.Name, x.ParentExtID, deref(x.Zip), deref(x.Phone)})
			}
			want := []g{
				{"100000000", "Müller & Söhne GmbH", "", "02134", "+16175550100"},
				{"100000001", "Café Olé – Nord", "100000000", "02139", "+16175550101"},
				{"123456789012", "Long Id", "", "<nil>", "<nil>"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("--sheet", func(t *testing.T) {
		path := filepath.Join(dir, "groups.xlsx")
		ds, err := Load(LoadOptions{GroupsPath: path, Sheet: "notes"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Groups) != 1 || ds.Groups[0].Name != "From the second sheet" || ds.Groups[0].Source.String() != "groups.xlsx:Notes!A2" {
			t.Errorf("got %+v", ds.Groups)
		}
		_, err = Load(LoadOptions{GroupsPath: path, Sheet: "Contacts"})
		if err == nil || !strings.Contains(err.Error(), `no sheet "Contacts"; its sheets are "Accounts", "Notes"`) {
			t.Errorf("unknown sheet: %v", err)
		}
	})
	t.Run("header alone", func(t *testing.T) {
		path := filepath.Join(dir, "empty.xlsx")
		os.WriteFile(path, buildWorkbook(t, []string{"S"}, map[string][][]any{"S": {xlsxHeader}}), 0o600)
		if _, err := Load(LoadOptions{GroupsPath: path, Mapping: m}); !errors.Is(err, ErrNoRows) {
			t.Errorf("got %v, want ErrNoRows", err)
		}
	})
}
