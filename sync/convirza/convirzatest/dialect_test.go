package convirzatest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestDeleteCascade: with DeleteSemantics cascade, a group delete
// soft-deletes the group, its direct child groups and every user of those
// groups, whatever their status; grandchildren and their users stay; only
// the top group (and the caller's own) is refused.
func TestDeleteCascade(t *testing.T) {
	srv, c := setup(t, Options{DeleteSemantics: DeleteCascade})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	boston := c.createGroup(east, "Boston", nil)
	back := c.createGroup(boston, "Back Bay", nil)
	west := c.createGroup(top, "West", nil)
	users := map[string]int64{
		"east@acme.example":   c.createUser(east, "east@acme.example", nil),
		"idle@acme.example":   c.createUser(east, "idle@acme.example", map[string]any{"user_status": "inactive"}),
		"boston@acme.example": c.createUser(boston, "boston@acme.example", nil),
		"back@acme.example":   c.createUser(back, "back@acme.example", nil),
		"west@acme.example":   c.createUser(west, "west@acme.example", nil),
	}
	del := func(id int64) *resp { return c.do(http.MethodDelete, path("/v3/groups/%d", id), nil) }

	del(east).must(t, 200, nil) // nothing refuses it
	del(top).must(t, 400, nil)
	del(east).must(t, 404, nil)

	groups := map[string]state.Status{}
	for name, id := range map[string]int64{"East": east, "Boston": boston, "Back Bay": back, "West": west} {
		g, _ := srv.Group(id)
		groups[name] = g.Status
	}
	wantGroups := map[string]state.Status{"East": state.StatusDeleted, "Boston": state.StatusDeleted, "Back Bay": state.StatusActive, "West": state.StatusActive}
	if diff := cmp.Diff(wantGroups, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	got := map[string]state.Status{}
	for _, u := range srv.Snapshot().Users {
		if _, ok := users[u.Email]; ok {
			got[u.Email] = u.Status
		}
	}
	want := map[string]state.Status{
		"east@acme.example": state.StatusDeleted, "idle@acme.example": state.StatusDeleted, "boston@acme.example": state.StatusDeleted,
		"back@acme.example": state.StatusActive, "west@acme.example": state.StatusActive,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	// A deleted user's email is free again.
	c.createUser(west, "east@acme.example", nil)

	if _, err := ParseDeleteSemantics("cascade"); err != nil {
		t.Error(err)
	}
	if d, err := ParseDeleteSemantics(""); err != nil || d != DeleteRefuse {
		t.Errorf(`ParseDeleteSemantics("") = %q, %v`, d, err)
	}
	if _, err := ParseDeleteSemantics("cascde"); err == nil {
		t.Error("an unknown delete semantics was accepted")
	}
}

// TestIndustryCannotBeCleared: the API documents industry_id as an id of
// the industry list and no way to unset it, so the sandbox refuses every
// spelling of a clear, and accepts an id of the list.
func TestIndustryCannotBeCleared(t *testing.T) {
	srv, c := setup(t, Options{})
	gid := c.createGroup(srv.TopGroupID(), "East", map[string]any{"industry_id": 3})
	for _, body := range []string{`{"industry_id":0}`, `{"industry_id":""}`, `{"industry_id":null}`} {
		r := c.do(http.MethodPatch, path("/v3/groups/%d", gid), body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("PATCH %s: status %d, want 400", body, r.Status)
		}
	}
	c.do(http.MethodPatch, path("/v3/groups/%d", gid), `{"industry_id":7}`).must(t, 200, nil)
	if g, _ := srv.Group(gid); g.IndustryID != 7 {
		t.Errorf("industry_id = %d, want 7", g.IndustryID)
	}
}
