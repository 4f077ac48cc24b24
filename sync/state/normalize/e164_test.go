package normalize

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// e164Examples are phonenumbers' example numbers of every region and
// non-geographic code, of every type, as "+" and digits.
func e164Examples() []string {
	var out []string
	add := func(n *phonenumbers.PhoneNumber) {
		if n != nil {
			out = append(out, phonenumbers.Format(n, phonenumbers.E164))
		}
	}
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		add(phonenumbers.GetExampleNumber(r))
		for t := phonenumbers.FIXED_LINE; t <= phonenumbers.VOICEMAIL; t++ {
			add(phonenumbers.GetExampleNumberForType(r, t))
		}
	}
	var codes []int
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	return out
}

// e164Layouts writes the digits of "+..." with separators.
func e164Layout(rng *rand.Rand, e string) string {
	d := e[1:]
	switch rng.IntN(6) {
	case 0:
		return e
	case 1: // "+CC NSN" split at a random place
		k := 1 + rng.IntN(3)
		if k > len(d) {
			k = len(d)
		}
		return "+" + d[:k] + " " + d[k:]
	case 2: // groups of random size with a random separator
		seps := []string{" ", "-", ".", " - "}
		var b strings.Builder
		b.WriteString("+")
		for len(d) > 0 {
			k := min(len(d), 1+rng.IntN(4))
			b.WriteString(d[:k])
			d = d[k:]
			if len(d) > 0 {
				b.WriteString(seps[rng.IntN(len(seps))])
			}
		}
		return b.String()
	case 3: // parentheses around the start of the national number
		if len(d) < 6 {
			return e
		}
		return "+" + d[:2] + " (" + d[2:4] + ") " + d[4:]
	case 4:
		return "+(" + d[:2] + ")" + d[2:]
	default: // odd but accepted punctuation
		return "+" + d[:1] + "..." + d[1:len(d)-1] + "--" + d[len(d)-1:]
	}
}

// TestPhoneE164Agrees proves phoneE164 against phoneSlow (phonenumbers
// Parse, IsValidNumber, Format) on every example number of every region
// and type, with its last digits varied and its length changed by up to
// two digits, in several layouts, and on random "+" digit strings: when
// the fast path answers, phonenumbers gives the same E.164 and no error
// and no extension; when it does not, either phonenumbers refuses the
// number or Parse would strip a national prefix (the one case the fast
// path leaves to it on purpose). A few hand-written values outside its
// layouts (a trailing space, an extension) only check that PhoneWithExt
// still agrees. PhoneWithExt must equal phoneSlow
// throughout.
func TestPhoneE164Agrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	perExample := 60
	if testing.Short() || raceEnabled {
		perExample = 6
	}
	fast, invalid, prefixed := 0, 0, 0
	check := func(s string, strict bool) {
		t.Helper()
		want, wantExt, wantErr := phoneSlow(s, "US")
		got, ok := phoneE164(s)
		switch {
		case ok && (got != want || wantExt != "" || wantErr != nil):
			t.Errorf("%q: phoneE164 %q, phonenumbers %q %q %v", s, got, want, wantExt, wantErr)
		case ok:
			fast++
		case wantErr != nil:
			invalid++
		case e164PrefixFallback(s):
			prefixed++
		case strict:
			t.Errorf("%q: phoneE164 declined a number phonenumbers gives as %q", s, want)
		}
		g, gExt, gErr := PhoneWithExt(s, "US")
		if g != want || gExt != wantExt || fmt.Sprint(gErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q: PhoneWithExt %q %q %v, phonenumbers %q %q %v", s, g, gExt, gErr, want, wantExt, wantErr)
		}
	}
	examples := e164Examples()
	if len(examples) < 1000 {
		t.Fatalf("only %d example numbers", len(examples))
	}
	digit := func() byte { return byte('0' + rng.IntN(10)) }
	for _, e := range examples {
		check(e, true)
		for range perExample { // the last one to four digits varied
			b := []byte(e)
			for i := len(b) - 1 - rng.IntN(4); i < len(b); i++ {
				b[i] = digit()
			}
			check(e164Layout(rng, string(b)), true)
		}
		for _, k := range []int{-2, -1, 1, 2} { // one or two digits fewer or more
			s := e
			if k < 0 {
				s = s[:len(s)+k]
			}
			for range k {
				s += string(digit())
			}
			check(e164Layout(rng, s), true)
		}
	}
	for range 40 * perExample { // random digit strings
		var b strings.Builder
		b.WriteString("+")
		for range 1 + rng.IntN(19) {
			b.WriteByte(digit())
		}
		check(b.String(), true)
	}
	for _, s := range []string{"+", "+4", "+44", "+442", "+4420", "+44 20 7946 0958 ", "+44 20 7946 0958)", "+44 20 7946 0958 x12",
		"+44 20 7946 0958#", "+44 (0) 20 7946 0958", "+44 020 7946 0958", "+39 06 1234 5678", "+39 0000 000", "+0 123 4567",
		"+800 1234 5678", "+882 1234 5678", "+7 912 345 67 89", "+54 9 11 1234 5678", "+52 1 55 1234 5678"} {
		check(s, false) // some are outside the fast path's layouts on purpose
	}
	t.Logf("%d fast, %d refused by phonenumbers, %d left to it for a national prefix", fast, invalid, prefixed)
	if fast < len(examples) {
		t.Errorf("the fast path answered only %d times", fast)
	}
}

// e164PrefixFallback reports whether phoneE164 declines s because the
// national prefix for parsing of its country matches the national number.
func e164PrefixFallback(s string) bool {
	var d []byte
	for i := 1; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	cc := 0
	for i := 0; i < 3 && i < len(d)-2; i++ {
		cc = cc*10 + int(d[i]-'0')
		if c := e164CountryFor(cc); c != nil {
			return c.natPrefix != nil && c.natPrefix.Match(d[i+1:])
		}
	}
	return false
}

// FuzzPhoneE164: whenever the fast path answers, phonenumbers agrees.
func FuzzPhoneE164(f *testing.F) {
	for _, s := range []string{"+44 20 7946 0958", "+4930123456", "+39 06 1234 5678", "+1 (617) 555-0142", "+800 1234 5678", "+44 20 7946 0958 x12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := phoneE164(s)
		if !ok {
			return
		}
		want, ext, err := phoneSlow(strings.TrimSpace(s), "US")
		if got != want || ext != "" || err != nil {
			t.Errorf("%q: phoneE164 %q, phonenumbers %q %q %v", s, got, want, ext, err)
		}
	})
}
