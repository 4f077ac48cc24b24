// Package normalize turns the values of an export, and the values Convirza
// returns, into one canonical form, so that equal things compare equal.
//
// Invariant: every function here is pure and safe for concurrent use. The
// loader calls them when it reads a row; the planner calls them again on
// Convirza's values before it compares.
package normalize

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the phone region used when a number has no country code.
const DefaultRegion = "US"

// Text trims a name, address or city and collapses inner whitespace, line
// breaks included, to one space. Case is kept: a change of case is a rename.
func Text(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ErrPhone is wrapped by every phone parsing error.
var ErrPhone = errors.New("not a valid phone number")

// Phone returns the number in E.164 ("+16175550142"). region is the
// ISO 3166 region assumed when the number has no country code ("" means US).
func Phone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if region == "" {
		region = DefaultRegion
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrPhone, s)
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", fmt.Errorf("%w: %q", ErrPhone, s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// PhoneEqual compares two numbers as E.164, falling back to text when one
// does not parse.
func PhoneEqual(a, b, region string) bool {
	na, ea := Phone(a, region)
	nb, eb := Phone(b, region)
	if ea != nil || eb != nil {
		return Text(a) == Text(b)
	}
	return na == nb
}

// IsUS reports whether a row's country (as exported; "" counts as US) is
// the United States.
func IsUS(country string) bool {
	switch strings.ToUpper(strings.Join(strings.FieldsFunc(country, func(r rune) bool { return r == '.' || r == ' ' }), "")) {
	case "", "US", "USA", "UNITEDSTATES", "UNITEDSTATESOFAMERICA":
		return true
	}
	return false
}

// State returns the USPS code of a US state, district or territory given
// by code or full name, in any case ("massachusetts" -> "MA").
func State(s string) (string, bool) {
	k := strings.ToUpper(Text(strings.ReplaceAll(s, ".", " ")))
	if _, ok := stateNames[k]; ok {
		return k, true
	}
	if code, ok := stateCodes[k]; ok {
		return code, true
	}
	return "", false
}

// Zip returns a US ZIP as "02134" or "02134-1234". A 4-digit ZIP (a
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
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Key folds a value for case-insensitive matching (emails, industry names,
// sibling names): trimmed, whitespace collapsed, lower case.
func Key(s string) string { return strings.ToLower(Text(s)) }
