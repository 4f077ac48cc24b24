package mapping

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// XLSX exports are read with excelize, a maintained library, not a parser
// of our own. A cell is read as the text Excel shows (its number format
// applied: a ZIP stored as 2134 with the format 00000 reads "02134"). A
// whole number that Excel would show in scientific notation is read in
// full when it has at most 15 digits, which a double holds exactly; a
// longer one has lost its digits and stays an error in an id-like field.

// maxXLSXUnzip bounds what a workbook may unzip to (a zip bomb).
const maxXLSXUnzip = 4 << 30

// readXLSX reads the first worksheet of a workbook (or the one the
// options name) as a CSV export: its first row is the header.
func (l *loader) readXLSX(src io.Reader, file string, k kind) *FileError {
	f, err := excelize.OpenReader(src, excelize.Options{UnzipSizeLimit: maxXLSXUnzip})
	if err != nil {
		return &FileError{File: file, Message: "read the " + k.plural() + " workbook (is it an .xlsx file?)", Err: err}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return &FileError{File: file, Message: "the workbook has no worksheet", Err: ErrNoRows}
	}
	sheet := sheets[0]
	if l.sheet != "" {
		sheet = ""
		for _, s := range sheets {
			if strings.EqualFold(strings.TrimSpace(s), l.sheet) {
				sheet = s
			}
		}
		if sheet == "" {
			return &FileError{File: file, Message: fmt.Sprintf("the workbook has no sheet %q; its sheets are %s", l.sheet, quoteList(sheets))}
		}
	}
	l.sheets[file] = sheet
	rows, err := f.Rows(sheet)
	if err != nil {
		return &FileError{File: file, Message: "read the sheet " + sheet, Err: err}
	}
	defer rows.Close()

	sec := l.m.section(k, false)
	var header []string
	var lay *layout
	n := sec.nfields()
	line, count := 0, 0
	var rec []string
	for rows.Next() {
		line++
		cells, err := rows.Columns()
		if err != nil {
			return &FileError{File: file, Line: line, Message: "read the sheet " + sheet, Err: err}
		}
		if header == nil {
			if blankCells(cells) {
				continue // leading empty rows: the header is the first row with text
			}
			header = append([]string(nil), cells...)
			var fe *FileError
			if lay, fe = resolveHeader(sec, header, file, line, ','); fe != nil {
				return fe
			}
			l.noteColumns(k, file, lay.cols)
			continue
		}
		if blankCells(cells) {
			continue // Excel keeps formatted empty rows: not worth a warning
		}
		count++
		rec = append(rec[:0], cells...)
		if len(rec) > lay.width && !blankCells(rec[lay.width:]) {
			key := ""
			if i := lay.index[keyField(k)]; i >= 0 {
				key = strings.TrimSpace(rec[i])
			}
			l.add(state.SeverityError, k, file, line, cellName(header, lay.width), key, fmt.Sprintf("a value beyond the header's %d columns", lay.width))
			continue
		}
		for len(rec) < lay.width {
			rec = append(rec, "")
		}
		for fi := range n {
			if i := lay.index[fi]; i >= 0 && isSci(strings.TrimSpace(rec[i])) {
				rec[i] = fullNumber(f, sheet, i, line, rec[i])
			}
		}
		r := rowIn{file: file, line: line, cols: &lay.cols}
		cutRow(&r, rec[:lay.width], lay, n, false)
		if r.blank(n) {
			count--
			continue
		}
		r.clean(fieldsOf(k))
		l.row(k, &r, sec)
	}
	if err := rows.Error(); err != nil {
		return &FileError{File: file, Line: line, Message: "read the sheet " + sheet, Err: err}
	}
	if header == nil {
		return &FileError{File: file, Message: fmt.Sprintf("the export has no rows: the sheet %q is empty", sheet), Err: ErrNoRows}
	}
	if count == 0 {
		return &FileError{File: file, Message: fmt.Sprintf("the export has no rows: the sheet %q holds a header alone", sheet), Err: ErrNoRows}
	}
	return nil
}

// fullNumber returns the stored value of a cell that Excel shows in
// scientific notation, when it is a whole number a double holds exactly.
func fullNumber(f *excelize.File, sheet string, col, row int, shown string) string {
	name, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		return shown
	}
	raw, err := f.GetCellValue(sheet, name, excelize.Options{RawCellValue: true})
	if err != nil {
		return shown
	}
	digits := strings.TrimLeft(raw, "-")
	if digits == "" || len(digits) > 15 || strings.TrimLeft(digits, "0123456789") != "" {
		return shown
	}
	return raw
}

func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
