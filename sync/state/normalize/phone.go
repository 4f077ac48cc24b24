package normalize

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the phone region used when a number has no country code.
const DefaultRegion = "US"

// ErrPhone is wrapped by every phone parsing error.
var ErrPhone = errors.New("not a valid phone number")

// Phone returns the number in E.164 ("+16175550142"). region is the
// ISO 3166 region assumed when the number has no country code ("" means
// US). An extension ("x123") is dropped; PhoneWithExt returns it. An empty
// value gives "" and no error.
func Phone(s, region string) (string, error) {
	e164, _, err := PhoneWithExt(s, region)
	return e164, err
}

// PhoneWithExt is Phone that also returns the extension's digits ("" when
// the value has none).
//
// The result is, by definition, what nyaruka/phonenumbers gives:
// Parse(s, region), then IsValidNumber (a number that is merely the right
// length, such as a 7-digit "555-0142" or an unassigned area code, is an
// error), then Format(E164). Parse and IsValidNumber cost about 10-30 µs,
// so the common North American layouts ("(617) 555-0142", "617.555.0142",
// "+1-617-555-0142", "1 (617) 555-0142", ...) take a fast path that gives
// the same answer: it only extracts the ten digits, and reads whether
// numbers with those first six digits are valid from a table of every
// prefix made from phonenumbers (nanpTable; TestNANPValidityDigits proves,
// from the metadata itself, that validity depends on no other digit, but
// for two area codes where it takes seven; TestNANPTable checks the table
// against phonenumbers; TestPhoneFastAgrees compares both paths on
// generated numbers). A number written with "+" and its country code
// takes phoneE164, which skips Parse's extension search and joins
// IsValidNumber's patterns (TestPhoneE164Agrees); a number written as
// another region writes it nationally takes phoneNational, which also
// strips the national prefix as Parse does (TestPhoneNationalAgrees).
// Everything else, and every number a fast path is unsure of, goes to
// phonenumbers.
func PhoneWithExt(s, region string) (e164, ext string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", nil
	}
	region = normRegion(region)
	if region == DefaultRegion || s[0] == '+' {
		if out, ok := phoneFast(s); ok {
			return out, "", nil
		}
	}
	if s[0] == '+' {
		if out, ok := phoneE164(s); ok {
			return out, "", nil
		}
	} else if region != DefaultRegion {
		if out, ok := phoneNational(s, region); ok {
			return out, "", nil
		}
	}
	return phoneSlow(s, region)
}

// Region is a phone region as given (a mapping's phone_region, a plan's
// region) in its canonical form: upper case, "" meaning DefaultRegion.
func Region(region string) string { return normRegion(region) }

func normRegion(region string) string {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return DefaultRegion
	}
	return region
}

// ValidRegion reports whether phonenumbers knows the region ("US", "CA",
// "GB", ...; any case).
func ValidRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[normRegion(region)]
}

// phoneSlow is the reference: phonenumbers all the way.
func phoneSlow(s, region string) (string, string, error) {
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", "", fmt.Errorf("%w: %q", ErrPhone, s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), n.GetExtension(), nil
}

// phoneFast handles a NANP number written in a common layout, with the
// default region US or an explicit "+1": an optional "1" or "+1" and one
// separator, then "DDD" or "(DDD)", then "DDD" and "DDDD", with at most
// one separator (" ", "-" or ".") between the groups. The area code and
// the exchange must start with 2-9. It returns false for anything else,
// and for numbers phonenumbers does not hold valid.
func phoneFast(s string) (string, bool) {
	d, ok := nanpDigits(s)
	if !ok {
		return "", false
	}
	if !nanpValid(&d) {
		return "", false
	}
	var b [12]byte
	b[0], b[1] = '+', '1'
	copy(b[2:], d[:])
	return string(b[:]), true
}

func isSep(c byte) bool { return c == ' ' || c == '-' || c == '.' }

// nanpDigits extracts the ten digits of a number in one of the layouts
// phoneFast accepts.
func nanpDigits(s string) (d [10]byte, ok bool) {
	i, n := 0, len(s)
	prefix := false
	switch {
	case n > 1 && s[0] == '+':
		if s[1] != '1' {
			return d, false
		}
		i, prefix = 2, true
	case n > 10 && s[0] == '1':
		i, prefix = 1, true
	}
	if prefix && i < n && isSep(s[i]) {
		i++
	}
	take := func(k int, at int) bool {
		if i+k > n {
			return false
		}
		for j := 0; j < k; j++ {
			c := s[i+j]
			if c < '0' || c > '9' {
				return false
			}
			d[at+j] = c
		}
		i += k
		return true
	}
	if i < n && s[i] == '(' {
		i++
		if !take(3, 0) || i >= n || s[i] != ')' {
			return d, false
		}
		i++
	} else if !take(3, 0) {
		return d, false
	}
	if i < n && isSep(s[i]) {
		i++
	}
	if !take(3, 3) {
		return d, false
	}
	if i < n && isSep(s[i]) {
		i++
	}
	if !take(4, 6) || i != n {
		return d, false
	}
	if d[0] < '2' || d[3] < '2' {
		return d, false
	}
	return d, true
}

// nanpTable holds one bit per NANP prefix: whether phonenumbers holds the
// numbers that start with it valid. Bits 0-799999 are the six-digit
// prefixes 200000-999999; then, for each area code of nanpSevenDigitAreas
// in increasing order, 10000 bits for its seven-digit prefixes (the area's
// three digits left out). It is generated from phonenumbers.IsValidNumber
// (go test -run TestNANPTable -update) and TestNANPTable checks it against
// the metadata in use, so a cold prefix costs what a warm one does: one
// bit read.
//
//go:embed nanp_valid.bin
var nanpTable string

const nanpTableBits = 800000 + 10000*2

// nanpSevenDigitAreas are the area codes under which the NANP metadata
// looks at the seventh digit (Barbados, Jamaica); TestNANPValidityDigits
// derives this set from the metadata and fails if it drifts.
var nanpSevenDigitAreas = map[int]bool{246: true, 876: true}

// nanpSevenDigitOrder is nanpSevenDigitAreas in the table's order.
var nanpSevenDigitOrder = []int{246, 876}

// nanpBit returns the table bit of a number's prefix.
func nanpBit(d *[10]byte) int {
	area := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	for i, a := range nanpSevenDigitOrder {
		if a == area {
			return 800000 + 10000*i + int(d[3]-'0')*1000 + int(d[4]-'0')*100 + int(d[5]-'0')*10 + int(d[6]-'0')
		}
	}
	return area*1000 + int(d[3]-'0')*100 + int(d[4]-'0')*10 + int(d[5]-'0') - 200000
}

// nanpValid reports whether the number is valid, by its prefix's bit.
func nanpValid(d *[10]byte) bool {
	bit := nanpBit(d)
	if bit < 0 || bit/8 >= len(nanpTable) {
		return false // not a prefix of the table (an area code below 200)
	}
	return nanpTable[bit/8]&(1<<(bit%8)) != 0
}

// nanpValidSlow is the reference the table is made from: phonenumbers'
// verdict on a number with the digits d.
func nanpValidSlow(d *[10]byte) bool {
	var nn uint64
	for _, c := range d {
		nn = nn*10 + uint64(c-'0')
	}
	cc := int32(1)
	return phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn})
}
