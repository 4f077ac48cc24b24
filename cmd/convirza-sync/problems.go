package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// showProblems puts the export's row problems on stderr, once: grouped by
// kind, each kind with its count and its first lines, at most --max-errors
// problems named in all. On a console they are text; when the log is JSON
// they are log events, one per kind. full says where the whole list is.
func showProblems(e *env, c *config, ps []state.Problem, full string) {
	if len(ps) == 0 {
		return
	}
	kinds := report.ProblemKinds(ps)
	errs := ps[0].Severity != state.SeverityWarning
	head := fmt.Sprintf("%s (%s)", report.Plural(len(ps), "warning", "warnings"), report.Plural(len(kinds), "kind", "kinds"))
	if errs {
		rows := mapping.Problems(&state.DesiredState{Invalid: ps}).InvalidRows
		head = fmt.Sprintf("%s (%s of %s)", report.Plural(rows, "invalid row", "invalid rows"), report.Plural(len(ps), "problem", "problems"), report.Plural(len(kinds), "kind", "kinds"))
	}
	if c.maxErrors > 0 && len(ps) > c.maxErrors {
		head += fmt.Sprintf("; the first of each kind (at most %d: --max-errors), %s", c.maxErrors, full)
	}
	if !logJSON(e.stderrTTY, c.logFormat) {
		fmt.Fprintf(e.stderr, "%s:\n", head)
		_ = report.WriteProblems(e.stderr, ps, c.maxErrors) // stderr: nowhere to report a failure to
		return
	}
	level := zerolog.ErrorLevel
	if !errs {
		level = zerolog.WarnLevel
	}
	shown := report.ProblemsShown(kinds, c.maxErrors)
	e.log.WithLevel(level).Int("problems", len(ps)).Int("kinds", len(kinds)).Msg(head)
	for i, k := range kinds[:len(shown)] {
		first := make([]string, 0, shown[i])
		for _, p := range k.Problems[:shown[i]] {
			first = append(first, p.Error())
		}
		e.log.WithLevel(level).Str("kind", k.Label).Int("count", len(k.Problems)).Strs("first", first).Msg(k.Label)
	}
	if rest := kinds[len(shown):]; len(rest) > 0 {
		n := 0
		for _, k := range rest {
			n += len(k.Problems)
		}
		e.log.WithLevel(level).Int("kinds", len(rest)).Int("count", n).Msg(fmt.Sprintf("… and %s more", report.Plural(len(rest), "kind", "kinds")))
	}
}
