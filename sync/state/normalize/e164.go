package normalize

import (
	"regexp"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phoneE164 is the fast path for a number written with its country code:
// "+" then digits, with spaces, dots, dashes and parentheses between them
// ("+44 20 7946 0958", "+49 (30) 123456"). It gives what phoneSlow gives,
// or false when it is unsure, and phoneSlow decides:
//
//   - Parse: such a value has no extension (phonenumbers' extension forms
//     all need a letter, "#", "~", "," or ";"), so its digits are the
//     country code (the first one to three digits phonenumbers knows) and
//     the national number. The national number is used as is only when the
//     country's national prefix for parsing does not match it (then Parse
//     strips nothing); otherwise, and for lengths Parse refuses, false.
//     E.164 is then "+" and the digits: leading zeros are kept by Parse.
//   - IsValidNumber: the region is chosen as phonenumbers does (the one
//     region of the country code, or the first whose leading digits or
//     patterns match), and the number is valid when its general pattern
//     matches and one of the type patterns of its length does; these are
//     joined into one expression per region and length (e164Validator),
//     where phonenumbers tries up to eleven.
//
// TestPhoneE164Agrees and FuzzPhoneE164 compare it with phoneSlow.
func phoneE164(s string) (string, bool) {
	if len(s) < 2 || len(s) > 64 || s[0] != '+' {
		return "", false
	}
	var buf [24]byte
	buf[0] = '+'
	d, ok := dialDigits(s[1:], buf[1:])
	if !ok {
		return "", false
	}
	n := 1 + d
	digits := buf[1:n]
	if len(digits) < 4 || digits[0] == '0' {
		return "", false
	}
	var cp *e164Country
	var nsn []byte
	cc := 0
	for i := 0; i < 3 && i < len(digits)-2; i++ {
		cc = cc*10 + int(digits[i]-'0')
		if c := e164CountryFor(cc); c != nil {
			cp, nsn = c, digits[i+1:]
			break
		}
	}
	if cp == nil || len(nsn) < 2 || len(nsn) > 17 {
		return "", false
	}
	if cp.natPrefix != nil && cp.natPrefix.Match(nsn) {
		return "", false // Parse may strip a national prefix or carrier code
	}
	if !cp.valid(nsn) {
		return "", false
	}
	return string(buf[:n]), true
}

// dialDigits copies the digits of a dial string into buf, skipping its
// separators (isDialSep), and returns how many there are. It is false for
// any other byte, for more digits than buf holds, and for a string that
// does not end in a digit.
func dialDigits(s string, buf []byte) (int, bool) {
	if s == "" || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return 0, false
			}
			buf[n] = c
			n++
		case isDialSep(c):
		default:
			return 0, false
		}
	}
	return n, true
}

// e164Country is what phoneE164 needs of one country calling code.
type e164Country struct {
	natPrefix *regexp.Regexp // the main region's national prefix for parsing, anchored at the start; nil when none
	regions   []e164Region   // in phonenumbers' order
}

type e164Region struct {
	leading *regexp.Regexp // the region's leading digits, anchored at the start; nil when none
	v       *e164Validator
}

// e164Validator is phonenumbers' getNumberTypeHelper(n) != UNKNOWN for one
// region's metadata: the general description matches, and so does one of
// premium rate, toll free, shared cost, VoIP, personal, pager, UAN,
// voicemail, fixed line and (unless the metadata says its pattern is the
// fixed line's) mobile. A description matches when the length is one of
// its possible lengths (or it lists none) and its pattern matches the whole
// number; byLen[L] joins the patterns of the types that allow length L.
type e164Validator struct {
	general     *regexp.Regexp
	generalLens []int32
	byLen       [18]*regexp.Regexp
}

func (v *e164Validator) valid(nsn []byte) bool {
	l := len(nsn)
	if len(v.generalLens) > 0 && !slices.Contains(v.generalLens, int32(l)) {
		return false
	}
	if !v.general.Match(nsn) {
		return false
	}
	re := v.byLen[l]
	return re != nil && re.Match(nsn)
}

