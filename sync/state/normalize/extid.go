package normalize

import "strings"

// ExtIDKey is the key an external id is matched by, so that the spellings
// CRMs write for one record match each other:
//
//   - Salesforce: an 18-character id whose 3-character case checksum is right
//     is the same record as its 15-character, case-sensitive prefix (reports
//     and the API mix the two forms); the key is the 15-character form.
//   - Dynamics 365 and other GUID keys: "{8A7B1C2D-…}" and "8a7b1c2d-…" are
//     one record; the key is the lower-case form without braces.
//
// Any other id is its own key, trimmed; case matters. A key is for
// matching only: what is written to Convirza is the id as exported.
func ExtIDKey(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 18 && isSalesforce18(s):
		return s[:15]
	case len(s) == 38 && s[0] == '{' && s[37] == '}' && isGUID(s[1:37]):
		return strings.ToLower(s[1:37])
	case len(s) == 36 && isGUID(s):
		return strings.ToLower(s)
	}
	return s
}

// isGUID reports whether s is 8-4-4-4-12 hexadecimal digits.
func isGUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

const sfChecksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

func isSalesforce18(s string) bool {
	for i := 0; i < 18; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	sum := salesforceChecksum(s[:15])
	return s[15] == sum[0] && s[16] == sum[1] && s[17] == sum[2]
}

// salesforceChecksum is the suffix Salesforce appends to a 15-character id:
// for each block of 5 characters of a 15-character
// id, a letter or digit whose bits say which of them are upper case. It
// allocates nothing: it runs on every id of a million-row export.
func salesforceChecksum(id15 string) [3]byte {
	var b [3]byte
	for i := 0; i < 3; i++ {
		flags := 0
		for j := 0; j < 5; j++ {
			if c := id15[i*5+j]; c >= 'A' && c <= 'Z' {
				flags |= 1 << j
			}
		}
		b[i] = sfChecksumAlphabet[flags]
	}
	return b
}
