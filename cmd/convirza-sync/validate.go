package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// problemJSON is one finding of `validate --output json`.
type problemJSON struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line"`
	Column   string `json:"column,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Key      string `json:"key,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// runValidate checks the export and the mapping offline, with no API call:
// every problem is printed in one pass; any error exits 1.
func runValidate(_ context.Context, e *env, c *config, _ []string) error {
	if c.groups == "" && c.users == "" {
		return usagef("give the export: --groups FILE and/or --users FILE")
	}
	m, loadErr := readMapping(c)
	var ds *state.DesiredState
	if loadErr == nil {
		ds, loadErr = mapping.Load(loadOptions(c, m, rootExtID(c.root)))
	}
	if ds == nil {
		ds = &state.DesiredState{}
	}
	sum := mapping.Problems(ds)
	if c.output == "json" {
		out := struct {
			OK       bool                   `json:"ok"`
			Error    string                 `json:"error,omitempty"`
			Summary  mapping.ProblemSummary `json:"summary"`
			Problems []problemJSON          `json:"problems"`
			// Unchecked is what only the API can tell: `plan` checks it.
			Unchecked []mapping.Unchecked `json:"not_checked_offline"`
		}{OK: loadErr == nil && len(ds.Invalid) == 0, Summary: sum, Problems: []problemJSON{}, Unchecked: mapping.OfflineUnchecked(ds)}
		if loadErr != nil {
			out.Error = loadErr.Error()
		}
		for _, fe := range fileErrors(loadErr) {
			bare := *fe // the message without its file:line, which have fields of their own
			bare.File, bare.Line = "", 0
			out.Problems = append(out.Problems, problemJSON{File: fe.File, Line: fe.Line, Severity: string(state.SeverityError), Message: bare.Error()})
			out.Summary.Errors++
		}
		for _, p := range append(append([]state.Problem{}, ds.Invalid...), ds.Warnings...) {
			out.Problems = append(out.Problems, problemJSON{File: p.Source.File, Line: p.Source.Line, Column: p.Column,
				Kind: p.Kind, Key: p.Key, Severity: string(p.Severity), Message: p.Message})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, ps := range [][]state.Problem{ds.Invalid, ds.Warnings} {
			if len(ps) == 0 {
				continue
			}
			what := "Errors"
			if ps[0].Severity == state.SeverityWarning {
				what = "Warnings"
			}
			fmt.Fprintf(e.stdout, "%s, by kind", what)
			if c.maxErrors > 0 && len(ps) > c.maxErrors {
				fmt.Fprintf(e.stdout, " (at most %d shown: --max-errors; --output json lists them all)", c.maxErrors)
			}
			fmt.Fprintln(e.stdout, ":")
			if err := report.WriteProblems(e.stdout, ps, c.maxErrors); err != nil {
				return err
			}
		}
		if loadErr == nil {
			fmt.Fprintln(e.stdout, sum.String())
		}
		if un := mapping.OfflineUnchecked(ds); len(un) > 0 {
			fmt.Fprintln(e.stdout, "Not checked offline (only Convirza can tell; `plan` checks these):")
			for _, u := range un {
				fmt.Fprintf(e.stdout, "  - %s: %s\n", u.Check, u.Detail)
			}
		}
	}
	switch {
	case loadErr != nil:
		return loadErr
	case len(ds.Invalid) > 0:
		return errors.New("the export has invalid rows")
	}
	return nil
}

// fileErrors lists the whole-file failures in err (one, or several joined),
// so that `validate --output json` gives each its file and line like any
// row problem.
func fileErrors(err error) []*mapping.FileError {
	var out []*mapping.FileError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*mapping.FileError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}
