package mapping

import (
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// Cell cleaning: the habits of real exports, handled the way their users
// expect.
//
//   - Null markers. A cell that is exactly NULL, null, N/A, #N/A or "-"
//     (any case, after trimming) is empty: CRMs and spreadsheets write
//     these for "no value", and nobody means a group called "N/A". "NA",
//     "none" and "0" are left alone: they are real values somewhere (an
//     abbreviation, a name, a number). An empty cell then follows the
//     mapping's empty policy, like any other.
//   - Excel error values (#REF!, #VALUE!, #DIV/0!, #NAME?, #NUM!, #NULL!,
//     #SPILL!, #CALC!) are errors: the cell was a broken formula and its
//     value is lost.
//   - In id-like fields (ext ids, ZIP, phone, industry_id), one leading
//     apostrophe is dropped: Excel users type '02134 to keep the zeros.
//     Names and addresses keep theirs.
//   - In id-like fields, scientific notation ("1.23457E+11") is an error:
//     Excel turned a long number into a float and its digits are gone;
//     only a re-export with the column as text can recover them.

// cleanCell trims a raw cell and applies the rules above. fault is "" or a
// message for an error.
func cleanCell(f *fieldInfo, raw string) (val string, null bool, fault string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", false, ""
	}
	if isNullMarker(s) {
		return "", true, ""
	}
	if s[0] == '#' && isExcelError(s) {
		return "", false, "the cell holds the Excel error " + s + ": the formula behind it is broken and its value is lost"
	}
	if f.idLike {
		if isSalesforceNullID(s) {
			return "", true, ""
		}
		if s[0] == '\'' {
			s = strings.TrimSpace(s[1:])
			if s == "" {
				return "", false, ""
			}
		}
		if isSci(s) {
			return "", false, "\"" + s + "\" is in scientific notation: Excel rounded this number and its digits are lost; re-export the column formatted as text"
		}
	}
	return s, false, ""
}

func isNullMarker(s string) bool {
	switch len(s) {
	case 1:
		return s == "-"
	case 3:
		return strings.EqualFold(s, "n/a")
	case 4:
		return strings.EqualFold(s, "null") || strings.EqualFold(s, "#n/a")
	}
	return false
}

func isExcelError(s string) bool {
	switch strings.ToUpper(s) {
	case "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#GETTING_DATA":
		return true
	}
	return false
}

// isSci reports whether s is a number in scientific notation: an optional
// sign, digits, an optional fraction, then E or e and an exponent.
func isSci(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i >= len(s) || s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	exp := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > exp && i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// idKey is the key an ext id is matched by: an 18-character Salesforce id
// and its 15-character form are one key, and so are a GUID's spellings
// (normalize.ExtIDKey). The row keeps its ext id as exported, and a
// reference is rewritten to the form of the row it names.
func idKey(s string) string { return normalize.ExtIDKey(s) }

// validEmail is a practical check, not RFC 5322: one @, a local part
// without spaces or the characters that mark a display name or a list,
// and a domain of two or more dot-separated labels of letters, digits and
// hyphens (non-ASCII letters allowed), ending in a label of letters.
func validEmail(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if r <= ' ' || strings.ContainsRune("\"(),:;<>[\\]", r) || r == 0x7f {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	for _, r := range tld {
		if r >= '0' && r <= '9' || r == '-' {
			return len(tld) > 4 && strings.HasPrefix(tld, "xn--") // punycode TLD
		}
	}
	return len(tld) >= 2
}

// strSlab hands out *string without one allocation per string: the
// pointers of a DesiredGroup point into shared chunks.
type strSlab struct{ buf []string }

// reserve makes room for n more strings in one chunk.
func (s *strSlab) reserve(n int) {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]string, 0, n)
	}
}

func (s *strSlab) ptr(v string) *string {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]string, 0, 1024)
	}
	s.buf = append(s.buf, v)
	return &s.buf[len(s.buf)-1]
}
