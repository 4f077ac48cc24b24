package main

import (
	"strings"
	"testing"
)

// TestE2EHTMLReports: --report plan.html on a dry run writes the HTML plan,
// --results-report results.html on a real sync writes every outcome, and
// an unknown results-report extension is refused before any call.
func TestE2EHTMLReports(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)

	m := w.mark()
	if r := w.run(append([]string{"sync", "--dry-run", "--results-report", "results.pdf"}, args...)...); r.code != exitUsage {
		t.Fatalf("--results-report results.pdf: want exit %d\n%s", exitUsage, r)
	}
	if calls := w.callsSince(m); len(calls) != 0 {
		t.Errorf("a refused --results-report made %d API calls", len(calls))
	}

	if r := w.run(append([]string{"sync", "--dry-run", "--report", "plan.md,plan.html"}, args...)...); r.code != 0 {
		t.Fatalf("sync --dry-run --report plan.md,plan.html:\n%s", r)
	}
	if !strings.Contains(w.read("plan.md"), "Northwind") {
		t.Error("plan.md, the first of two reports, does not show the plan")
	}
	page := w.read("plan.html")
	for _, want := range []string{"<!DOCTYPE html>", "Content-Security-Policy", "Northwind", "<dt>Generated</dt>"} {
		if !strings.Contains(page, want) {
			t.Errorf("plan.html lacks %q", want)
		}
	}

	if r := w.run(append([]string{"sync", "--results", "results.csv", "--results-report", "results.html"}, args...)...); r.code != 0 {
		t.Fatalf("sync --results-report results.html:\n%s", r)
	}
	page = w.read("results.html")
	if !strings.Contains(page, "<h2>Outcomes:") {
		t.Error("results.html has no outcomes")
	}
	rows := w.readResults("results.csv")
	if len(rows) == 0 {
		t.Fatal("no results")
	}
	for _, row := range rows {
		if !strings.Contains(page, `<span class="o done">`+row.Outcome+`</span>`) {
			t.Errorf("results.html does not show the outcome %q of %s", row.Outcome, row.Key)
		}
	}
}
