package report

import (
	"io"
	"testing"
)

// BenchmarkText10k renders the text report of a 10,000-change plan; the
// goal is well under a second per report.
func BenchmarkText10k(b *testing.B) {
	p := bigPlan(10000)
	b.ReportAllocs()
	for b.Loop() {
		if err := Text(io.Discard, p, TextOptions{Color: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarkdown10k renders the capped Markdown report of the same plan.
func BenchmarkMarkdown10k(b *testing.B) {
	p := bigPlan(10000)
	b.ReportAllocs()
	for b.Loop() {
		if err := Markdown(io.Discard, p, MarkdownOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanCSV10k writes the plan CSV of the same plan.
func BenchmarkPlanCSV10k(b *testing.B) {
	p := bigPlan(10000)
	b.ReportAllocs()
	for b.Loop() {
		if err := PlanCSV(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
