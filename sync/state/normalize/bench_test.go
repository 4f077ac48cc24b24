package normalize

import (
	"fmt"
	"testing"
)

// phoneInputs are common North American layouts of a few hundred numbers.
func phoneInputs() []string {
	layouts := []string{"(%s) %s-%s", "%s.%s.%s", "%s-%s-%s", "%s%s%s", "+1 %s %s %s", "+1-%s-%s-%s", "1 (%s) %s-%s"}
	areas := []string{"617", "212", "415", "312", "713", "305", "206", "404", "303", "602"}
	var out []string
	for i := range 700 {
		out = append(out, fmt.Sprintf(layouts[i%len(layouts)], areas[i%len(areas)], fmt.Sprint(200+i%800), fmt.Sprintf("%04d", i*37%10000)))
	}
	return out
}

// BenchmarkPhoneFast is PhoneWithExt on common layouts, memo warm.
func BenchmarkPhoneFast(b *testing.B) {
	in := phoneInputs()
	for _, s := range in {
		if _, _, err := PhoneWithExt(s, "US"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := PhoneWithExt(in[i%len(in)], "US"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPhoneSlow is phonenumbers Parse + IsValidNumber + Format on the
// same values: what PhoneWithExt would cost without its fast path.
func BenchmarkPhoneSlow(b *testing.B) {
	in := phoneInputs()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := phoneSlow(in[i%len(in)], "US"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPhoneColdPrefix is the fast path when every value has a
// six-digit prefix not seen before: what a cold prefix costs (its bit of
// the table).
func BenchmarkPhoneColdPrefix(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := nanpTableDigits(i % 800000)
		nanpValid(&d)
		i += 7919
	}
}
