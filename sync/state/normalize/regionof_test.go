package normalize

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkRegionOf holds regionOf to a full parse: where phonenumbers reads
// the number, the same region; where it does not, no region can change
// what PhoneEqual says, because the number then parses in none.
func checkRegionOf(t *testing.T, s string) {
	t.Helper()
	got := regionOf(s)
	want := ""
	if ts := strings.TrimSpace(s); ts != "" && ts[0] == '+' {
		want = regionOfParsed(ts)
	}
	switch {
	case got == want:
	case want != "":
		t.Errorf("regionOf(%q) = %q, phonenumbers reads %q", s, got, want)
	default:
		for _, r := range []string{"US", "GB", "DE", got} {
			if e, err := Phone(s, r); err == nil {
				t.Errorf("regionOf(%q) = %q where phonenumbers reads no country code, yet it parses in %s as %q", s, got, r, e)
			}
		}
	}
}

// TestRegionOfAgrees: every region's example numbers, in several layouts,
// cut short and lengthened, with letters and odd characters, agree.
func TestRegionOfAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	variants := 8
	if testing.Short() || raceEnabled {
		variants = 2
	}
	examples := e164Examples()
	for _, e := range examples {
		checkRegionOf(t, e)
		for range variants {
			s := e164Layout(rng, e)
			checkRegionOf(t, s)
			checkRegionOf(t, s[:1+rng.IntN(len(s)-1)])           // cut short
			checkRegionOf(t, s+strings.Repeat("9", rng.IntN(8))) // too long
		}
	}
	for _, s := range []string{"", "+", "+ ", "+0", "+01 234", "+1", "+1 ", "+ 44 20 7946 0958", "+(44) 20 7946 0958",
		"+800 1234 5678", "+882 1234 5678", "+999 123", "+44abc", "+1 800 FLOWERS", "+４４ 20 7946 0958", "++44 20",
		"+44-", "  +33 1 23 45 67 89  ", "+7 495 123-45-67", "+1 (617) 555-0100 x12", "+44 20 7946 0958 ext. 7"} {
		checkRegionOf(t, s)
	}
}

func FuzzRegionOf(f *testing.F) {
	for _, s := range []string{"+44 20 7946 0958", "+1 (617) 555-0100", "+800 1234 5678", "+0", "+1 800 FLOWERS", "+ 49 30 123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			t.Skip()
		}
		checkRegionOf(t, s)
	})
}
