package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// Real exports as the tools write them, each synced against the sandbox:
// names arrive byte for byte, the hierarchy is right, and a rerun plans
// nothing.

const formats = "../../testdata/exports/"

func copyFixture(t *testing.T, w *world, src, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(formats, src))
	if err != nil {
		t.Fatal(err)
	}
	return w.write(name, string(b))
}

// xlsxFixture builds a workbook of the excel fixture's rows, numbers
// stored as numbers.
func xlsxFixture(t *testing.T) string {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"Account ID", "Account Name", "Parent Account ID", "Billing Street", "Billing City", "Billing State/Province", "Billing Zip/Postal Code", "Phone"},
		{"EX-1", "Müller & Söhne GmbH", nil, "Hauptstraße 1", "Boston", "MA", 2134, 6175550100},
		{"EX-2", "Café Olé – Nord", "EX-1", "12 Rue Saint-Étienne", "Cambridge", "MA", 2139, 6175550101},
		{"EX-3", "Señor Niño's Tacos", "EX-1", "5 Main St", "Somerville", "MA", 2143, 6175550102},
		{"EX-4", "Zürich Süd Clinic", "EX-2", "9 Elm St", "Quincy", "MA", 2169, 6175550103},
	}
	zip := "00000"
	st, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &zip})
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	f.SetColStyle("Sheet1", "G", st)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var excelTree = map[string]string{
	"EX-1": "", "EX-2": "EX-1", "EX-3": "EX-1", "EX-4": "EX-2",
}
var excelNames = map[string]string{
	"EX-1": "Müller & Söhne GmbH", "EX-2": "Café Olé – Nord", "EX-3": "Señor Niño's Tacos", "EX-4": "Zürich Süd Clinic",
}

func TestE2EFormats(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, w *world) []string // the input flags
		names map[string]string                     // ext id -> name
		tree  map[string]string                     // ext id -> parent ext id ("" the root)
	}{
		{"windows-1252 CSV", func(t *testing.T, w *world) []string {
			return []string{"--groups", copyFixture(t, w, "excel/groups-windows1252.csv", "g.csv"), "--mapping", copyFixture(t, w, "excel/mapping.yaml", "m.yaml"), "--encoding", "windows-1252"}
		}, excelNames, excelTree},
		{"UTF-16 tab-separated", func(t *testing.T, w *world) []string {
			return []string{"--groups", copyFixture(t, w, "excel/groups-unicode.txt", "g.txt"), "--mapping", copyFixture(t, w, "excel/mapping.yaml", "m.yaml")}
		}, excelNames, excelTree},
		{"semicolons", func(t *testing.T, w *world) []string {
			return []string{"--groups", copyFixture(t, w, "excel/groups-semicolon.csv", "g.csv"), "--mapping", copyFixture(t, w, "excel/mapping.yaml", "m.yaml")}
		}, excelNames, excelTree},
		{"XLSX", func(t *testing.T, w *world) []string {
			return []string{"--groups", w.write("g.xlsx", xlsxFixture(t)), "--mapping", copyFixture(t, w, "excel/mapping.yaml", "m.yaml")}
		}, excelNames, excelTree},
		{"Salesforce REST JSON", func(t *testing.T, w *world) []string {
			return []string{"--groups", copyFixture(t, w, "crm/salesforce-rest-accounts.json", "g.json"), "--mapping", copyFixture(t, w, "crm/salesforce-rest-mapping.yaml", "m.yaml")}
		}, map[string]string{"001000000000011AAA": "Ørsted Holding", "001000000000012AAA": "Ørsted East", "001000000000013AAA": "Ørsted East Annex"},
			map[string]string{"001000000000011AAA": "", "001000000000012AAA": "001000000000011AAA", "001000000000013AAA": "001000000000012AAA"}},
		{"HubSpot through init", initSetup("crm/hubspot-companies.csv", "g.csv"),
			map[string]string{"HS-1": "Große Bäckerei", "HS-2": "Bäckerei Nord", "HS-3": "Bäckerei Süd"},
			map[string]string{"HS-1": "", "HS-2": "HS-1", "HS-3": "HS-1"}},
		{"Dynamics 365 through init", initSetup("crm/dynamics-accounts.csv", "g.csv"),
			map[string]string{"d1a5c7e2-0000-4000-8000-000000000001": "Contoso Ltd", "d1a5c7e2-0000-4000-8000-000000000002": "Contoso Café"},
			map[string]string{"d1a5c7e2-0000-4000-8000-000000000001": "", "d1a5c7e2-0000-4000-8000-000000000002": "d1a5c7e2-0000-4000-8000-000000000001"}},
		{"Salesforce API names through init", initSetup("crm/salesforce-api-accounts.csv", "g.csv"),
			map[string]string{"001000000000001AAA": "Acme Ünited", "001000000000002AAA": "Acme Ünited North", "001000000000003AAA": "Acme Toronto"},
			map[string]string{"001000000000001AAA": "", "001000000000002AAA": "001000000000001AAA", "001000000000003AAA": "001000000000001AAA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t))
			args := tc.setup(t, w)
			if r := w.run(append([]string{"validate"}, args...)...); r.code != 0 {
				t.Fatalf("validate:\n%s", r)
			}
			if r := w.run(append([]string{"sync"}, args...)...); r.code != 0 {
				t.Fatalf("sync:\n%s", r)
			}
			st := w.srv.Snapshot()
			extOf := map[int64]string{}
			for _, g := range st.Groups {
				extOf[g.ID] = g.ExtID
			}
			names, tree := map[string]string{}, map[string]string{}
			for _, g := range st.Groups {
				if _, ok := tc.names[g.ExtID]; ok {
					names[g.ExtID] = g.Name
					p := extOf[g.ParentID]
					if _, ours := tc.names[p]; !ours {
						p = ""
					}
					tree[g.ExtID] = p
				}
			}
			if diff := cmp.Diff(tc.names, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.tree, tree); diff != "" {
				t.Errorf("hierarchy (-want +got):\n%s", diff)
			}
			w.checkConverged(args...)
		})
	}
}

// initSetup drafts the mapping with init, as a first run does.
func initSetup(src, name string) func(t *testing.T, w *world) []string {
	return func(t *testing.T, w *world) []string {
		g := copyFixture(t, w, src, name)
		m := w.path("mapping.yaml")
		if r := w.run("init", "--groups", g, "--out", m); r.code != 0 {
			t.Fatalf("init:\n%s", r)
		}
		draft := w.read("mapping.yaml")
		for _, want := range []string{"org_unit_ext_id:", "org_unit_name:", "parent_ext_id:", "phone_number:", "# Left unmapped"} {
			if !strings.Contains(draft, want) {
				t.Errorf("the draft lacks %q:\n%s", want, draft)
			}
		}
		return []string{"--groups", g, "--mapping", m}
	}
}
