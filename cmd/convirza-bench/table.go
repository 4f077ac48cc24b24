package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// verdict is how a row fares against its goal.
type verdict int

const (
	info verdict = iota // no goal: a figure given for context
	pass
	miss
)

func (v verdict) String() string {
	switch v {
	case pass:
		return "pass"
	case miss:
		return "MISS"
	}
	return "-"
}

// judge turns a condition into a verdict.
func judge(ok bool) verdict {
	if ok {
		return pass
	}
	return miss
}

// row is one line of the table: a figure beside its reference.
type row struct {
	Section   string
	Case      string
	Measured  string
	Reference string
	Ratio     string
	Goal      string
	Verdict   verdict
}

// section is the outcome of one part of the bench: its rows and the notes
// that say how it was measured and, where a goal was missed, why.
type section struct {
	Name  string
	Rows  []row
	Notes []string
}

func (s *section) add(r row) {
	r.Section = s.Name
	s.Rows = append(s.Rows, r)
}

func (s *section) note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

var header = []string{"section", "case", "measured", "reference", "ratio", "goal", "result"}

func (r row) cells() []string {
	return []string{r.Section, r.Case, r.Measured, r.Reference, r.Ratio, r.Goal, r.Verdict.String()}
}

// tally counts the rows with a goal and the ones that met it.
func tally(secs []*section) (goals, met int) {
	for _, s := range secs {
		for _, r := range s.Rows {
			if r.Verdict != info {
				goals++
			}
			if r.Verdict == pass {
				met++
			}
		}
	}
	return goals, met
}

// render writes the table, then each section's notes, as aligned text or
// as Markdown.
func render(w io.Writer, preamble []string, secs []*section, md bool) error {
	var b strings.Builder
	if md {
		for _, p := range preamble {
			fmt.Fprintf(&b, "%s  \n", p)
		}
		b.WriteString("\n| " + strings.Join(header, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
		for _, s := range secs {
			for _, r := range s.Rows {
				c := r.cells()
				for i := range c {
					c[i] = strings.ReplaceAll(c[i], "|", `\|`)
				}
				b.WriteString("| " + strings.Join(c, " | ") + " |\n")
			}
		}
	} else {
		for _, p := range preamble {
			b.WriteString(p + "\n")
		}
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, s := range secs {
			for _, r := range s.Rows {
				fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
			}
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	goals, met := tally(secs)
	fmt.Fprintf(&b, "\n%d of %d goals met.\n", met, goals)
	for _, s := range secs {
		if len(s.Notes) == 0 {
			continue
		}
		if md {
			fmt.Fprintf(&b, "\n**%s**\n\n", s.Name)
			for _, n := range s.Notes {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		} else {
			fmt.Fprintf(&b, "\n%s:\n", s.Name)
			for _, n := range s.Notes {
				fmt.Fprintf(&b, "  - %s\n", n)
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// Formatting helpers.

func ratio(measured, reference float64) string {
	if reference == 0 {
		if measured == 0 {
			return "-"
		}
		return "inf"
	}
	return fmt.Sprintf("%.2fx", measured/reference)
}

func pct(measured, reference float64) string {
	if reference == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*measured/reference)
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// size renders a count the short way: 1k, 50k, 1M.
func size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return thousands(n)
}
