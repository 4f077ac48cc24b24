package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// Cell is a cell of a CSV report, which people open in a spreadsheet: it
// is written through EscapeCell, so the type of a report row's field is
// what guards it against formula injection. Export files, which are data,
// use plain strings and are never escaped.
type Cell string

// MarshalCSV implements gocsv.TypeMarshaller.
func (c Cell) MarshalCSV() (string, error) { return EscapeCell(string(c)), nil }

// Count is a number cell of a report: empty when zero (no line, no id, no
// HTTP status).
type Count int64

// MarshalCSV implements gocsv.TypeMarshaller.
func (n Count) MarshalCSV() (string, error) {
	if n == 0 {
		return "", nil
	}
	return strconv.FormatInt(int64(n), 10), nil
}

// ResultRow is a row of the results CSV; its tags are the header of
// DESIGN.md, exactly: line,kind,key,action,outcome,convirza_id,http_status,
// message,request_id.
type ResultRow struct {
	Line       Count `csv:"line"`
	Kind       Cell  `csv:"kind"`
	Key        Cell  `csv:"key"`
	Action     Cell  `csv:"action"`
	Outcome    Cell  `csv:"outcome"`
	ConvirzaID Count `csv:"convirza_id"`
	HTTPStatus Count `csv:"http_status"`
	Message    Cell  `csv:"message"`
	RequestID  Cell  `csv:"request_id"`
}

// planRow is a row of the plan CSV: a results row, then the changed fields.
type planRow struct {
	ResultRow
	Fields Cell `csv:"fields"`
}

// resultRow renders a result: NoOp is an empty action, and zero numbers
// are empty cells.
func resultRow(r plan.Result) ResultRow {
	return ResultRow{
		Line: Count(r.Line), Kind: Cell(r.Kind), Key: Cell(r.Key), Action: Cell(ActionWord(r.Action)), Outcome: Cell(r.Outcome),
		ConvirzaID: Count(r.ObjectID), HTTPStatus: Count(r.HTTPStatus), Message: Cell(r.Message), RequestID: Cell(r.RequestID),
	}
}

// WriteCSV writes rows, a slice of structs with csv tags, under the header
// their tags name, with gocsv onto a csv.Writer of its own: never gocsv's
// package-level writer, whose settings are global. How a cell is written
// is up to its type (Cell escapes, a string does not).
func WriteCSV(w io.Writer, rows any) error {
	if err := gocsv.MarshalCSV(rows, csv.NewWriter(w)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

var (
	numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)
	phoneRE  = regexp.MustCompile(`^\+[0-9][0-9 .()-]*[0-9]$`)
)

// EscapeCell guards one CSV cell against formula injection, by DESIGN.md's
// rule: a cell that starts with "=", "+", "-", "@", a tab or a carriage
// return gets a leading "'", so a spreadsheet shows it as text instead of
// running it. Two kinds of cell are left as they are:
//
//   - a whole number: "-12.5", "+3", "-1e5";
//   - a phone number: "+" then 7 to 15 digits, with spaces, dots, dashes
//     or parentheses between them ("+1 617 555 0142", "+16175550142").
//
// A lone "-" or "+" is escaped: it is neither a number nor a phone. Every
// other cell is returned unchanged.
func EscapeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
	default:
		return s
	}
	if numberRE.MatchString(s) || isPhone(s) {
		return s
	}
	return "'" + s
}

func isPhone(s string) bool {
	if !phoneRE.MatchString(s) {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	return digits >= 7 && digits <= 15
}

// PlanCSV writes one row per change of the plan, outcome "planned", then one
// row per invalid row, outcome "skipped", under the results header plus a
// "fields" column (`org_unit_name: "a" → "b"; city: …`). The message of a
// change is its reason. Refused changes are not rows: they are not
// changes, and apply's results never hold them. A plan with a digest
// starts with one comment line before the header, "# plan digest
// sha256:…" (a CSV reader skips it with Comment '#').
func PlanCSV(w io.Writer, p *plan.Plan) error {
	if p == nil {
		return fmt.Errorf("write plan csv: no plan")
	}
	if p.Digest != "" {
		if _, err := io.WriteString(w, "# plan digest "+strings.Map(noBreak, p.Digest)+"\n"); err != nil {
			return fmt.Errorf("write plan csv: %w", err)
		}
	}
	rows := make([]planRow, 0, len(p.Changes)+len(p.Invalid))
	for i := range p.Changes {
		c := &p.Changes[i]
		r := plan.ResultFor(c, plan.OutcomePlanned)
		r.Message = c.Reason
		fs := make([]string, len(c.Fields))
		for j, f := range c.Fields {
			fs[j] = fieldLine(c, f)
		}
		rows = append(rows, planRow{resultRow(r), Cell(strings.Join(fs, "; "))})
	}
	for _, r := range plan.SkippedResults(p) {
		rows = append(rows, planRow{ResultRow: resultRow(r)})
	}
	if err := WriteCSV(w, rows); err != nil {
		return fmt.Errorf("write plan csv: %w", err)
	}
	return nil
}

// ResultsCSV writes the results CSV of DESIGN.md: its exact header, then
// one row per result, in the order given.
func ResultsCSV(w io.Writer, rs []plan.Result) error {
	rows := make([]ResultRow, len(rs))
	for i, r := range rs {
		rows[i] = resultRow(r)
	}
	if err := WriteCSV(w, rows); err != nil {
		return fmt.Errorf("write results csv: %w", err)
	}
	return nil
}

// noBreak drops line breaks, so that a comment line stays one line.
func noBreak(r rune) rune {
	if r == '\n' || r == '\r' {
		return -1
	}
	return r
}