func (c *e164Country) valid(nsn []byte) bool {
	if len(c.regions) == 1 {
		return c.regions[0].v.valid(nsn)
	}
	for _, r := range c.regions {
		if r.leading != nil {
			if r.leading.Match(nsn) {
				return r.v.valid(nsn)
			}
		} else if r.v.valid(nsn) {
			return true
		}
	}
	return false
}

func newE164Validator(md *phonenumbers.PhoneMetadata) (*e164Validator, error) {
	g := md.GetGeneralDesc()
	general, err := regexp.Compile("^(?:" + g.GetNationalNumberPattern() + ")$")
	if err != nil {
		return nil, err
	}
	v := &e164Validator{general: general, generalLens: g.GetPossibleLength()}
	types := []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
		md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()}
	if !md.GetSameMobileAndFixedLinePattern() {
		types = append(types, md.GetMobile())
	}
	for l := 2; l < len(v.byLen); l++ {
		var pats []string
		for _, d := range types {
			if d == nil || d.GetNationalNumberPattern() == "" {
				continue // "^(?:)$" matches no number of length 2 or more
			}
			if ls := d.GetPossibleLength(); len(ls) > 0 && !slices.Contains(ls, int32(l)) {
				continue
			}
			if p := "(?:" + d.GetNationalNumberPattern() + ")"; !slices.Contains(pats, p) {
				pats = append(pats, p)
			}
		}
		if len(pats) == 0 {
			continue
		}
		expr := "^(?:" + pats[0]
		for _, p := range pats[1:] {
			expr += "|" + p
		}
		if v.byLen[l], err = regexp.Compile(expr + ")$"); err != nil {
			return nil, err
		}
	}
	return v, nil
}

var (
	e164Once      sync.Once
	e164Meta      map[string]*phonenumbers.PhoneMetadata // by region
	e164NonGeo    map[int32]*phonenumbers.PhoneMetadata  // region "001", by country code
	e164Countries sync.Map                               // int -> *e164Country (nil when unknown)
)

func e164Load() {
	e164Meta = map[string]*phonenumbers.PhoneMetadata{}
	e164NonGeo = map[int32]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return // every country is then unknown, and phoneSlow decides
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			e164NonGeo[md.GetCountryCode()] = md
		} else {
			e164Meta[md.GetId()] = md
		}
	}
}

// e164CountryFor returns the country calling code's plan, built on first
// use, or nil when phonenumbers does not know the code (or a pattern of
// its metadata does not compile, which phoneSlow then meets).
func e164CountryFor(cc int) *e164Country {
	if v, ok := e164Countries.Load(cc); ok {
		return v.(*e164Country)
	}
	e164Once.Do(e164Load)
	c := buildE164Country(cc)
	v, _ := e164Countries.LoadOrStore(cc, c)
	return v.(*e164Country)
}

func buildE164Country(cc int) *e164Country {
	ids := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(ids) == 0 {
		return nil
	}
	meta := func(id string) *phonenumbers.PhoneMetadata {
		if id == "001" {
			return e164NonGeo[int32(cc)]
		}
		return e164Meta[id]
	}
	c := &e164Country{}
	for _, id := range ids {
		md := meta(id)
		if md == nil || int(md.GetCountryCode()) != cc {
			return nil
		}
		v, err := newE164Validator(md)
		if err != nil {
			return nil
		}
		r := e164Region{v: v}
		if ld := md.GetLeadingDigits(); ld != "" {
			if r.leading, err = regexp.Compile("^(?:" + ld + ")"); err != nil {
				return nil
			}
		}
		c.regions = append(c.regions, r)
	}
	if p := meta(ids[0]).GetNationalPrefixForParsing(); p != "" {
		var err error
		if c.natPrefix, err = regexp.Compile("^(?:" + p + ")"); err != nil {
			return nil
		}
	}
	return c
}
