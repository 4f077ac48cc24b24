package normalize

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"
)

func TestPhone(t *testing.T) {
	tests := []struct {
		in, region string
		want, ext  string
		bad        bool
	}{
		{in: "(617) 555-0142", want: "+16175550142"},
		{in: "617.555.0142", want: "+16175550142"},
		{in: "617-555-0142", want: "+16175550142"},
		{in: "6175550142", want: "+16175550142"},
		{in: "+1 617 555 0142", want: "+16175550142"},
		{in: "+1-617-555-0142", want: "+16175550142"},
		{in: "1 (617) 555-0142", want: "+16175550142"},
		{in: "  617 555 0142  ", want: "+16175550142"},
		{in: "617-555-0142 x123", want: "+16175550142", ext: "123"},
		{in: "(617) 555-0142 ext. 9", want: "+16175550142", ext: "9"},
		{in: "+44 20 7946 0958", want: "+442079460958"},
		{in: "020 7946 0958", region: "GB", want: "+442079460958"},
		{in: "020 7946 0958", region: "gb", want: "+442079460958"},
		{in: "+1 617 555 0142", region: "GB", want: "+16175550142"},
		{in: "(416) 555-0142", region: "CA", want: "+14165550142"},
		{in: "", want: ""},
		{in: "555-0142", bad: true},             // seven digits: no area code
		{in: "(123) 555-0142", bad: true},       // area code starts with 1
		{in: "(999) 555-0142", bad: true},       // unassigned area code
		{in: "(617) 055-0142", bad: true},       // exchange starts with 0
		{in: "617555014", bad: true},            // nine digits
		{in: "not a phone", bad: true},          //
		{in: "6.17555E+09", bad: true},          // Excel damage
		{in: "+1 617 555 0142 0142", bad: true}, // too long
		{in: "020 7946 0958", bad: true},        // a UK number read as US
	}
	for _, tt := range tests {
		got, ext, err := PhoneWithExt(tt.in, tt.region)
		if tt.bad {
			if !errors.Is(err, ErrPhone) {
				t.Errorf("PhoneWithExt(%q, %q) = %q, %v; want ErrPhone", tt.in, tt.region, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || ext != tt.ext {
			t.Errorf("PhoneWithExt(%q, %q) = %q, %q, %v; want %q, %q", tt.in, tt.region, got, ext, err, tt.want, tt.ext)
		}
		if p, err := Phone(tt.in, tt.region); p != tt.want || err != nil {
			t.Errorf("Phone(%q, %q) = %q, %v", tt.in, tt.region, p, err)
		}
	}
	if !PhoneEqual("(617) 555-0142", "+1-617-555-0142", "") || PhoneEqual("617-555-0142", "617-555-0143", "") {
		t.Error("PhoneEqual")
	}
}

// layouts are the fast path's templates, and a few it must refuse; %s
// takes the area code, the exchange and the line.
var layouts = []string{
	"(%s) %s-%s", "(%s)%s-%s", "(%s) %s %s", "(%s) %s.%s", "(%s)-%s-%s", "(%s).%s.%s", "(%s)%s%s",
	"%s.%s.%s", "%s-%s-%s", "%s %s %s", "%s%s%s", "%s %s-%s", "%s-%s %s", "%s%s-%s", "%s-%s%s",
	"+1 %s %s %s", "+1-%s-%s-%s", "+1.%s.%s.%s", "+1%s%s%s", "+1 (%s) %s-%s", "+1(%s)%s-%s", "+1-(%s)-%s-%s",
	"1 (%s) %s-%s", "1(%s)%s-%s", "1-%s-%s-%s", "1.%s.%s.%s", "1 %s %s %s", "1%s%s%s", "1 %s-%s-%s",
	// refused by the fast path: they go to phonenumbers.
	"+1  %s %s %s", "(%s)  %s-%s", "%s/%s/%s", "%s - %s - %s", "+1 1 %s %s %s", "11%s%s%s",
	"(%s %s-%s", "%s) %s-%s", "+%s%s%s", "1--%s-%s-%s", "%s-%s-%s x12", "tel:%s%s%s",
	"%s-%s-%s-", "%s--%s-%s",
}

// TestPhoneFastAgrees runs generated numbers in every layout through the
// fast path and through phonenumbers alone: results and errors must agree,
// including for area codes and exchanges that are not valid (0xx, 1xx,
// N11, unassigned), which the fast path must leave to phonenumbers.
func TestPhoneFastAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 4000
	if testing.Short() || raceEnabled { // phonenumbers is 15x slower under -race
		n = 600
	}
	fast, slow := 0, 0
	check := func(s, region string) {
		t.Helper()
		got, gotExt, gotErr := PhoneWithExt(s, region)
		want, wantExt, wantErr := phoneSlow(strings.TrimSpace(s), normRegion(region))
		if got != want || gotExt != wantExt || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q (%s): fast path %q %q %v, phonenumbers %q %q %v", s, region, got, gotExt, gotErr, want, wantExt, wantErr)
		}
		if _, ok := phoneFast(strings.TrimSpace(s)); ok {
			fast++
		} else {
			slow++
		}
	}
	three := func() string {
		switch rng.IntN(6) {
		case 0: // any, including 0xx and 1xx
			return fmt.Sprintf("%03d", rng.IntN(1000))
		case 1: // N11
			return fmt.Sprintf("%d11", 2+rng.IntN(8))
		case 2:
			return []string{"617", "212", "415", "800", "900", "416", "787", "268", "555", "999", "274", "472"}[rng.IntN(12)]
		default:
			return fmt.Sprintf("%d%02d", 2+rng.IntN(8), rng.IntN(100))
		}
	}
	for range n {
		layout := layouts[rng.IntN(len(layouts))]
		s := fmt.Sprintf(layout, three(), three(), fmt.Sprintf("%04d", rng.IntN(10000)))
		region := "US"
		switch rng.IntN(10) {
		case 0:
			region = ""
		case 1:
			region = "GB"
		case 2:
			region = "CA"
		}
		check(s, region)
	}
	for _, s := range []string{"+1", "1", "(", "+", "1(", "+1(617)", "(617)", "12345678901", "+1 617 555 014", "+1 617 555 01422"} {
		check(s, "US")
	}
	if fast < n/4 || slow < n/10 {
		t.Errorf("the generator is lopsided: %d fast, %d slow", fast, slow)
	}
}

// TestNANPValidityDigits proves the fast path's cache sound: for a
// ten-digit national number of country code 1, every pattern that
// phonenumbers.IsValidNumber consults (each NANP region's leading digits,
// and its general, fixed-line, mobile, toll-free, premium, shared-cost,
// VoIP, personal, pager, UAN and voicemail patterns) matches either all
// numbers with a given six-digit prefix or none of them, except under the
// area codes of nanpSevenDigitAreas, where seven digits decide. It runs the
// patterns' own NFAs, as compiled by regexp/syntax, over every digit
// sequence (merging equal state sets), so it holds for the metadata that is
// linked in, not for a copy: a phonenumbers upgrade that changes this fails
// here.
func TestNANPValidityDigits(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	needSeven := map[string]bool{}
	for _, md := range coll.GetMetadata() {
		if md.GetCountryCode() != 1 {
			continue
		}
		var pats []string
		if ld := md.GetLeadingDigits(); ld != "" {
			pats = append(pats, "^(?:"+ld+")[0-9]*$") // a prefix match, on digits only
		}
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(),
			md.GetTollFree(), md.GetPremiumRate(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(),
			md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			if p := d.GetNationalNumberPattern(); p != "" {
				pats = append(pats, "^(?:"+p+")$")
			}
		}
		for _, p := range pats {
			areas, err := undecidedAreas(p)
			if err != nil {
				t.Fatalf("%s: %s: %v", md.GetId(), p, err)
			}
			for _, a := range areas {
				needSeven[a] = true
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("only %d patterns checked", checked)
	}
	var got []string
	for a := range needSeven {
		got = append(got, a)
	}
	slices.Sort(got)
	var want []string
	for a := range nanpSevenDigitAreas {
		want = append(want, strconv.Itoa(a))
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("area codes where six digits do not decide validity (-nanpSevenDigitAreas +metadata):\n%s", diff)
	}
	// The checker itself must be able to say no, and yes.
	if a, _ := undecidedAreas("^(?:617\\d{2}[01]\\d{4}|[2-9]\\d{9})$"); len(a) != 0 {
		t.Errorf("a pattern decided by six digits: %v", a)
	}
	if a, _ := undecidedAreas("^(?:617\\d{3}[01]\\d{3})$"); !slices.Equal(a, []string{"617"}) {
		t.Errorf("a seventh-digit dependency under 617: %v", a)
	}
	if _, err := undecidedAreas("^(?:617\\d{4}[01]\\d{2})$"); err == nil {
		t.Error("an eighth-digit dependency went unnoticed")
	}
}

// undecidedAreas returns the three-digit starts under which membership of
// a ten-digit string in the anchored pattern is not decided by its first
// six digits. It fails when seven digits do not decide either.
func undecidedAreas(pattern string) ([]string, error) {
	const total = 10
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	closure := func(seed []uint32, pos int) ([]uint32, error) {
		seen := map[uint32]bool{}
		var out []uint32
		stack := slices.Clone(seed)
		for len(stack) > 0 {
			pc := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[pc] {
				continue
			}
			seen[pc] = true
			in := prog.Inst[pc]
			switch in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				stack = append(stack, in.Out, in.Arg)
			case syntax.InstNop, syntax.InstCapture:
				stack = append(stack, in.Out)
			case syntax.InstEmptyWidth:
				switch syntax.EmptyOp(in.Arg) {
				case syntax.EmptyBeginText, syntax.EmptyBeginLine:
					if pos == 0 {
						stack = append(stack, in.Out)
					}
				case syntax.EmptyEndText, syntax.EmptyEndLine:
					if pos == total {
						stack = append(stack, in.Out)
					}
				default:
					return nil, fmt.Errorf("unsupported empty-width op %v", in.Arg)
				}
			case syntax.InstFail:
			default: // InstRune*, InstMatch: states that wait for input or accept
				out = append(out, pc)
			}
		}
		slices.Sort(out)
		return out, nil
	}
	step := func(set []uint32, c rune, pos int) ([]uint32, error) {
		var next []uint32
		for _, pc := range set {
			in := prog.Inst[pc]
			switch in.Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				if in.MatchRune(c) {
					next = append(next, in.Out)
				}
			}
		}
		return closure(next, pos)
	}
	key := func(set []uint32) string { return fmt.Sprint(set) }
	accepts := func(set []uint32) bool {
		for _, pc := range set {
			if prog.Inst[pc].Op == syntax.InstMatch {
				return true
			}
		}
		return false
	}
	// walk returns the distinct state sets reached from set after k digits.
	walk := func(set []uint32, from, k int) (map[string][]uint32, error) {
		front := map[string][]uint32{key(set): set}
		for pos := from; pos < from+k; pos++ {
			next := map[string][]uint32{}
			for _, s := range front {
				for c := '0'; c <= '9'; c++ {
					n, err := step(s, c, pos+1)
					if err != nil {
						return nil, err
					}
					next[key(n)] = n
				}
			}
			front = next
		}
		return front, nil
	}
	// decided reports whether every continuation of every set in front to
	// the full length ends the same way.
	decided := func(front map[string][]uint32, from int) (bool, error) {
		for _, s := range front {
			ends, err := walk(s, from, total-from)
			if err != nil {
				return false, err
			}
			var yes, no bool
			for _, e := range ends {
				if accepts(e) {
					yes = true
				} else {
					no = true
				}
			}
			if yes && no {
				return false, nil
			}
		}
		return true, nil
	}
	start, err := closure([]uint32{uint32(prog.Start)}, 0)
	if err != nil {
		return nil, err
	}
	var out []string
	memo := map[string]bool{} // state set after the area code -> six digits decide
	for a := 200; a <= 999; a++ {
		set := start
		for i, c := range strconv.Itoa(a) {
			if set, err = step(set, c, i+1); err != nil {
				return nil, err
			}
		}
		if ok, seen := memo[key(set)]; seen {
			if !ok {
				out = append(out, strconv.Itoa(a))
			}
			continue
		}
		memo[key(set)] = true
		front6, err := walk(set, 3, 3)
		if err != nil {
			return nil, err
		}
		ok, err := decided(front6, 6)
		if err != nil || ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		front7, err := walk(set, 3, 4)
		if err != nil {
			return nil, err
		}
		if ok, err := decided(front7, 7); err != nil || !ok {
			return nil, fmt.Errorf("under %d, seven digits do not decide (err %v)", a, err)
		}
		memo[key(set)] = false
		out = append(out, strconv.Itoa(a))
	}
	return out, nil
}

func TestTextStateZip(t *testing.T) {
	texts := map[string]string{
		"Acme": "Acme", "  Acme  Corp ": "Acme Corp", "12 Main St\nSuite 4": "12 Main St Suite 4",
		"a\u00a0b": "a b", "Café Noir": "Café Noir", "": "", " ": "", "x\t y": "x y",
		"\u00a0Acme\u2003": "Acme", "a\x01b": "a\x01b", "a  b": "a b", "a b": "a b", "\r\n": "",
	}
	for in, want := range texts {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	states := []struct {
		in, want string
		ok       bool
	}{
		{"MA", "MA", true}, {"ma", "MA", true}, {"massachusetts", "MA", true}, {"MASSACHUSETTS", "MA", true},
		{"Mass.", "MA", true}, {"D.C.", "DC", true}, {"d.c.", "DC", true}, {"Washington, D.C.", "DC", true},
		{"District of Columbia", "DC", true}, {"N.Y.", "NY", true}, {" new  york ", "NY", true},
		{"Puerto Rico", "PR", true}, {"U.S. Virgin Islands", "VI", true}, {"W. Va.", "WV", true},
		{"Masachusetts", "", false}, {"XX", "", false}, {"", "", false}, {"Ontario", "", false},
	}
	for _, tt := range states {
		got, ok := State(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("State(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	zips := []struct {
		in, want string
		padded   bool
		bad      bool
	}{
		{in: "02134", want: "02134"}, {in: "2134", want: "02134", padded: true}, {in: "501", want: "00501", padded: true},
		{in: "02134-1234", want: "02134-1234"}, {in: "021341234", want: "02134-1234"}, {in: "2134-1234", want: "02134-1234", padded: true},
		{in: " 02134 ", want: "02134"}, {in: "ABCDE", bad: true}, {in: "02134-12", bad: true}, {in: "12", bad: true},
		{in: "123456", bad: true}, {in: "02134-", bad: true}, {in: "", bad: true},
	}
	for _, tt := range zips {
		got, padded, err := Zip(tt.in)
		if (err != nil) != tt.bad || got != tt.want || padded != tt.padded {
			t.Errorf("Zip(%q) = %q, %v, %v", tt.in, got, padded, err)
		}
	}
	if !ValidRegion("gb") || ValidRegion("XX") {
		t.Error("ValidRegion")
	}
}

func TestCountryRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"Narnia", ""},
		// English, codes, common spellings
		{"US", "US"}, {"USA", "US"}, {"U.S.A.", "US"}, {"United States", "US"}, {"united states of america", "US"},
		{"Canada", "CA"}, {"ca", "CA"}, {"CAN", "CA"}, {"United Kingdom", "GB"}, {"UK", "GB"}, {"GBR", "GB"},
		{"Germany", "DE"}, {"DE", "DE"}, {"DEU", "DE"}, {"Spain", "ES"}, {"ESP", "ES"}, {"Austria", "AT"}, {"AUT", "AT"},
		// the country's own language, with or without its accents
		{"Deutschland", "DE"}, {"España", "ES"}, {"Espana", "ES"}, {"Österreich", "AT"}, {"OSTERREICH", "AT"},
		{"Schweiz", "CH"}, {"Suisse", "CH"}, {"Svizzera", "CH"}, {"België", "BE"}, {"Belgique", "BE"},
		{"Nederland", "NL"}, {"México", "MX"}, {"Sverige", "SE"}, {"Polska", "PL"}, {"Italia", "IT"},
		{"Brasil", "BR"}, {"Danmark", "DK"}, {"Suomi", "FI"}, {"Norge", "NO"}, {"Éire", "IE"}, {"日本", "JP"},
	}
	for _, tt := range tests {
		got, ok := CountryRegion(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("CountryRegion(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	rows := []struct{ country, region, want string }{
		{"", "", "US"}, {"", "de", "DE"}, {"United States", "DE", "US"}, {"USA", "GB", "US"}, {"Deutschland", "US", "DE"},
	}
	for _, tt := range rows {
		if got, ok := RowRegion(tt.country, tt.region); got != tt.want || !ok {
			t.Errorf("RowRegion(%q, %q) = %q, %v; want %q", tt.country, tt.region, got, ok, tt.want)
		}
	}
	if got, ok := RowRegion("Narnia", "US"); got != "" || ok {
		t.Errorf("RowRegion(Narnia) = %q, %v; want unknown", got, ok)
	}
}

func TestValidRegion(t *testing.T) {
	if !ValidRegion("gb") || ValidRegion("XX") {
		t.Error("ValidRegion")
	}
}
