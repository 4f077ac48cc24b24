package normalize

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"sync"
)

// phoneNational is the fast path for a number written as its region writes
// it, without a country code ("020 7946 0958" in GB, "030 123456" in DE):
// digits with spaces, dots, dashes and parentheses between them. It gives
// what phoneSlow gives for the region, or false when it is unsure, and
// phoneSlow decides:
//
//   - Parse: such a value has no extension (see phoneE164). A number that
//     Parse could read as carrying a country code is left to phoneSlow: it
//     starts with the region's international prefix, or with the digits of
//     its country code. Otherwise the national number is the digits, less
//     the national prefix as Parse strips it (the region's national prefix
//     for parsing at the start, or its transform rule, unless the number
//     matched the general pattern before and would not after, or the rest
//     is not of a possible length).
//   - IsValidNumber: as phoneE164, for the region's country code; false
//     when not valid (phoneSlow then gives the error).
//
// E.164 is then "+", the country code and the national number: Parse keeps
// its leading zeros. TestPhoneNationalAgrees and FuzzPhoneNational compare
// it with phoneSlow.
func phoneNational(s, region string) (string, bool) {
	if len(s) < 2 || len(s) > 64 {
		return "", false
	}
	nr := nationalFor(region)
	if nr == nil {
		return "", false
	}
	var buf [24]byte
	n, ok := dialDigits(s, buf[:])
	if !ok {
		return "", false
	}
	digits := buf[:n]
	if len(digits) < 2 || bytes.HasPrefix(digits, []byte(nr.cc)) || nr.idd != nil && nr.idd.Match(digits) {
		return "", false // Parse may read a country code
	}
	nsn := digits
	if stripped, ok := nr.stripPrefix(digits); ok && nr.possibleLength(len(stripped)) {
		nsn = stripped
	}
	if len(nsn) < 2 || len(nsn) > 17 || !nr.country.valid(nsn) {
		return "", false
	}
	return "+" + nr.cc + string(nsn), true
}

// stripPrefix is phonenumbers' maybeStripNationalPrefixAndCarrierCode: the
// number less its national prefix (or as the transform rule rewrites it),
// and whether it applied.
func (nr *nationalRegion) stripPrefix(digits []byte) ([]byte, bool) {
	if nr.natPrefix == nil {
		return nil, false
	}
	m := nr.natPrefix.FindSubmatchIndex(digits)
	if m == nil {
		return nil, false
	}
	viable := nr.general.Match(digits)
	groups := len(m)/2 - 1
	out := digits[m[1]:]
	if nr.transform != "" && m[groups*2] >= 0 {
		out = nr.natPrefix.ReplaceAll(digits, []byte(nr.transform))
	}
	if viable && !nr.general.Match(out) {
		return nil, false
	}
	return out, true
}

// possibleLength is whether Parse keeps a number stripped of its national
// prefix at length l: testNumberLength is neither too short, nor local
// only, nor an invalid length.
func (nr *nationalRegion) possibleLength(l int) bool {
	ls := nr.lengths
	if len(ls) == 0 || ls[0] == -1 || slices.Contains(nr.localOnly, int32(l)) {
		return false
	}
	return int32(l) > ls[len(ls)-1] || slices.Contains(ls, int32(l))
}

// nationalRegion is what phoneNational needs of one region.
type nationalRegion struct {
	cc        string         // the country calling code, in digits
	idd       *regexp.Regexp // the international prefix, anchored at the start; nil when none
	natPrefix *regexp.Regexp // the national prefix for parsing, anchored at the start; nil when none
	transform string         // the national prefix transform rule, "" when none
	general   *regexp.Regexp // the general pattern of a national number, whole
	lengths   []int32        // the general description's possible lengths
	localOnly []int32        // and its local-only ones
	country   *e164Country
}

var nationalRegions sync.Map // region -> *nationalRegion (nil when phoneNational leaves it to phoneSlow)

// nationalFor returns the region's plan, built on first use, or nil.
func nationalFor(region string) *nationalRegion {
	if v, ok := nationalRegions.Load(region); ok {
		return v.(*nationalRegion)
	}
	e164Once.Do(e164Load)
	v, _ := nationalRegions.LoadOrStore(region, buildNational(region))
	return v.(*nationalRegion)
}

func buildNational(region string) *nationalRegion {
	md := e164Meta[region]
	if md == nil {
		return nil
	}
	cc := int(md.GetCountryCode())
	g := md.GetGeneralDesc()
	nr := &nationalRegion{cc: strconv.Itoa(cc), country: e164CountryFor(cc), transform: md.GetNationalPrefixTransformRule(),
		lengths: g.GetPossibleLength(), localOnly: g.GetPossibleLengthLocalOnly()}
	if nr.country == nil {
		return nil
	}
	var err error
	if nr.general, err = regexp.Compile("^(?:" + g.GetNationalNumberPattern() + ")$"); err != nil {
		return nil
	}
	if p := md.GetInternationalPrefix(); p != "" {
		if nr.idd, err = regexp.Compile("^(?:" + p + ")"); err != nil {
			return nil
		}
	}
	if p := md.GetNationalPrefixForParsing(); p != "" {
		if nr.natPrefix, err = regexp.Compile("^(?:" + p + ")"); err != nil {
			return nil
		}
	}
	return nr
}
