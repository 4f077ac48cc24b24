package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// ProblemKind is the problems of one kind: one kind of row (group, user),
// one column, and one message once its values are taken out, e.g.
// `not a US ZIP code: "…"` in column "zip".
type ProblemKind struct {
	// Label names the kind for people: `group column "zip": not a US ZIP
	// code: "…"`.
	Label string
	// Problems are the kind's problems, in the order given.
	Problems []state.Problem
}

// ProblemKinds groups problems by kind: the most frequent kind first, and
// kinds of equal counts in the order they first appear. The problems of a
// kind keep their order.
func ProblemKinds(ps []state.Problem) []ProblemKind {
	var kinds []ProblemKind
	at := map[string]int{}
	for _, p := range ps {
		label := problemLabel(p)
		i, ok := at[label]
		if !ok {
			i = len(kinds)
			at[label] = i
			kinds = append(kinds, ProblemKind{Label: label})
		}
		kinds[i].Problems = append(kinds[i].Problems, p)
	}
	slices.SortStableFunc(kinds, func(a, b ProblemKind) int { return cmp.Compare(len(b.Problems), len(a.Problems)) })
	return kinds
}

// problemLabel is a problem's kind: its row kind, its column, and the first
// line of its message with the quoted values and the numbers taken out,
// cut before a parenthesised hint.
func problemLabel(p state.Problem) string {
	msg, _, _ := strings.Cut(p.Message, "\n")
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		switch {
		case c == '"':
			// a Go-quoted value: skip to its closing quote.
			j := i + 1
			for j < len(msg) && msg[j] != '"' {
				if msg[j] == '\\' {
					j++
				}
				j++
			}
			b.WriteString(`"…"`)
			i = j
		case c >= '0' && c <= '9' && (i == 0 || !isWordByte(msg[i-1])):
			j := i
			for j < len(msg) && (msg[j] >= '0' && msg[j] <= '9' || msg[j] == ',') {
				j++
			}
			if j < len(msg) && isWordByte(msg[j]) {
				b.WriteString(msg[i:j]) // part of a word: E164, 3rd
			} else {
				b.WriteByte('N')
			}
			i = j - 1
		case c == ' ' && strings.HasPrefix(msg[i:], " ("):
			i = len(msg)
		default:
			b.WriteByte(c)
		}
	}
	label := strings.TrimSuffix(strings.TrimSpace(b.String()), ":")
	if p.Column != "" {
		label = fmt.Sprintf("column %q: %s", p.Column, label)
	}
	if p.Kind != "" {
		label = p.Kind + " " + label
	}
	return clean(label)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// ProblemsFew is how many problems of each kind WriteProblems shows.
const ProblemsFew = 3

// WriteProblems writes problems grouped by kind: each kind's count, then
// its first few problems in full (file:line and message), at most max
// problems in all (0: every problem, still grouped). What is left out is
// counted, never silently dropped.
func WriteProblems(w io.Writer, ps []state.Problem, max int) error {
	ew := newErrWriter(w)
	kinds := ProblemKinds(ps)
	budget := max
	for i, k := range kinds {
		if max > 0 && budget <= 0 {
			rest := 0
			for _, k := range kinds[i:] {
				rest += len(k.Problems)
			}
			ew.str("  … and ", plural(len(kinds)-i, "more kind", "more kinds"), " (", plural(rest, "problem", "problems"), ")\n")
			break
		}
		ew.str("  ", num(len(k.Problems)), " × ", k.Label, "\n")
		show := len(k.Problems)
		if max > 0 {
			show = min(show, ProblemsFew, budget)
			budget -= show
		}
		for _, p := range k.Problems[:show] {
			lines := strings.Split(p.Error(), "\n")
			for j, l := range lines {
				pad := "      "
				if j == 0 {
					pad = "    "
				}
				ew.str(pad, clean(l), "\n")
			}
		}
		if n := len(k.Problems) - show; n > 0 {
			ew.str("    … and ", num(n), " more\n")
		}
	}
	if err := ew.flush(); err != nil {
		return fmt.Errorf("write the problems: %w", err)
	}
	return nil
}
