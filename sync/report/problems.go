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

// ProblemsShown says how much of kinds a list capped at max problems shows
// (0: all): one count per kind listed, the first kinds first, each at most
// ProblemsFew. Kinds past the end of the result are only counted.
func ProblemsShown(kinds []ProblemKind, max int) []int {
	shown := make([]int, 0, len(kinds))
	budget := max
	for _, k := range kinds {
		if max <= 0 {
			shown = append(shown, len(k.Problems))
			continue
		}
		if budget <= 0 {
			break
		}
		n := min(len(k.Problems), ProblemsFew, budget)
		budget -= n
		shown = append(shown, n)
	}
	return shown
}

// WriteProblems writes problems grouped by kind: each kind's count, then
// its first few problems in full (file:line and message), at most max
// problems in all (0: every problem, still grouped). What is left out is
// counted, never silently dropped.
func WriteProblems(w io.Writer, ps []state.Problem, max int) error {
	ew := newErrWriter(w)
	kinds := ProblemKinds(ps)
	shown := ProblemsShown(kinds, max)
	for i, k := range kinds[:len(shown)] {
		ew.str("  ", num(len(k.Problems)), " × ", k.Label, "\n")
		for _, p := range k.Problems[:shown[i]] {
			for j, l := range strings.Split(p.Error(), "\n") {
				pad := "      "
				if j == 0 {
					pad = "    "
				}
				ew.str(pad, clean(l), "\n")
			}
		}
		if n := len(k.Problems) - shown[i]; n > 0 {
			ew.str("    … and ", num(n), " more\n")
		}
	}
	if rest := kinds[len(shown):]; len(rest) > 0 {
		n := 0
		for _, k := range rest {
			n += len(k.Problems)
		}
		ew.str("  … and ", Plural(len(rest), "more kind", "more kinds"), " (", Plural(n, "problem", "problems"), ")\n")
	}
	if err := ew.flush(); err != nil {
		return fmt.Errorf("write the problems: %w", err)
	}
	return nil
}
