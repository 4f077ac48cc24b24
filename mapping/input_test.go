package mapping

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
)

// excelGroups is what every file of testdata/exports/excel holds.
var excelGroups = []struct{ Ext, Name, Parent, Address string }{
	{"EX-1", "Müller & Söhne GmbH", "", "Hauptstraße 1"},
	{"EX-2", "Café Olé – Nord", "EX-1", "12 Rue Saint-Étienne"},
	{"EX-3", "Señor Niño's Tacos", "EX-1", "5 Main St"},
	{"EX-4", "Zürich Süd Clinic", "EX-2", "9 Elm St"},
}

// TestExcelFlavours: Excel's plain CSV (windows-1252), its "Unicode Text"
// (UTF-16LE with a byte-order mark, tab-separated) and a European CSV
// (semicolons, UTF-8 with a mark) load to the same groups, byte for byte.
func TestExcelFlavours(t *testing.T) {
	m := mustMapping(t, exports+"excel/mapping.yaml")
	for _, tc := range []struct{ file, enc string }{
		{"groups-windows1252.csv", "windows-1252"},
		{"groups-unicode.txt", ""},
		{"groups-semicolon.csv", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ds, err := Load(LoadOptions{GroupsPath: exports + "excel/" + tc.file, Mapping: m, Encoding: tc.enc})
			if err != nil {
				t.Fatal(err)
			}
			checkProblems(t, ds, nil)
			type g struct{ Ext, Name, Parent, Address string }
			var got []g
			for _, x := range ds.Groups {
				got = append(got, g{x.ExtID, x.Name, x.ParentExtID, deref(x.Address)})
			}
			want := make([]g, len(excelGroups))
			for i, x := range excelGroups {
				want[i] = g(x)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodingErrors: bytes that are not UTF-8 are one file-level error
// that names the likely encoding and the flag; never one per row.
func TestEncodingErrors(t *testing.T) {
	enc := func(s string) string {
		b, err := charmap.Windows1252.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, data string
		opts       LoadOptions
		line       int
		want       []string
	}{
		{"rows in windows-1252", groupsHeader + enc("A1,Café,,,,,,,\nA2,Crème,,,,,,,\nA3,Brûlée,,,,,,,\n"), LoadOptions{}, 2,
			[]string{"not UTF-8 (byte 0xE9 in column \"org_unit_name\")", "windows-1252", "--encoding windows-1252", `"CSV UTF-8`}},
		{"a header in windows-1252", enc("org_unit_ext_id,org_unit_name,Straße\nA1,Acme,x\n"), LoadOptions{}, 1,
			[]string{"not UTF-8 (byte 0xDF)", "--encoding windows-1252"}},
		{"utf-8 forced on windows-1252", groupsHeader + enc("A1,Café,,,,,,,\n"), LoadOptions{Encoding: "utf-8"}, 2,
			[]string{"--encoding windows-1252"}},
		{"UTF-16 without a byte-order mark", string([]byte{'o', 0, 'r', 0, 'g', 0, '_', 0, 'u', 0, 'n', 0, 'i', 0, 't', 0, '\n', 0}), LoadOptions{}, 0,
			[]string{"UTF-16LE text without a byte-order mark; pass --encoding utf-16le"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Load(LoadOptions{GroupsPath: writeFile(t, t.TempDir(), "g.csv", tc.data), Encoding: tc.opts.Encoding})
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FileError, got %v", err)
			}
			if fe.Line != tc.line {
				t.Errorf("line %d, want %d: %v", fe.Line, tc.line, fe)
			}
			for _, w := range tc.want {
				if !strings.Contains(fe.Message, w) {
					t.Errorf("%q lacks %q", fe.Message, w)
				}
			}
			if ds != nil && len(ds.Invalid) > 0 {
				t.Errorf("row problems besides the file error: %v", ds.Invalid)
			}
		})
	}
}

func TestDelimiters(t *testing.T) {
	tests := []struct {
		name, data, delim string
		names             []string
		err               string
	}{
		{"comma", "org_unit_ext_id,org_unit_name\nA1,\"Acme; Inc\"\n", "", []string{"Acme; Inc"}, ""},
		{"semicolon", "org_unit_ext_id;org_unit_name\nA1;Acme, Inc\n", "", []string{"Acme, Inc"}, ""},
		{"tab", "org_unit_ext_id\torg_unit_name\nA1\tAcme, Inc; Ltd\n", "", []string{"Acme, Inc; Ltd"}, ""},
		{"pipe", "org_unit_ext_id|org_unit_name\nA1|Acme\n", "", []string{"Acme"}, ""},
		{"a quoted header cell holds a comma", "\"org_unit_ext_id\";\"org_unit_name\";\"a,b\"\nA1;Acme;x\n", "", []string{"Acme"}, ""},
		{"forced", "org_unit_ext_id;org_unit_name\nA1;Acme\n", "semicolon", []string{"Acme"}, ""},
		{"forced wrong: the header reads as one cell", "org_unit_ext_id;org_unit_name;city;state;zip;phone\nA1;Acme;;;;\n", ",", nil,
			`the header lacks 2 mapped columns (no mapping names the groups columns, so they must carry the canonical names, or pass --mapping) (the header reads as one cell with ',' as the delimiter, but it seems to be separated by ';': pass --delimiter ';', or delimiter: ';' in the mapping): "org_unit_ext_id" (org_unit_ext_id), "org_unit_name" (org_unit_name)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Load(LoadOptions{GroupsPath: writeFile(t, t.TempDir(), "g.csv", tc.data), Delimiter: tc.delim})
			if tc.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.err) {
					t.Fatalf("error %v\nwant it to end %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range ds.Groups {
				got = append(got, g.Name)
			}
			if diff := cmp.Diff(tc.names, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestDecodedResync: a malformed quote in a decoded (windows-1252) file
// is read past as in UTF-8: the reader seeks back in the decoded text.
func TestDecodedResync(t *testing.T) {
	data, _ := charmap.Windows1252.NewEncoder().String("org_unit_ext_id,org_unit_name\nA1,\"Café\nA2,Crème\nA3,Brûlée\n")
	ds, err := Load(LoadOptions{GroupsPath: writeFile(t, t.TempDir(), "g.csv", data), Encoding: "cp1252"})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{{2, "org_unit_name", "A1", E, "bad quoting"}})
	var got []string
	for _, g := range ds.Groups {
		got = append(got, g.Name)
	}
	if diff := cmp.Diff([]string{"Crème", "Brûlée"}, got); diff != "" {
		t.Error(diff)
	}
}

// endless is a reader of n bytes of one character and no newline.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	e.n -= k
	return int(k), nil
}

// TestRecordTooLong: a line that never ends (or a quote never closed)
// stops at maxRecordBytes with an error naming its line; the limit is
// lowered so that nothing big is allocated.
func TestRecordTooLong(t *testing.T) {
	defer func(n int64) { maxRecordBytes = n }(maxRecordBytes)
	maxRecordBytes = 64 << 10
	for _, tc := range []struct {
		name string
		src  io.Reader
		line int
	}{
		{"a line with no newline", io.MultiReader(strings.NewReader("org_unit_ext_id,org_unit_name\nA1,Acme\nA2,"), &endless{n: 8 << 20}), 3},
		{"a quote never closed", io.MultiReader(strings.NewReader("org_unit_ext_id,org_unit_name\nA1,\""), strings.NewReader(strings.Repeat("line\n", 1<<20))), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := io.ReadAll(tc.src)
			_, err := loadReader(nil, "", kindGroups, "csv", "g.csv", strings.NewReader(string(b)))
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, errRecordTooLong) {
				t.Fatalf("want a record-too-long FileError, got %v", err)
			}
			if fe.Line != tc.line || !strings.Contains(fe.Message, "longer than 65536 bytes") {
				t.Errorf("got %v, want line %d", fe, tc.line)
			}
		})
	}
}

func TestParseEncodingAndDelimiter(t *testing.T) {
	for in, want := range map[string]string{"": "", "UTF8": "utf-8", "cp1252": "windows-1252", "Latin1": "iso-8859-1", "UTF-16LE": "utf-16le", "utf_16be": "utf-16be"} {
		if got, err := ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseEncoding("ebcdic"); err == nil || !strings.Contains(err.Error(), "windows-1252") {
		t.Errorf("ParseEncoding(ebcdic): %v", err)
	}
	for in, want := range map[string]rune{"": 0, ";": ';', "tab": '\t', `\t`: '\t', "|": '|', "comma": ','} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{`"`, ";;", "\n"} {
		if _, err := ParseDelimiter(bad); err == nil {
			t.Errorf("ParseDelimiter(%q): no error", bad)
		}
	}
}
