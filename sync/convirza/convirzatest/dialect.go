package convirzatest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Dialect picks one reading of each point that Convirza's documentation
// leaves open ([assumed]) or contradicts ([doc, contradicts]), so that the
// client and `convirza-sync doctor` are tested against every reading. The
// zero value is the reading the project codes against. Two more readings
// are response shapes and live in Shapes: the tree form (Shapes.NestedTree)
// and GET /groups/{id} wrapped or bare (Shapes.WrappedGroupDetail). What
// a delete does to a group that still holds children or users is a dialect
// point too and belongs beside these fields.
type Dialect struct {
	// MaxPageSize caps the rows of one page of every listing (groups/list,
	// users/list and List Groups): a limit up to 200 is still accepted, and
	// a larger one refused, but a page holds at most MaxPageSize rows and
	// total still counts every match. 0 means 200, the documented maximum.
	MaxPageSize int
	// Roles is how listings, user details and the profile spell a role:
	// RoleNames (the zero value: "Admin", "Standard User", "Read-Only
	// User"), RoleShort ("Admin", "Standard", "ReadOnly", as the create
	// example sends them) or RoleIDs (the numbers 1, 2, 3). Writes accept
	// role and role_id in every case.
	Roles RoleSpelling
	// ExpiresInSeconds answers expires_in and refresh_expires_in as a
	// number of seconds (the usual OAuth reading) instead of an ISO-8601
	// time (what the docs say).
	ExpiresInSeconds bool
	// ListGroups serves "List Groups" as GET /v3/groups?limit=&offset=: one
	// page of every group of the caller's hierarchy (its own group
	// included, deleted ones hidden), sorted by id, as {"groups": [...],
	// "total": N}. Its real path and shape are not public; without it the
	// path answers 405 to a GET, as it does in the reading the project
	// assumes.
	ListGroups bool
}

// RoleSpelling is how the sandbox spells roles in what it answers.
type RoleSpelling string

// The role spellings of Dialect.Roles.
const (
	RoleNames RoleSpelling = ""      // "Admin", "Standard User", "Read-Only User"
	RoleShort RoleSpelling = "short" // "Admin", "Standard", "ReadOnly"
	RoleIDs   RoleSpelling = "ids"   // 1, 2, 3
)

// ParseRoleSpelling reads a Dialect.Roles value as the sandbox command's
// --roles flag spells it: names, short or ids.
func ParseRoleSpelling(s string) (RoleSpelling, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "names":
		return RoleNames, nil
	case "short":
		return RoleShort, nil
	case "ids":
		return RoleIDs, nil
	}
	return "", fmt.Errorf("role spelling %q: want names, short or ids", s)
}

// spell is role r as this dialect answers it.
func (d Dialect) spell(r state.Role) any {
	switch d.Roles {
	case RoleShort:
		return r.APIName()
	case RoleIDs:
		return r.ID()
	}
	return RoleDisplayName(r)
}

// pageCap is the rows one page holds when limit were asked.
func (d Dialect) pageCap(limit int) int {
	if d.MaxPageSize > 0 && d.MaxPageSize < limit {
		return d.MaxPageSize
	}
	return limit
}

// SetDialect switches the dialect.
func (s *Sandbox) SetDialect(d Dialect) {
	s.cfgMu.Lock()
	s.opts.Dialect = d
	s.cfgMu.Unlock()
}

func (s *Sandbox) dialect() Dialect {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.opts.Dialect
}

// profile is what GET /v3/auth/profile answers: the authenticated user.
type profile struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Role      any    `json:"role"`
	RoleID    int    `json:"role_id"`
	OrgUnitID int64  `json:"org_unit_id"`
	Status    string `json:"status"`
}

// profileLocked is GET /v3/auth/profile. The synthetic admin of a static
// token or an unknown email has no user record: it is an active Admin.
func (s *Sandbox) profileLocked(c *caller) *reply {
	p := profile{UserID: c.sess.userID, Email: c.sess.email, OrgUnitID: c.scope(), Status: string(state.StatusActive)}
	role := state.RoleAdmin
	if u := s.users[c.sess.userID]; u != nil {
		role = u.Role
		p.Email, p.FirstName, p.LastName, p.Status = u.Email, u.FirstName, u.LastName, string(u.Status)
	}
	if p.Email == "" {
		p.Email = "sandbox-admin@sandbox.example"
	}
	p.Role, p.RoleID = c.dialect.spell(role), role.ID()
	return ok(p)
}

// listAllGroupsLocked is "List Groups" (Dialect.ListGroups): a page of every
// non-deleted group of the caller's hierarchy, its own group included,
// sorted by id.
func (s *Sandbox) listAllGroupsLocked(c *caller, q url.Values) *reply {
	limit, offset, err := paging(q)
	if err != nil {
		return errReply(err)
	}
	limit = c.dialect.pageCap(limit)
	ids := s.subtreeLocked(c.scope(), func(g *Group) bool { return g.Status != state.StatusDeleted })
	slices.Sort(ids)
	out := make([]wireGroup, 0, min(limit, len(ids)))
	for _, id := range page(ids, limit, offset) {
		out = append(out, s.wireGroupLocked(s.groups[id], c.shapes))
	}
	return ok(map[string]any{"groups": out, "total": len(ids)})
}

// routeDialectLocked answers the routes that only some dialects have, and
// GET /v3/auth/profile; handled is false for every other route.
func (s *Sandbox) routeDialectLocked(c *caller, r *http.Request, p string) (rep *reply, handled bool) {
	switch {
	case p == "/v3/auth/profile":
		if r.Method != http.MethodGet {
			return methodNotAllowed(r.Method, http.MethodGet), true
		}
		return s.profileLocked(c), true
	case p == "/v3/groups" && r.Method == http.MethodGet && c.dialect.ListGroups:
		return s.listAllGroupsLocked(c, r.URL.Query()), true
	}
	return nil, false
}
