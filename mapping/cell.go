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
//
// It reads bytes through one table: every byte of a valid UTF-8 rune
// above U+007F is 0x80 or more, and such runes are allowed wherever a
// letter is, so a byte check is the rune check (validEmailTest in the
// tests holds it to the rune-by-rune spelling). A million-user export
// runs it a million times.
func validEmail(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if emailByte[c]&localOK == 0 || c == '.' && local[i-1] == '.' {
			return false
		}
	}
	// the domain: labels of 1..63 bytes, no hyphen at either end, at least two
	labels, start, tldAlpha := 0, 0, true
	for i := 0; i <= len(domain); i++ {
		if i < len(domain) && domain[i] != '.' {
			c := domain[i]
			if emailByte[c]&labelOK == 0 {
				return false // '@' included: one @ only
			}
			if emailByte[c]&letter == 0 {
				tldAlpha = false
			}
			continue
		}
		l := domain[start:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if i < len(domain) {
			start, tldAlpha = i+1, true
		}
	}
	if labels < 2 {
		return false
	}
	tld := domain[start:]
	if !tldAlpha {
		return len(tld) > 4 && strings.HasPrefix(tld, "xn--") // punycode TLD
	}
	return len(tld) >= 2
}

// The classes of emailByte.
const (
	localOK = 1 << iota // may stand in an email's local part
	labelOK             // may stand in a domain label
	letter              // a letter of a top-level domain (ASCII or a byte of a non-ASCII rune)
)

var emailByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if c > ' ' && c != 0x7f && !strings.ContainsRune("\"(),:;<>[\\]@", rune(c)) {
			t[c] |= localOK
		}
		if c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			t[c] |= labelOK
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			t[c] |= letter
		}
	}
	return t
}()

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
