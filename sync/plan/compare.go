package plan

import (
	"strconv"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// sameValue says whether two values of a request field are the same: the
// one map from a field to its rule of equality, all of which live in
// normalize. The planner's diffs and the stale check both ask it, so a
// field the planner leaves alone is a field the stale check calls
// unchanged. region is the phone region (Plan.PhoneRegion).
func sameValue(field, a, b, region string) bool {
	switch field {
	case FieldState:
		return normalize.StateEqual(a, b)
	case FieldZip:
		return normalize.ZipEqual(a, b)
	case FieldPhone:
		return normalize.PhoneEqual(a, b, region)
	case FieldParent, FieldIndustryID, FieldUserGroup:
		return normalize.IDEqual(a, b)
	case FieldExtID:
		return normalize.ExtIDEqual(a, b)
	case FieldUsername:
		return normalize.EmailEqual(a, b)
	case FieldUserExtID:
		return normalize.UserExtIDEqual(a, b)
	case FieldRole:
		return normalize.RoleEqual(a, b)
	case FieldUserStatus:
		return normalize.StatusEqual(a, b)
	}
	// FieldName, FieldAddress, FieldCity, FieldFirstName, FieldLastName
	return normalize.TextEqual(a, b)
}

// same is sameValue in the plan's phone region.
func (p *planner) same(field, cur, want string) bool { return sameValue(field, cur, want, p.region) }

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
	if r == p.lastRole.in && p.lastRole.set { // most users share one spelling
		return p.lastRole.out
	}
	c, ok := p.roleMemo[r]
	if !ok {
		if p.roleMemo == nil {
			p.roleMemo = map[state.Role]state.Role{}
		}
		c = canonRole(r)
		p.roleMemo[r] = c
	}
	p.lastRole.in, p.lastRole.out, p.lastRole.set = r, c, true
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
