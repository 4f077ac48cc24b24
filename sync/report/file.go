package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// WriteFile writes a report atomically: render writes into a temporary
// file in path's directory, which is synced and then renamed over path. On
// any error the temporary file is removed and path is left as it was. A
// new file gets mode 0600, whatever the umask: plans, results, undo plans,
// reports and exports hold personal data (names, emails, phone numbers).
// An existing file keeps its mode, so an operator who wants a report
// readable by others creates it so once.
func WriteFile(path string, render func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 64<<10)
	if err = render(bw); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	// os.CreateTemp made the file 0600.
	if st, serr := os.Stat(path); serr == nil && st.Mode().IsRegular() && st.Mode().Perm() != 0o600 {
		if err = f.Chmod(st.Mode().Perm()); err != nil {
			return fmt.Errorf("write report %s: %w", path, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write report %s: sync: %w", path, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("write report %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	// The rename is durable once the directory is synced; not every
	// file system allows that, and the report is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// ErrUnknownFormat is wrapped by ByExtension for a path it has no
// renderer for.
var ErrUnknownFormat = errors.New("unknown report format")

// ByExtension chooses the plan renderer for a --report path by its
// extension, in any case: .txt (Text, without colour), .md (Markdown),
// .json (JSON), .csv (PlanCSV) or .html (HTML).
func ByExtension(path string) (func(io.Writer, *plan.Plan) error, error) {
	return ByExtensionWith(path, HTMLOptions{})
}

// ByExtensionWith is ByExtension with the HTML report's options (its time
// and digest).
func ByExtensionWith(path string, o HTMLOptions) (func(io.Writer, *plan.Plan) error, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".txt":
		return func(w io.Writer, p *plan.Plan) error { return Text(w, p, TextOptions{}) }, nil
	case ".md":
		return func(w io.Writer, p *plan.Plan) error { return Markdown(w, p, MarkdownOptions{}) }, nil
	case ".json":
		return JSON, nil
	case ".csv":
		return PlanCSV, nil
	case ".html", ".htm":
		return func(w io.Writer, p *plan.Plan) error { return HTML(w, p, o) }, nil
	default:
		if ext == "" {
			ext = "no extension"
		}
		return nil, fmt.Errorf("choose report format for %s: %w: %s (want .txt, .md, .json, .csv or .html)", path, ErrUnknownFormat, ext)
	}
}
