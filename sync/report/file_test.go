package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.md")
	if err := WriteFile(path, func(w io.Writer) error { return Markdown(w, richPlan(), MarkdownOptions{}) }); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Markdown(&want, richPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("the file differs from the rendered report")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("new report has mode %v, want 0600: it holds personal data", st.Mode().Perm())
	}

	// A failed render leaves the old report and no temporary file.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = WriteFile(path, func(w io.Writer) error {
		fmt.Fprint(w, "half a report")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the render error", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, want.Bytes()) {
		t.Error("a failed render changed the existing report")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only plan.md", names)
	}

	// A rewrite keeps the existing file's mode.
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("rewritten report has mode %v, want the old 0640", st.Mode().Perm())
	}

	if err := WriteFile(filepath.Join(dir, "missing", "plan.md"), func(io.Writer) error { return nil }); err == nil {
		t.Error("writing into a missing directory: no error")
	}
	if err := WriteFile(dir, func(io.Writer) error { return nil }); err == nil {
		t.Error("writing over a directory: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed writes left %d entries, want 1", len(entries))
	}
}

func TestByExtension(t *testing.T) {
	p := richPlan()
	render := func(f func(io.Writer) error) string {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tests := []struct {
		path string
		want func(io.Writer) error
	}{
		{"out/plan.txt", func(w io.Writer) error { return Text(w, p, TextOptions{}) }},
		{"PLAN.TXT", func(w io.Writer) error { return Text(w, p, TextOptions{}) }},
		{"plan.md", func(w io.Writer) error { return Markdown(w, p, MarkdownOptions{}) }},
		{"plan.json", func(w io.Writer) error { return JSON(w, p) }},
		{"plan.csv", func(w io.Writer) error { return PlanCSV(w, p) }},
		{"plan.html", func(w io.Writer) error { return HTML(w, p, HTMLOptions{}) }},
		{"Plan.HTM", func(w io.Writer) error { return HTML(w, p, HTMLOptions{}) }},
	}
	for _, tt := range tests {
		f, err := ByExtension(tt.path)
		if err != nil {
			t.Errorf("ByExtension(%q): %v", tt.path, err)
			continue
		}
		if got, want := render(func(w io.Writer) error { return f(w, p) }), render(tt.want); got != want {
			t.Errorf("ByExtension(%q) chose another renderer", tt.path)
		}
	}
	for _, path := range []string{"plan.pdf", "plan", "plan.md.bak", "plan.yaml"} {
		if _, err := ByExtension(path); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ByExtension(%q): err = %v, want ErrUnknownFormat", path, err)
		}
	}
	var _ func(io.Writer, *plan.Plan) error = JSON
}
