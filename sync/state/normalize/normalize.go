// Package normalize is the one home of the rules of equality and identity,
// and never keeps state that depends on its callers: the canonical forms of
// an export's values and of Convirza's (text, phones in their region, US
// states and ZIPs, countries), the keys records are matched by (ext ids,
// emails), and the rules that say whether two values of a field are the
// same (equal.go). The loader, the planner and the stale check all import
// it; none of them compares values any other way.
//
// Invariant: every function here is pure and safe for concurrent use (the
// phone fast path and the state memo keep lock-free caches whose content is
// a function of their inputs alone). It does no I/O and imports nothing of
// this module but sync/state.
package normalize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text trims a name, address or city and collapses inner whitespace, line
// breaks included, to one space. Case is kept: a change of case is a rename.
func Text(s string) string {
	if isTidy(s) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// isTidy reports whether Text(s) == s without allocating: no leading or
// trailing space, and no whitespace but single ASCII spaces inside. It may
// say false for a tidy string (a control character); Text is then merely
// slower, never different.
func isTidy(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c > ' ' && c < utf8.RuneSelf:
		case c == ' ':
			if s[i+1] == ' ' { // s does not end in a space, so i+1 < len(s)
				return false
			}
		case c < ' ':
			return false
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			i += size - 1
		}
	}
	return true
}

// State returns the USPS code of a US state, district or territory given
// by code, full name or AP-style abbreviation, in any case and with or
// without dots ("massachusetts", "Mass.", "D.C." -> "MA", "MA", "DC").
func State(s string) (string, bool) {
	if len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' {
		_, ok := stateNames[s]
		if ok {
			return s, true
		}
	}
	k := s
	if strings.ContainsAny(k, ".,") {
		k = dotsAndCommas.Replace(k)
	}
	k = strings.ToUpper(Text(k))
	if _, ok := stateNames[k]; ok {
		return k, true
	}
	if code, ok := stateCodes[k]; ok {
		return code, true
	}
	if strings.Contains(k, " ") { // "D C", "N Y": dotted initials
		j := strings.ReplaceAll(k, " ", "")
		if _, ok := stateNames[j]; ok && len(j) == 2 {
			return j, true
		}
		if code, ok := stateCodes[j]; ok {
			return code, true
		}
	}
	return "", false
}

var dotsAndCommas = strings.NewReplacer(".", " ", ",", " ")

// Zip returns a US ZIP as "02134" or "02134-1234". A 4- or 3-digit ZIP (a
// leading zero that Excel dropped) is padded, and padded reports it.
func Zip(s string) (zip string, padded bool, err error) {
	z := strings.TrimSpace(s)
	base, ext, hasExt := strings.Cut(z, "-")
	if !hasExt && len(z) == 9 && digits(z) {
		base, ext, hasExt = z[:5], z[5:], true
	}
	if !digits(base) || hasExt && (len(ext) != 4 || !digits(ext)) {
		return "", false, fmt.Errorf("not a valid US ZIP code: %q", s)
	}
	switch len(base) {
	case 5:
	case 4, 3:
		base = strings.Repeat("0", 5-len(base)) + base
		padded = true
	default:
		return "", false, fmt.Errorf("not a valid US ZIP code: %q", s)
	}
	if hasExt {
		return base + "-" + ext, padded, nil
	}
	return base, padded, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Key folds a value for case-insensitive matching (emails, industry names,
// sibling names): trimmed, whitespace collapsed, lower case.
func Key(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= 'A' && c <= 'Z' || c <= ' ' && (c != ' ' || i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return strings.ToLower(Text(s))
		}
	}
	return s // already folded: the common case, without allocating
}
