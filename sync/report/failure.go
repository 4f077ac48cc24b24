package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// Failure renders why a run stopped before it had a plan to report (an
// empty export, refused credentials, a stale plan…), in the format that the
// report path's extension names, so that a report asked for is always
// written and says why nothing was. msg must hold no secret; the errors of
// this module never do.
func Failure(path, msg string) (func(io.Writer) error, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt":
		return func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "convirza-sync: nothing was written.\n\n%s\n", cleanLines(msg))
			return err
		}, nil
	case ".md":
		return func(w io.Writer) error {
			// A fenced block shows the message as it is, with no escaping.
			fence := "~~~"
			for strings.Contains(msg, fence) {
				fence += "~"
			}
			_, err := fmt.Fprintf(w, "## convirza-sync: nothing was written\n\n%s text\n%s\n%s\n", fence, cleanLines(msg), fence)
			return err
		}, nil
	case ".json":
		return func(w io.Writer) error {
			// Not a plan: "version" is left out, so apply refuses the file.
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Error   string `json:"error"`
				Written bool   `json:"written"`
			}{msg, false})
		}, nil
	case ".csv":
		return func(w io.Writer) error {
			return WriteCSV(w, []planRow{{ResultRow: ResultRow{Outcome: Cell(plan.OutcomeFailed), Message: Cell(msg)}}})
		}, nil
	case ".html", ".htm":
		return func(w io.Writer) error { return htmlFailure(w, msg) }, nil
	}
	_, err := ByExtension(path)
	return nil, err
}

// cleanLines cleans each line of a message, keeping its line breaks.
func cleanLines(msg string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}
