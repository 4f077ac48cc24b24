package normalize

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The rules of equality: the one place that says whether two values of a
// field are the same. The loader writes values in the forms they define;
// the planner compares Convirza's values with the export's by them, and the
// stale check compares a plan's before-values with Convirza's values now by
// them too, so that "unchanged" means one thing everywhere. Each rule
// first checks plain equality, which is what a steady state hits.

// TextEqual compares names, addresses and cities: whitespace collapsed,
// case kept (a change of case is a rename).
func TextEqual(a, b string) bool { return a == b || Text(a) == Text(b) }

// StateEqual compares states as USPS codes when both read as a US state
// ("Massachusetts", "Mass.", "MA"), and as text otherwise.
func StateEqual(a, b string) bool {
	if a == b {
		return true
	}
	if ca, ok := stateMemo(a); ok {
		if cb, ok := stateMemo(b); ok {
			return ca == cb
		}
	}
	return Text(a) == Text(b)
}

// ZipEqual compares ZIP codes as US ZIPs when both read as one ("2134" and
// "02134"), and as text otherwise (a postcode of another country).
func ZipEqual(a, b string) bool {
	if a == b || Text(a) == Text(b) {
		return true
	}
	za, _, errA := Zip(a)
	zb, _, errB := Zip(b)
	return errA == nil && errB == nil && za == zb
}

// PhoneEqual compares two phone numbers as E.164. A number written with
// its country code says its region, and the other number, when written
// without one, is read in that region; otherwise both are read in region
// ("" is US). When either does not parse, they compare as text.
func PhoneEqual(a, b, region string) bool {
	if a == b || sameDialString(a, b) {
		return true
	}
	region = normRegion(region)
	ra, rb := region, region
	if r := regionOf(a); r != "" {
		rb = r
	}
	if r := regionOf(b); r != "" {
		ra = r
	}
	na, errA := Phone(a, ra)
	nb, errB := Phone(b, rb)
	if errA != nil || errB != nil {
		return Text(a) == Text(b)
	}
	return na == nb
}

// regionOf is the main region of the country code a number written with
// one ("+44 …") carries; "" for a number without one.
//
// The country code is read from the first one to three digits after the
// "+", skipping separators: ITU country codes are prefix-free, so the first
// that names a region is the one phonenumbers would read. A full parse took
// 8 µs, and every group whose phone Convirza writes in another form than the
// export (national against E.164) compares through here. Any other
// character leaves it to phonenumbers (regionOfParsed). Where the two could
// differ, the number is not one phonenumbers parses at all, and PhoneEqual
// then compares text whatever the region: TestRegionOfAgrees and
// FuzzRegionOf hold it to that.
func regionOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s[0] != '+' {
		return ""
	}
	cc, digits := 0, 0
	for i := 1; i < len(s) && digits < 3; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 0 && c == '0' {
				return "" // no country code starts with 0
			}
			cc, digits = cc*10+int(c-'0'), digits+1
			switch r := phonenumbers.GetRegionCodeForCountryCode(cc); r {
			case "ZZ":
			case "001":
				return "" // a non-geographic code: no region
			default:
				return r
			}
		case isDialSep(c):
		default:
			return regionOfParsed(s)
		}
	}
	return ""
}

// regionOfParsed is regionOf by a full parse.
func regionOfParsed(s string) string {
	n, err := phonenumbers.Parse(s, "ZZ")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	if r == "ZZ" || r == "001" {
		return ""
	}
	return r
}

// PhoneValue is the number to send for an export's phone: E.164 when it
// parses in region, its text otherwise.
func PhoneValue(s, region string) string {
	if e, err := Phone(s, region); err == nil {
		return e
	}
	return Text(s)
}

// sameDialString reports whether two numbers that both start with "+" hold
// the same digits once separators are dropped ("+1-212-555-0100" and
// "+12125550100"): the same E.164 number, without a parse.
func sameDialString(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if len(a) < 2 || len(b) < 2 || a[0] != '+' || b[0] != '+' {
		return false
	}
	i, j := 1, 1
	for {
		for i < len(a) && isDialSep(a[i]) {
			i++
		}
		for j < len(b) && isDialSep(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] < '0' || a[i] > '9' || a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}

func isDialSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}

// EmailEqual compares emails (and usernames) ignoring case and
// surrounding whitespace.
func EmailEqual(a, b string) bool { return a == b || Key(a) == Key(b) }

// EmailKey is the key a user is matched by when users match by email.
func EmailKey(s string) string { return Key(s) }

// UserExtIDKey is the key a user is matched by when users match by
// user_ext_id: an ext id's key (ExtIDKey), as for groups.
func UserExtIDKey(s string) string { return ExtIDKey(s) }

// UserExtIDEqual compares user ext ids by UserExtIDKey.
func UserExtIDEqual(a, b string) bool { return a == b || UserExtIDKey(a) == UserExtIDKey(b) }

// ExtIDEqual compares group ext ids by ExtIDKey.
func ExtIDEqual(a, b string) bool { return a == b || ExtIDKey(a) == ExtIDKey(b) }

// IDEqual compares Convirza ids written as decimal text; "" and "0" are
// both no id. Text that is not an id equals only itself.
func IDEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := parseID(a)
	y, errB := parseID(b)
	return errA == nil && errB == nil && x == y
}

func parseID(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// RoleEqual compares roles in any of the API's spellings; a role that
// does not read as one equals only itself.
func RoleEqual(a, b string) bool {
	if a == b {
		return true
	}
	ra, okA := state.ParseRole(a)
	rb, okB := state.ParseRole(b)
	return okA && okB && ra == rb
}

// StatusEqual compares user statuses ignoring case; "" is active.
func StatusEqual(a, b string) bool {
	return a == b || strings.EqualFold(orActive(a), orActive(b))
}

func orActive(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return string(state.StatusActive)
	}
	return s
}

// stateMemo is State, remembered for the first thousand spellings: an
// export spells a few dozen states a hundred thousand times.
func stateMemo(s string) (string, bool) {
	if len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' {
		return State(s) // no allocation
	}
	if v, ok := stateCache.Load(s); ok {
		code := v.(string)
		return code, code != ""
	}
	code, ok := State(s)
	if stateCacheN.Load() < 1024 {
		if _, loaded := stateCache.LoadOrStore(s, code); !loaded {
			stateCacheN.Add(1)
		}
	}
	return code, ok
}

var (
	stateCache  sync.Map // spelling -> USPS code, "" when not a state
	stateCacheN atomic.Int64
)
