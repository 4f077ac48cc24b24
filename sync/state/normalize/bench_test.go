package normalize

import (
	"fmt"
	"testing"

	"github.com/nyaruka/phonenumbers"
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

// e164Inputs are numbers of twelve countries outside North America,
// written "+CC NSN": each country's example number with its last four
// digits varied, the valid ones kept.
func e164Inputs(b *testing.B) []string {
	var out []string
	for _, r := range []string{"GB", "DE", "FR", "ES", "IT", "AU", "MX", "BR", "IN", "JP", "NL", "SE"} {
		n := phonenumbers.GetExampleNumber(r)
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		for i := range 60 {
			s := fmt.Sprintf("+%d %s%04d", n.GetCountryCode(), nsn[:len(nsn)-4], i*173%10000)
			if _, _, err := phoneSlow(s, "US"); err == nil {
				out = append(out, s)
			}
		}
	}
	if len(out) < 500 {
		b.Fatalf("only %d valid inputs", len(out))
	}
	return out
}

// BenchmarkPhoneE164 is PhoneWithExt on numbers given with a country code
// outside North America (its phoneE164 path), warm.
func BenchmarkPhoneE164(b *testing.B) {
	in := e164Inputs(b)
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

// BenchmarkPhoneE164Slow is phonenumbers alone on the same values: what
// PhoneWithExt costs them without phoneE164.
func BenchmarkPhoneE164Slow(b *testing.B) {
	in := e164Inputs(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := phoneSlow(in[i%len(in)], "US"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPhoneEqualForms compares one number as Convirza may hold it
// (national) and as the export gives it (E.164): every group compares so
// when the two write their numbers differently.
func BenchmarkPhoneEqualForms(b *testing.B) {
	for _, c := range []struct{ name, a, b, region string }{
		{"US", "(617) 555-0100", "+16175550100", "US"},
		{"GB", "020 7946 0958", "+44 20 7946 0958", "GB"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !PhoneEqual(c.a, c.b, c.region) {
					b.Fatal("differ")
				}
			}
		})
	}
}

// nationalInputs are valid numbers of 12 regions outside North America as
// each writes them nationally, with the region to read them in.
func nationalInputs(b *testing.B) []nationalExample {
	keep := map[string]bool{"GB": true, "DE": true, "FR": true, "IT": true, "ES": true, "NL": true, "AU": true, "BR": true, "IN": true, "JP": true, "MX": true, "ZA": true}
	var in []nationalExample
	for _, e := range nationalExamples() {
		if keep[e.region] {
			if _, _, err := phoneSlow(e.text, e.region); err == nil {
				in = append(in, e)
			}
		}
	}
	if len(in) < 50 {
		b.Fatalf("only %d national examples", len(in))
	}
	return in
}

// BenchmarkPhoneNational is PhoneWithExt on numbers written nationally in
// their region (its phoneNational path where it answers), warm; ...Slow is
// phonenumbers alone on the same values.
func BenchmarkPhoneNational(b *testing.B) {
	in := nationalInputs(b)
	for _, slow := range []bool{false, true} {
		name := "fast"
		if slow {
			name = "phonenumbers"
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				e := in[i%len(in)]
				var err error
				if slow {
					_, _, err = phoneSlow(e.text, e.region)
				} else {
					_, _, err = PhoneWithExt(e.text, e.region)
				}
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
