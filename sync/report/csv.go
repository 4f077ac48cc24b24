package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// resultsHeader is the results CSV header of DESIGN.md, exactly.
var resultsHeader = []string{"line", "kind", "key", "action", "outcome", "convirza_id", "http_status", "message", "request_id"}

// ResultsHeader returns the results CSV header:
// line,kind,key,action,outcome,convirza_id,http_status,message,request_id.
func ResultsHeader() []string { return append([]string(nil), resultsHeader...) }

// PlanCSVHeader returns the plan CSV header: the results header, then fields.
func PlanCSVHeader() []string { return append(ResultsHeader(), "fields") }

// CSVMode says whether a CSV writer guards its cells against formula
// injection.
type CSVMode int

const (
	// CSVReport escapes every cell with EscapeCell. It is the zero value:
	// reports, which ops open in a spreadsheet, use it.
	CSVReport CSVMode = iota
	// CSVData writes cells exactly as given. Export files use it: they are
	// data that a later sync reads back, and are never escaped.
	CSVData
)

func (m CSVMode) String() string {
	switch m {
	case CSVReport:
		return "report"
	case CSVData:
		return "data"
	}
	return "csv-mode(" + strconv.Itoa(int(m)) + ")"
}

// CSVWriter writes CSV records in one explicit mode.
type CSVWriter struct {
	cw   *csv.Writer
	mode CSVMode
	rec  []string
}

// NewCSVWriter returns a writer onto w in the given mode.
func NewCSVWriter(w io.Writer, mode CSVMode) *CSVWriter {
	return &CSVWriter{cw: csv.NewWriter(w), mode: mode}
}

// Mode returns the writer's mode.
func (w *CSVWriter) Mode() CSVMode { return w.mode }

// Write writes one record; in CSVReport mode every cell goes through
// EscapeCell first. The caller's slice is not changed.
func (w *CSVWriter) Write(record []string) error {
	out := record
	if w.mode != CSVData {
		w.rec = w.rec[:0]
		for _, c := range record {
			w.rec = append(w.rec, EscapeCell(c))
		}
		out = w.rec
	}
	if err := w.cw.Write(out); err != nil {
		return fmt.Errorf("write csv record: %w", err)
	}
	return nil
}

// Flush writes any buffered data and returns the first write error.
func (w *CSVWriter) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
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
// changes, and apply's results never hold them.
func PlanCSV(w io.Writer, p *plan.Plan) error {
	if p == nil {
		return fmt.Errorf("write plan csv: no plan")
	}
	cw := NewCSVWriter(w, CSVReport)
	if err := cw.Write(PlanCSVHeader()); err != nil {
		return fmt.Errorf("write plan csv: %w", err)
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		r := plan.ResultFor(c, plan.OutcomePlanned)
		r.Message = c.Reason
		fs := make([]string, len(c.Fields))
		for j, f := range c.Fields {
			fs[j] = fieldLine(c, f)
		}
		if err := cw.Write(append(resultRecord(r), strings.Join(fs, "; "))); err != nil {
			return fmt.Errorf("write plan csv, change %d: %w", c.ID, err)
		}
	}
	for _, r := range plan.SkippedResults(p) {
		if err := cw.Write(append(resultRecord(r), "")); err != nil {
			return fmt.Errorf("write plan csv, invalid row %d: %w", r.Line, err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("write plan csv: %w", err)
	}
	return nil
}

// ResultsCSV writes the results CSV of DESIGN.md: its exact header, then
// one row per result, in the order given.
func ResultsCSV(w io.Writer, rs []plan.Result) error {
	cw := NewCSVWriter(w, CSVReport)
	if err := cw.Write(resultsHeader); err != nil {
		return fmt.Errorf("write results csv: %w", err)
	}
	for i, r := range rs {
		if err := cw.Write(resultRecord(r)); err != nil {
			return fmt.Errorf("write results csv, row %d: %w", i+1, err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("write results csv: %w", err)
	}
	return nil
}

// resultRecord renders a result's cells: NoOp is an empty action, and zero
// numbers are empty cells.
func resultRecord(r plan.Result) []string {
	return []string{
		intCell(int64(r.Line)),
		string(r.Kind),
		r.Key,
		ActionWord(r.Action),
		string(r.Outcome),
		intCell(r.ObjectID),
		intCell(int64(r.HTTPStatus)),
		r.Message,
		r.RequestID,
	}
}

func intCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
