package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/report"
)

// reportPaths splits --report: one path, or several separated by commas
// ("plan.md,plan.html"), each rendered in the format its extension names.
func reportPaths(flag string) []string {
	var out []string
	for _, p := range strings.Split(flag, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkResultsReport refuses a --results-report whose format is unknown,
// before any call.
func checkResultsReport(c *config) error {
	if c.resultsReport == "" {
		return nil
	}
	if _, err := report.ResultsByExtension(c.resultsReport, report.HTMLOptions{}); err != nil {
		return usagef("%s: %v", c.ref("results-report"), err)
	}
	return nil
}

// writeResultsReport renders an applied run's results to
// --results-report, by extension.
func writeResultsReport(c *config, p *plan.Plan, rs []plan.Result) error {
	if c.resultsReport == "" {
		return nil
	}
	render, err := report.ResultsByExtension(c.resultsReport, report.HTMLOptions{Generated: time.Now(), Digest: p.Digest})
	if err != nil {
		return usagef("--results-report: %v", err)
	}
	if err := report.WriteFile(c.resultsReport, func(w io.Writer) error { return render(w, p, rs) }); err != nil {
		return fmt.Errorf("write the results report: %w", err)
	}
	return nil
}
