// Package nearest finds the words that look like a word, for the "did you
// mean" of a message: a header column, a role, an industry. It is shared by
// the loader (mapping) and the planner (sync/plan), so that every
// suggestion is made by one rule.
//
// Invariant: a suggestion is only ever shown, never acted on. Nothing here
// decides identity or equality (that is sync/state/normalize's); it is pure,
// does no I/O and imports nothing of this module.
package nearest

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Words returns up to three of the candidates that look like want, the
// nearest first: the same letters and digits (ignoring case, spaces and
// punctuation), or a small edit distance, or one containing the other.
// Among equals, candidates keep their order.
func Words(want string, candidates []string) []string {
	type scored struct {
		s     string
		score int
	}
	w := strings.ToLower(want)
	wa := Alnum(w)
	wn := len([]rune(w))
	limit := max(2, wn/4)
	var out []scored
	for _, c := range candidates {
		l := strings.ToLower(c)
		ca := Alnum(l)
		score := -1
		switch {
		case ca == wa && ca != "":
			score = 0
		default:
			// The edit distance is at least the difference of the lengths:
			// skip the distance when that alone is over the limit.
			if d := abs(len([]rune(l)) - wn); d <= limit {
				if d = levenshtein(w, l); d <= limit {
					score = d
				}
			}
			if score < 0 && len(wa) >= 3 && len(ca) >= 3 && (strings.Contains(ca, wa) || strings.Contains(wa, ca)) {
				score = limit + 1 + abs(len(ca)-len(wa))
			}
		}
		if score >= 0 {
			out = append(out, scored{c, score})
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int { return a.score - b.score })
	var res []string
	for i := 0; i < len(out) && i < 3; i++ {
		res = append(res, out[i].s)
	}
	return res
}

// Alnum keeps the letters and digits of s.
func Alnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// YAMLKey quotes a word for the mapping line a suggestion shows, when YAML
// needs it (block or flow style): "Food & Beverage" and "a: b" are quoted,
// "Restaurant" is not.
func YAMLKey(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}
