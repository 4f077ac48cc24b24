package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state/nearest"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// headerKey is how header cells (and JSON keys) are matched to the
// mapping: a BOM dropped, trimmed, inner whitespace collapsed, any case.
// "  account  ID " matches "Account ID". Punctuation is kept: "Account_ID"
// is a different column (the error suggests it).
func headerKey(s string) string {
	return strings.ToLower(normalize.Text(strings.TrimPrefix(s, "\ufeff")))
}

// layout is a header resolved against a section.
type layout struct {
	sec   *section
	index [maxFields]int    // the header position of each field; -1 when not carried
	cols  [maxFields]string // the header cell of each field, as written (trimmed)
	width int               // the number of header cells
}

// resolveHeader matches a CSV header to the mapping. It fails, listing every
// missing column with suggestions, when a mapped column is not there.
func resolveHeader(sec *section, header []string, file string, line int, comma rune) (*layout, *FileError) {
	lay := &layout{sec: sec, width: len(header)}
	pos := make(map[string][]int, len(header))
	cells := make([]string, len(header))
	for i, h := range header {
		if !utf8.ValidString(h) {
			h = strings.ToValidUTF8(h, "\uFFFD")
		}
		cells[i] = normalize.Text(strings.TrimPrefix(h, "\ufeff"))
		k := strings.ToLower(cells[i])
		pos[k] = append(pos[k], i)
	}
	used := make([]bool, len(header))
	var missing []MissingColumn
	var dups []string
	for f := 0; f < sec.nfields(); f++ {
		lay.index[f] = -1
		col := sec.columns[f]
		if col == "" {
			continue
		}
		at, ok := pos[headerKey(col)]
		switch {
		case ok:
			lay.index[f] = at[0]
			lay.cols[f] = cells[at[0]]
			used[at[0]] = true
			if len(at) > 1 {
				n := make([]string, len(at))
				for i, p := range at {
					n[i] = fmt.Sprint(p + 1)
				}
				dups = append(dups, fmt.Sprintf("%q (%s) is in the header %d times, at positions %s", col, fieldsOf(sec.kind)[f].name, len(at), strings.Join(n, ", ")))
			}
		case sec.optional && !sec.required(field(f)):
		default:
			missing = append(missing, MissingColumn{Field: fieldsOf(sec.kind)[f].name, Column: col})
		}
	}
	if len(dups) > 0 {
		return nil, &FileError{File: file, Line: line, Message: "the header is ambiguous: " + strings.Join(dups, "; ")}
	}
	if len(missing) > 0 {
		var free []string
		for i, c := range cells {
			if !used[i] && c != "" {
				free = append(free, c)
			}
		}
		var sep rune
		if len(header) == 1 {
			sep = seemsDelimited(header[0], comma)
		}
		for i := range missing {
			if sep == 0 { // else the one cell is the whole line: no suggestion from it
				missing[i].Suggestions = nearest.Words(missing[i].Column, free)
			}
		}
		msg := fmt.Sprintf("the header lacks %d mapped column", len(missing))
		if len(missing) > 1 {
			msg += "s"
		}
		if sec.optional {
			msg += fmt.Sprintf(" (no mapping names the %s columns, so they must carry the canonical names, or pass --mapping)", sec.kind.plural())
		}
		if sep != 0 {
			msg += fmt.Sprintf(" (the header reads as one cell with %s as the delimiter, but it seems to be separated by %s: pass --delimiter %s, or delimiter: %s in the mapping)", delimName(comma), delimName(sep), delimFlag(sep), delimFlag(sep))
		}
		return nil, &FileError{File: file, Line: line, Message: msg, Missing: missing}
	}
	return lay, nil
}

// didYouMean formats the best suggestion for an unknown name.
func didYouMean(got string, names []string) string {
	if s := nearest.Words(got, names); len(s) > 0 {
		return fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return ""
}
