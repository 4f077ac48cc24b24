package mapping

import (
	"github.com/convirza-sync/convirza-sync/sync/state"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

func TestCleanCell(t *testing.T) {
	id, text := &groupFields[gExtID], &groupFields[gName]
	tests := []struct {
		f     *fieldInfo
		in    string
		val   string
		null  bool
		fault bool
	}{
		{text, "  Acme  ", "Acme", false, false},
		{text, "NULL", "", true, false},
		{text, "null", "", true, false},
		{text, "N/A", "", true, false},
		{text, "#n/a", "", true, false},
		{text, " - ", "", true, false},
		{text, "NA", "NA", false, false},
		{text, "None", "None", false, false},
		{text, "--", "--", false, false},
		{text, "#REF!", "", false, true},
		{text, "#DIV/0!", "", false, true},
		{text, "#hashtag", "#hashtag", false, false},
		{text, "'t Hooft", "'t Hooft", false, false}, // names keep the apostrophe
		{id, "'02134", "02134", false, false},
		{id, "'", "", false, false},
		{id, "1.23457E+11", "", false, true},
		{id, "5e9", "", false, true},
		{id, "-1.5e-3", "", false, true},
		{text, "1.23457E+11", "1.23457E+11", false, false}, // only ids are checked
		{id, "E+11", "E+11", false, false},
		{id, "12E", "12E", false, false},
		{id, "1.2.3E4", "1.2.3E4", false, false},
	}
	for _, tt := range tests {
		val, null, fault := cleanCell(tt.f, tt.in)
		if val != tt.val || null != tt.null || (fault != "") != tt.fault {
			t.Errorf("cleanCell(%s, %q) = %q, %v, %q", tt.f.name, tt.in, val, null, fault)
		}
	}
}

func TestSalesforceIDs(t *testing.T) {
	tests := map[string]string{
		"001Hs00000CoRp1IAF": "001Hs00000CoRp1",    // valid checksum: its 15-character key
		"001Hs00000CoRp1AAA": "001Hs00000CoRp1AAA", // wrong checksum: not a Salesforce id
		"001Hs00000CoRp1":    "001Hs00000CoRp1",
		"5100000001":         "5100000001",
		"001Hs00000CoRp1-AF": "001Hs00000CoRp1-AF",
	}
	for in, want := range tests {
		if got := idKey(in); got != want {
			t.Errorf("idKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	good := []string{"ann@example.com", "ann.lee+crm@mail.example.co.uk", "o'neil@example.com", "jörg@exämple.de", "x@xn--p1ai.xn--p1ai"}
	bad := []string{"", "ann", "ann@", "@example.com", "ann@@example.com", "ann lee@example.com", "Ann <ann@example.com>",
		"ann@example", "ann@example.c0m", "ann@-example.com", "ann@example..com", ".ann@example.com", "ann.@example.com",
		"a,b@example.com", "ann@exa_mple.com"}
	for _, s := range good {
		if !validEmail(s) {
			t.Errorf("validEmail(%q) = false", s)
		}
	}
	for _, s := range bad {
		if validEmail(s) {
			t.Errorf("validEmail(%q) = true", s)
		}
	}
}

// validEmailRunes is validEmail spelled rune by rune, as it was before
// the byte table: the oracle TestValidEmailAgrees and FuzzValidEmail hold
// the table to.
func validEmailRunes(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if r <= ' ' || strings.ContainsRune("\"(),:;<>[\\]", r) || r == 0x7f {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	for _, r := range tld {
		if r >= '0' && r <= '9' || r == '-' {
			return len(tld) > 4 && strings.HasPrefix(tld, "xn--")
		}
	}
	return len(tld) >= 2
}

// emailSeeds are addresses at the edges of every rule of validEmail.
var emailSeeds = []string{
	"ann@example.com", "ann.lee+crm@mail.example.co.uk", "o'neil@example.com", "jörg@exämple.de", "x@xn--p1ai.xn--p1ai",
	"", "@", "a@", "@b.cd", "a@b", "a@b.c", "a@b.cd", "a@b..cd", "a@.b.cd", "a@b.cd.", "a..b@c.de", ".a@c.de", "a.@c.de",
	"a@b-.cd", "a@-b.cd", "a@b.c-d", "a@b.c1", "a@b.xn--1", "a@b.xn--12", "a@b@c.de", "a b@c.de", "a\tb@c.de", "a\x7fb@c.de",
	"\"a\"@c.de", "a(b)@c.de", "a[b]@c.de", "a\\b@c.de", "a;b@c.de", "a<b>@c.de", "a:b@c.de", "a_b@c_d.ef", "a@b_c.de",
	"\xff@b.cd", "a@\xc3.de", "é@é.éé", "a@b.é", strings.Repeat("a", 64) + "@b.cd", strings.Repeat("a", 65) + "@b.cd",
	"a@" + strings.Repeat("b", 63) + ".cd", "a@" + strings.Repeat("b", 64) + ".cd", "a@" + strings.Repeat("b.", 126) + "cd",
	"ANN@EXAMPLE.COM", "a@1.2.3.4", "a@b.c\u00e9", "a\u00a0b@c.de", "a@b\u2028.de",
}

func TestValidEmailAgrees(t *testing.T) {
	for _, s := range emailSeeds {
		for _, v := range []string{s, s + "x", "x" + s, strings.ToUpper(s), strings.ReplaceAll(s, ".", "-")} {
			if got, want := validEmail(v), validEmailRunes(v); got != want {
				t.Errorf("validEmail(%q) = %v, the rune-by-rune check says %v", v, got, want)
			}
		}
	}
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validEmail(s), validEmailRunes(s); got != want {
			t.Errorf("validEmail(%q) = %v, the rune-by-rune check says %v", s, got, want)
		}
	})
}

func TestHeaderMatching(t *testing.T) {
	if headerKey("\ufeff  Account   ID ") != headerKey("account id") {
		t.Error("headerKey")
	}
	if headerKey("Account_ID") == headerKey("Account ID") {
		t.Error("punctuation must not match")
	}
}

func TestLineCounter(t *testing.T) {
	lc := &lineCounter{r: stringsReader("a\nbb\n\nccc\n")}
	buf := make([]byte, 3)
	for {
		if _, err := lc.Read(buf); err != nil {
			break
		}
	}
	got := []int{lc.lineAt(0), lc.lineAt(1), lc.lineAt(2), lc.lineAt(5), lc.lineAt(6), lc.lineAt(10)}
	if diff := cmp.Diff([]int{1, 1, 2, 3, 4, 5}, got); diff != "" {
		t.Error(diff)
	}
}

func TestKeyIndex(t *testing.T) {
	var keys []string
	for i := 0; i < 5000; i++ {
		keys = append(keys, "K"+strconv.Itoa(i%3700)) // 1300 duplicates
	}
	idx := newKeyIndex(len(keys), func(i int32) string { return keys[i] })
	first := map[string]int32{}
	for i, k := range keys {
		if _, seen := first[k]; !seen {
			first[k] = int32(i)
		}
	}
	dups := 0
	buf, scratch := make([]state.KeyHash, len(keys)), make([]state.KeyHash, len(keys))
	idx.build(len(keys), buf, scratch, func(i, j int32) {
		dups++
		if f := first[keys[i]]; j != f || i == f {
			t.Fatalf("dup(%d, %d) for %q: the first row with it is %d", i, j, keys[i], f)
		}
	})
	if dups != len(keys)-len(first) {
		t.Errorf("%d duplicates, want %d", dups, len(keys)-len(first))
	}
	for k, f := range first {
		if j, ok := idx.lookup(k); !ok || j != f {
			t.Fatalf("lookup(%q) = %d, %v; want %d", k, j, ok, f)
		}
	}
	if _, ok := idx.lookup("K3700"); ok {
		t.Error("lookup of a missing key")
	}
	var nilIdx *keyIndex
	if _, ok := nilIdx.lookup("x"); ok {
		t.Error("nil index")
	}
}

// TestFoldASCII: the sibling check's fast fold agrees with normalize.Key
// wherever it takes a name, and leaves the others to it.
func TestFoldASCII(t *testing.T) {
	for _, name := range []string{"Boston", "BOSTON east", "a b", "Café", " Boston", "Boston ", "a  b", "a\tb", "x", "Group 12 (renamed)", strings.Repeat("A", 300)} {
		var buf [256]byte
		n, ok := foldASCII(name, buf[:])
		wantOK := name == normalize.Text(name) && len(name) <= len(buf) && strings.IndexFunc(name, func(r rune) bool { return r >= 0x80 || r < ' ' }) < 0
		if ok != wantOK {
			t.Errorf("foldASCII(%q): ok %v, want %v", name, ok, wantOK)
		}
		if ok && string(buf[:n]) != normalize.Key(name) {
			t.Errorf("foldASCII(%q) = %q, normalize.Key says %q", name, buf[:n], normalize.Key(name))
		}
	}
}
