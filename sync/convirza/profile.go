package convirza

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Profile is the authenticated user as GET /auth/profile describes it.
type Profile struct {
	UserID    int64
	Email     string
	OrgUnitID int64
	// Role is the canonical role ("" when the answer named none that
	// state.ParseRole or a role_id reads); RoleText is the role as sent.
	Role     state.Role
	RoleText string
	Status   state.Status
}

type profileJSON struct {
	UserID    flexInt    `json:"user_id"`
	AltID     flexInt    `json:"ct_user_id"`
	Email     flexString `json:"email"`
	Username  flexString `json:"username"`
	OrgUnitID flexInt    `json:"org_unit_id"`
	AltOrg    flexInt    `json:"ct_user_ou_id"`
	Role      flexString `json:"role"`
	RoleID    flexInt    `json:"role_id"`
	Status    flexString `json:"status"`
}

// Profile reads the authenticated user (GET /auth/profile, under the API
// base), whether the data is the profile or holds it under "user" or
// "profile".
func (c *Client) Profile(ctx context.Context) (*Profile, *Response, error) {
	resp, data, err := c.do(ctx, apiRequest{method: http.MethodGet, path: "auth/profile", needData: true})
	if err != nil {
		return nil, resp, err
	}
	data = unwrapObject(unwrapObject(data, "user"), "profile")
	var raw profileJSON
	if err := decodeData(resp, data, &raw); err != nil {
		return nil, resp, err
	}
	p := &Profile{UserID: int64(raw.UserID), Email: string(raw.Email), OrgUnitID: int64(raw.OrgUnitID),
		RoleText: string(raw.Role), Status: parseStatus(string(raw.Status))}
	if p.UserID == 0 {
		p.UserID = int64(raw.AltID)
	}
	if p.Email == "" {
		p.Email = string(raw.Username)
	}
	if p.OrgUnitID == 0 {
		p.OrgUnitID = int64(raw.AltOrg)
	}
	if r, ok := state.ParseRole(p.RoleText); ok {
		p.Role = r
	} else if r, ok := state.RoleFromID(int(raw.RoleID)); ok {
		p.Role = r
	}
	if p.RoleText == "" && raw.RoleID != 0 {
		p.RoleText = fmt.Sprint(int(raw.RoleID))
	}
	return p, resp, nil
}

// ListAll lists one page of "List Groups": every group of the caller's
// hierarchy (GET /groups?limit=&offset=). Its path and shape are not public:
// this is the project's assumption, that it answers like List Child Groups
// ({"groups": [...], "total": N}) over the whole hierarchy. FetchState uses
// it only once an answer proved that reading (see FetchState).
func (s *GroupsService) ListAll(ctx context.Context, opts *ListOptions) ([]state.Group, *Response, error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	q := url.Values{}
	return s.listPage(ctx, "groups", q, opts.Offset, opts.apply(q))
}
