package mapping

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// The formats' benchmarks load the 1M-row export written four ways, with
// "Hauptstraße" for "Main Street" so that the text is not all ASCII: UTF-8 with
// commas (the yardstick), windows-1252 with commas, UTF-8 with semicolons,
// and UTF-8 with every cell quoted (as Salesforce's Data Loader writes).
// The goal is that the others take at most 1.2x the first.
var formatFiles struct {
	once sync.Once
	err  error
	path map[string]string
}

func formatExports(tb testing.TB) map[string]string {
	formatFiles.once.Do(func() {
		src, err := os.ReadFile(bigExport(tb))
		if err != nil {
			formatFiles.err = err
			return
		}
		utf := bytes.ReplaceAll(src, []byte("Main Street"), []byte("Hauptstraße"))
		win, err := charmap.Windows1252.NewEncoder().Bytes(utf)
		if err != nil {
			formatFiles.err = err
			return
		}
		semi := bytes.ReplaceAll(utf, []byte(","), []byte(";"))
		var quoted []byte
		for _, line := range bytes.SplitAfter(utf, []byte("\n")) {
			if body, ok := bytes.CutSuffix(line, []byte("\n")); ok {
				quoted = append(append(append(quoted, '"'), bytes.ReplaceAll(body, []byte(","), []byte(`","`))...), "\"\n"...)
			}
		}
		dir := filepath.Dir(bigExport(tb))
		formatFiles.path = map[string]string{}
		for name, b := range map[string][]byte{"utf8-comma": utf, "windows-1252": win, "semicolon": semi, "quoted": quoted} {
			p := filepath.Join(dir, name+".csv")
			if err := os.WriteFile(p, b, 0o600); err != nil {
				formatFiles.err = err
				return
			}
			formatFiles.path[name] = p
		}
	})
	if formatFiles.err != nil {
		tb.Fatal(formatFiles.err)
	}
	return formatFiles.path
}

func BenchmarkLoadFormats1M(b *testing.B) {
	paths := formatExports(b)
	m := bigMapping(false)
	for _, name := range []string{"utf8-comma", "windows-1252", "semicolon", "quoted"} {
		b.Run(name, func(b *testing.B) {
			enc := ""
			if name == "windows-1252" {
				enc = EncWindows1252
			}
			w := startMemWatch()
			var keep any
			for b.Loop() {
				ds, err := Load(LoadOptions{GroupsPath: paths[name], Mapping: m, Encoding: enc})
				if err != nil {
					b.Fatal(err)
				}
				if len(ds.Groups) != bigRows || !strings.HasSuffix(deref(ds.Groups[5].Address), "Hauptstraße") {
					b.Fatalf("%d groups, %d invalid", len(ds.Groups), len(ds.Invalid))
				}
				keep = ds
			}
			w.report(b, keep)
		})
	}
}

// BenchmarkLoadXLSX200k loads a 200k-row workbook built once with
// excelize's stream writer.
func BenchmarkLoadXLSX200k(b *testing.B) {
	const rows = 200_000
	path := filepath.Join(b.TempDir(), "groups-200k.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"Account ID", "Account Name", "Parent Account ID", "Billing Street", "Billing City", "Billing State/Province", "Billing Zip/Postal Code", "Industry"})
	for i := 1; i <= rows; i++ {
		parent := any(nil)
		if i > 1 {
			parent = 100000 + 1 + i%200
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, []any{100000 + i, fmt.Sprintf("Location %d", i), parent, fmt.Sprintf("%d Hauptstraße", i%9999), "Boston", "MA", 1001 + i%98000, "Dental"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	f.Close()
	m := bigMapping(false)
	w := startMemWatch()
	var keep any
	for b.Loop() {
		ds, err := Load(LoadOptions{GroupsPath: path, Mapping: m})
		if err != nil {
			b.Fatal(err)
		}
		if len(ds.Groups) != rows {
			b.Fatalf("%d groups, %d invalid: %v", len(ds.Groups), len(ds.Invalid), ds.Invalid[:min(3, len(ds.Invalid))])
		}
		keep = ds
	}
	w.report(b, keep)
}
