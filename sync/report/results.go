package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// ResultsByExtension chooses the renderer of apply's results for a
// --results-report path by its extension, in any case: .html
// (ResultsHTML), .csv (ResultsCSV), .json (the rows as a JSON array), .md
// (a table) or .txt (one line a row). Every format lists the failures
// first.
func ResultsByExtension(path string, o HTMLOptions) (func(io.Writer, *plan.Plan, []plan.Result) error, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".html", ".htm":
		return func(w io.Writer, p *plan.Plan, rs []plan.Result) error { return ResultsHTML(w, p, rs, o) }, nil
	case ".csv":
		return func(w io.Writer, _ *plan.Plan, rs []plan.Result) error { return ResultsCSV(w, rs) }, nil
	case ".json":
		return func(w io.Writer, _ *plan.Plan, rs []plan.Result) error {
			if rs == nil {
				rs = []plan.Result{}
			}
			b, err := json.MarshalIndent(failuresFirst(rs), "", "  ")
			if err != nil {
				return fmt.Errorf("write json results: %w", err)
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return fmt.Errorf("write json results: %w", err)
			}
			return nil
		}, nil
	case ".md":
		return resultsMarkdown, nil
	case ".txt":
		return resultsText, nil
	default:
		if ext == "" {
			ext = "no extension"
		}
		return nil, fmt.Errorf("choose results report format for %s: %w: %s (want .html, .csv, .json, .md or .txt)", path, ErrUnknownFormat, ext)
	}
}

// failuresFirst orders results as the reports show them (outcomeRank):
// failed, blocked, refused, skipped, then the rest, each in apply's order.
func failuresFirst(rs []plan.Result) []plan.Result {
	out := make([]plan.Result, 0, len(rs))
	for rank := 0; rank <= lastOutcomeRank; rank++ {
		for _, r := range rs {
			if outcomeRank(r.Outcome) == rank {
				out = append(out, r)
			}
		}
	}
	return out
}

func resultsText(w io.Writer, _ *plan.Plan, rs []plan.Result) error {
	ew := newErrWriter(w)
	ew.str("convirza-sync results: ", Plural(len(rs), "row", "rows"), "\n")
	for _, r := range failuresFirst(rs) {
		ew.str(resultLine(r, clean), "\n")
	}
	return ew.flush()
}

func resultsMarkdown(w io.Writer, _ *plan.Plan, rs []plan.Result) error {
	ew := newErrWriter(w)
	ew.str("## convirza-sync results: ", Plural(len(rs), "row", "rows"), "\n\n")
	if len(rs) > 0 {
		ew.str("| change | outcome | action | kind | key | line | HTTP | message | request_id |\n| ---: | :--- | :--- | :--- | :--- | ---: | ---: | :--- | :--- |\n")
	}
	for _, r := range failuresFirst(rs) {
		cells := []string{"", mdEscape(string(r.Outcome)), "", mdEscape(string(r.Kind)), mdEscape(r.Key), "", "", mdEscape(r.Message), mdEscape(r.RequestID)}
		if r.Change != 0 {
			cells[0] = num(r.Change)
		}
		if r.Action != plan.NoOp {
			cells[2] = r.Action.String()
		}
		if r.Line > 0 {
			cells[5] = itoa64(int64(r.Line))
		}
		if r.HTTPStatus != 0 {
			cells[6] = itoa64(int64(r.HTTPStatus))
		}
		ew.str("| ", strings.Join(cells, " | "), " |\n")
	}
	return ew.flush()
}

// resultLine renders one row: "failed  create group bos-2 (change 7, line
// 7): HTTP 409: message [request_id req-7f3a]".
func resultLine(r plan.Result, esc func(string) string) string {
	s := fmt.Sprintf("%-11s", esc(string(r.Outcome)))
	if r.Action != plan.NoOp {
		s += " " + r.Action.String()
	}
	s += " " + esc(string(r.Kind)) + " " + esc(r.Key)
	var at []string
	if r.Change != 0 {
		at = append(at, "change "+num(r.Change))
	}
	if r.Line > 0 {
		at = append(at, "line "+num(r.Line))
	}
	if len(at) > 0 {
		s += " (" + strings.Join(at, ", ") + ")"
	}
	if r.HTTPStatus != 0 {
		s += ": HTTP " + itoa64(int64(r.HTTPStatus))
	}
	if r.Message != "" {
		s += ": " + esc(r.Message)
	}
	if r.RequestID != "" {
		s += " [request_id " + esc(r.RequestID) + "]"
	}
	return s
}
