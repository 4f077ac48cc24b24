package normalize

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// nationalExample is a number as its region writes it.
type nationalExample struct{ region, text string }

// nationalExamples are every region's example numbers of every type,
// formatted as the region writes them nationally.
func nationalExamples() []nationalExample {
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var out []nationalExample
	for _, r := range regions {
		add := func(n *phonenumbers.PhoneNumber) {
			if n != nil {
				out = append(out, nationalExample{r, phonenumbers.Format(n, phonenumbers.NATIONAL)})
			}
		}
		add(phonenumbers.GetExampleNumber(r))
		for t := phonenumbers.FIXED_LINE; t <= phonenumbers.VOICEMAIL; t++ {
			add(phonenumbers.GetExampleNumberForType(r, t))
		}
	}
	return out
}

// checkNational compares phoneNational with phoneSlow for s in region.
// It returns whether the fast path answered.
func checkNational(t *testing.T, s, region string) bool {
	t.Helper()
	got, ok := phoneNational(s, region)
	want, ext, err := phoneSlow(s, region)
	if ok && (got != want || ext != "" || err != nil) {
		t.Errorf("%s %q: phoneNational %q, phonenumbers %q %q %v", region, s, got, want, ext, err)
	}
	g, gExt, gErr := PhoneWithExt(s, region)
	if g != want || gExt != ext || (gErr == nil) != (err == nil) {
		t.Errorf("%s %q: PhoneWithExt %q %q %v, phonenumbers %q %q %v", region, s, g, gExt, gErr, want, ext, err)
	}
	return ok
}

// TestPhoneNationalAgrees: every region's example numbers of every type,
// as the region writes them, and variants of each (other last digits, the
// national prefix dropped or doubled, other separators, cut short and
// lengthened, the country code or "00" put in front), read the same by the
// fast path and by phonenumbers; and the fast path answers for most.
func TestPhoneNationalAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	variants := 12
	if testing.Short() || raceEnabled {
		variants = 2
	}
	examples := nationalExamples()
	if len(examples) < 1500 {
		t.Fatalf("only %d example numbers", len(examples))
	}
	fast, total := 0, 0
	for _, e := range examples {
		total++
		if checkNational(t, e.text, e.region) {
			fast++
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, e.text)
		if len(digits) < 2 {
			continue
		}
		for range variants {
			b := []byte(digits)
			for i := len(b) - 1 - rng.IntN(min(4, len(b))); i < len(b); i++ {
				b[i] = byte('0' + rng.IntN(10))
			}
			d := string(b)
			for _, v := range []string{
				d,
				e164Layout(rng, "+"+d)[1:],
				d[1:],
				"0" + d,
				d[:1+rng.IntN(len(d)-1)],
				d + strings.Repeat("5", 1+rng.IntN(4)),
				"00" + d,
				"(" + d[:min(3, len(d))] + ") " + d[min(3, len(d)):],
			} {
				if v != "" {
					checkNational(t, v, e.region)
				}
			}
		}
	}
	if fast*10 < total*8 {
		t.Errorf("the fast path answered %d of %d examples: want most", fast, total)
	}
	t.Logf("fast path: %d of %d examples", fast, total)
}

func FuzzPhoneNational(f *testing.F) {
	regions := []string{"GB", "DE", "FR", "IT", "ES", "NL", "AU", "BR", "IN", "JP", "MX", "AR", "CA", "RU", "CN", "ZA", "SE", "CH"}
	for i, s := range []string{"020 7946 0958", "030 123456", "01 23 45 67 89", "06 1234 5678", "912 34 56 78", "(416) 555-0100"} {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, r uint8) {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > 40 {
			t.Skip() // an empty value is "" and no error, by definition
		}
		checkNational(t, s, regions[int(r)%len(regions)])
	})
}
