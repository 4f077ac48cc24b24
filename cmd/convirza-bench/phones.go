package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

const phoneGoal = 2 * time.Microsecond

// usAreas are area codes in use in the US, the source of the prefixes of
// the cold NANP case.
var usAreas = []int{201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228, 229,
	231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309,
	310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 325, 330, 334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401,
	402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 432, 434, 435, 440, 443, 469, 478, 479,
	480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 559, 561, 562, 563,
	570, 571, 573, 574, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623,
	626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716,
	717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802,
	803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 850, 856, 858, 859, 860,
	863, 864, 865, 870, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936,
	937, 940, 941, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989}

// phones times normalize.Phone per value: NANP numbers whose six-digit
// prefixes this process has not seen (cold), and numbers of other
// countries in E.164 and as their region writes them.
func (b *bench) phones(ctx context.Context) (*section, error) {
	s := &section{Name: "phones"}
	values, prefixes := 100_000, 32_000
	if b.cfg.quick {
		values, prefixes = 5_000, 1_600
	}
	rng := rand.New(rand.NewPCG(7, 11))
	// Valid prefixes, by phonenumbers itself (not through normalize, whose
	// memo must stay cold), in a random order; each run takes its own.
	b.logf("phones: pick %d valid NANP prefixes per run", prefixes)
	var pool []int
	for _, a := range usAreas {
		for ex := 200; ex <= 999; ex++ {
			pool = append(pool, a*1000+ex)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	var valid []int
	for _, p := range pool {
		if len(valid) == runs*prefixes {
			break
		}
		nn, cc := uint64(p)*10000+1234, int32(1)
		if phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn}) {
			valid = append(valid, p)
		}
	}
	if len(valid) < runs*prefixes {
		return nil, fmt.Errorf("only %d valid NANP prefixes", len(valid))
	}
	layouts := []string{"(%03d) %03d-%04d", "%03d.%03d.%04d", "%03d-%03d-%04d", "+1 %03d %03d %04d", "1 (%03d) %03d-%04d"}
	nanp := func(run int) []string {
		out := make([]string, values)
		for i := range out {
			p := valid[run*prefixes+i%prefixes]
			out[i] = fmt.Sprintf(layouts[i%len(layouts)], p/1000, p%1000, rng.IntN(10000))
		}
		return out
	}
	// Non-NANP: E.164 numbers made from each region's example mobile and
	// fixed-line numbers, their last four digits varied.
	// The same numbers written nationally, read in their region.
	type number struct{ text, region string }
	var intl, natl []number
	for _, r := range []string{"GB", "DE", "FR", "AU", "IN", "BR", "MX", "ES", "IT", "NL", "JP", "ZA"} {
		for _, t := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			if ex := phonenumbers.GetExampleNumberForType(r, t); ex != nil {
				intl = append(intl, number{phonenumbers.Format(ex, phonenumbers.E164), "US"})
				natl = append(natl, number{phonenumbers.Format(ex, phonenumbers.NATIONAL), r})
			}
		}
	}
	varied := func(from []number) []number {
		out := make([]number, values)
		for i := range out {
			n := from[i%len(from)]
			b := []byte(n.text)
			for j, k := len(b)-1, 0; j >= 0 && k < 4; j-- { // the last four digits
				if b[j] >= '0' && b[j] <= '9' {
					b[j], k = byte('0'+rng.IntN(10)), k+1
				}
			}
			out[i] = number{string(b), n.region}
		}
		return out
	}
	timeAll := func(in []number) (float64, int) {
		bad := 0
		start := time.Now()
		for _, v := range in {
			if _, err := normalize.Phone(v.text, v.region); err != nil {
				bad++
			}
		}
		return time.Since(start).Seconds() / float64(len(in)), bad
	}
	var cold, intlT, natlT []float64
	badCold, badIntl, badNatl := 0, 0, 0
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var us []number
		for _, v := range nanp(i) {
			us = append(us, number{v, "US"})
		}
		t, bad := timeAll(us)
		cold, badCold = append(cold, t), badCold+bad
		t, bad = timeAll(varied(intl))
		intlT, badIntl = append(intlT, t), badIntl+bad
		t, bad = timeAll(varied(natl))
		natlT, badNatl = append(natlT, t), badNatl+bad
	}
	us := func(v float64) string { return fmt.Sprintf("%.2f µs", v*1e6) }
	goal := phoneGoal.Seconds()
	for _, r := range []struct {
		name string
		t    []float64
	}{
		{fmt.Sprintf("NANP, cold: %s values over %s new prefixes", size(values), size(prefixes)), cold},
		{fmt.Sprintf("non-NANP E.164: %s values, %d countries", size(values), 12), intlT},
		{fmt.Sprintf("non-NANP national, in their region: %s values, %d countries", size(values), 12), natlT},
	} {
		sp := spreadOf(r.t)
		s.add(row{Case: "phone per value, " + r.name, Measured: sp.format(us), Reference: us(goal),
			Ratio: fmt.Sprintf("%.2fx", sp.med/goal), Goal: "<= 2 µs", Verdict: judge(sp.med <= goal)})
	}
	s.note("normalize.Phone, one function, in this process; each run uses prefixes no run before it used (never seen by the process), in 5 common layouts; the non-NANP values are the regions' example numbers with the last four digits varied, in E.164 and as each region writes them (read in that region); %d and %d of %d were not valid numbers (an error costs the same path). min / median / max of %d runs, graded on the median.",
		badIntl, badNatl, runs*values, runs)
	if badCold > 0 {
		s.note("%d of the NANP values were not valid.", badCold)
	}
	return s, nil
}
