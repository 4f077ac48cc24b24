package plan

import (
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// The comparisons of DESIGN.md ("Comparisons"). Each one first checks plain
// equality, which is what a steady state hits, before it normalizes.

func textEqual(cur, want string) bool {
	return cur == want || normalize.Text(cur) == normalize.Text(want)
}

func stateEqual(cur, want string) bool {
	if cur == want {
		return true
	}
	if a, ok := normalize.State(cur); ok {
		if b, ok := normalize.State(want); ok {
			return a == b
		}
	}
	return normalize.Text(cur) == normalize.Text(want)
}

// stateEqual is stateEqual with the state codes remembered: an export
// spells a few dozen states a hundred thousand times.
func (p *planner) stateEqual(cur, want string) bool {
	if cur == want {
		return true
	}
	if a, ok := p.stateCode(cur); ok {
		if b, ok := p.stateCode(want); ok {
			return a == b
		}
	}
	return normalize.Text(cur) == normalize.Text(want)
}

func (p *planner) stateCode(s string) (string, bool) {
	if code, ok := p.stateMemo[s]; ok {
		return code, code != ""
	}
	code, ok := normalize.State(s)
	if len(p.stateMemo) < 1024 {
		if p.stateMemo == nil {
			p.stateMemo = map[string]string{}
		}
		p.stateMemo[s] = code
	}
	return code, ok
}

func zipEqual(cur, want string) bool {
	if cur == want || normalize.Text(cur) == normalize.Text(want) {
		return true
	}
	a, _, errA := normalize.Zip(cur)
	b, _, errB := normalize.Zip(want)
	return errA == nil && errB == nil && a == b
}

func phoneEqual(cur, want, region string) bool {
	if cur == want || sameDialString(cur, want) {
		return true
	}
	return normalize.PhoneEqual(cur, want, region)
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
		for i < len(a) && isPhoneSep(a[i]) {
			i++
		}
		for j < len(b) && isPhoneSep(b[j]) {
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

func isPhoneSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}

// phoneValue is the phone number to send: E.164 when it parses.
func phoneValue(s, region string) string {
	if e, err := normalize.Phone(s, region); err == nil {
		return e
	}
	return normalize.Text(s)
}

// nameKey folds a name or an email for case-insensitive matching. It is
// normalize.Key, with a shortcut for values that are already folded.
func nameKey(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= 'A' && c <= 'Z' || c <= ' ' && (c != ' ' || i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return normalize.Key(s)
		}
	}
	return s
}

// roleRank orders roles by power, to tell a demotion.
func roleRank(r state.Role) int {
	switch r {
	case state.RoleAdmin:
		return 3
	case state.RoleStandard:
		return 2
	case state.RoleReadOnly:
		return 1
	}
	return 0
}

// canonRole reads a role in any spelling; "" when unknown.
func canonRole(r state.Role) state.Role {
	switch r {
	case state.RoleAdmin, state.RoleStandard, state.RoleReadOnly:
		return r
	}
	if c, ok := state.ParseRole(string(r)); ok {
		return c
	}
	return ""
}

// canonRole is canonRole, remembered: a listing spells a handful of roles
// a million times.
func (p *planner) canonRole(r state.Role) state.Role {
	switch r {
	case state.RoleAdmin, state.RoleStandard, state.RoleReadOnly:
		return r
	}
	if c, ok := p.roleMemo[r]; ok {
		return c
	}
	if p.roleMemo == nil {
		p.roleMemo = map[state.Role]state.Role{}
	}
	c := canonRole(r)
	p.roleMemo[r] = c
	return c
}

func roleAPI(r state.Role) string {
	if r == "" {
		return ""
	}
	return r.APIName()
}

func fmtID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
