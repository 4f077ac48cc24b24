package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run go test ./sync/report -update): %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// emptyPlan is a plan with nothing to do.
func emptyPlan() *plan.Plan {
	return &plan.Plan{
		Version:   plan.Version,
		Account:   plan.Account{APIURL: "https://platform-api.convirza.com/v3", RootID: 1000, RootExtID: "acme", RootName: "Acme Holdings"},
		Policy:    plan.PolicyUpsert,
		Changes:   []plan.Change{},
		Gates:     []plan.Gate{{Name: "max-deletes", Limit: "10%", Count: 0, Allowed: 1, Total: 14}},
		Unchanged: plan.Counts{Groups: 14, Users: 0},
		Owned:     plan.Counts{Groups: 14},
	}
}

// noTreePlan is the rich plan without its tree, plus a forced gate: every
// change must still be drawn, apart, and none lost.
func noTreePlan() *plan.Plan {
	p := richPlan()
	p.Tree = nil
	p.Forced = true
	p.Gates[0].Forced = true
	return p
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		render func(io.Writer) error
	}{
		{"rich.txt", func(w io.Writer) error { return Text(w, richPlan(), TextOptions{}) }},
		{"rich.color.txt", func(w io.Writer) error { return Text(w, richPlan(), TextOptions{Color: true}) }},
		{"rich.md", func(w io.Writer) error { return Markdown(w, richPlan(), MarkdownOptions{}) }},
		{"rich.capped.md", func(w io.Writer) error {
			return Markdown(w, richPlan(), MarkdownOptions{MaxBytes: 4000, JSONName: "out/plan.json"})
		}},
		{"rich.json", func(w io.Writer) error { return JSON(w, richPlan()) }},
		{"rich.csv", func(w io.Writer) error { return PlanCSV(w, richPlan()) }},
		{"results.csv", func(w io.Writer) error { return ResultsCSV(w, richResults()) }},
		{"planned-results.csv", func(w io.Writer) error { return ResultsCSV(w, plan.PlannedResults(richPlan())) }},
		{"empty.txt", func(w io.Writer) error { return Text(w, emptyPlan(), TextOptions{}) }},
		{"empty.md", func(w io.Writer) error { return Markdown(w, emptyPlan(), MarkdownOptions{}) }},
		{"empty.csv", func(w io.Writer) error { return PlanCSV(w, emptyPlan()) }},
		{"notree.txt", func(w io.Writer) error { return Text(w, noTreePlan(), TextOptions{}) }},
		{"notree.md", func(w io.Writer) error { return Markdown(w, noTreePlan(), MarkdownOptions{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first, second bytes.Buffer
			if err := tt.render(&first); err != nil {
				t.Fatalf("render: %v", err)
			}
			if err := tt.render(&second); err != nil {
				t.Fatalf("render again: %v", err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Fatalf("two renders of the same value differ:\n%s", cmp.Diff(first.String(), second.String()))
			}
			golden(t, tt.name, first.Bytes())
		})
	}
}
