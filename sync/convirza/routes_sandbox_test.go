package convirza_test

import (
	"context"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestFetchStateRoutes is the minimal-calls proof of both routes of
// FetchState and of a capped page size: for each dialect the state read is
// the same, and the calls (counted by the client and by the sandbox's log)
// are exactly the route's minimum, worked out here from the sandbox's data,
// plus the one probe of List Groups where it is absent.
func TestFetchStateRoutes(t *testing.T) {
	spec := convirzatest.GenSpec{PerLevel: []int{3, 60, 900}, Users: 1500, InactiveEvery: 7}
	ceil := func(a, b int) int { return (a + b - 1) / b }
	tests := []struct {
		name      string
		dialect   convirzatest.Dialect
		route     string
		page      int
		probe     int
		listCalls bool
	}{
		{"tree, no List Groups", convirzatest.Dialect{}, convirza.RouteTree, 200, 1, false},
		{"List Groups", convirzatest.Dialect{ListGroups: true}, convirza.RouteListGroups, 200, 0, true},
		{"pages capped at 100", convirzatest.Dialect{MaxPageSize: 100}, convirza.RouteTree, 100, 1, false},
		{"List Groups, pages capped at 100", convirzatest.Dialect{ListGroups: true, MaxPageSize: 100}, convirza.RouteListGroups, 100, 0, true},
	}
	var first *state.CurrentState
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSandbox(t, generated(spec), convirzatest.Options{CallLogLimit: -1, Dialect: tt.dialect})
			snap := srv.Snapshot()
			c := newClient(t, srv, false)
			srv.ResetCalls()
			cs, fs, err := c.FetchState(context.Background(), convirza.FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			kids := map[int64]int{}
			live := 0
			for _, g := range snap.Groups {
				if g.Status != state.StatusDeleted {
					live++
					if g.ParentID != 0 {
						kids[g.ParentID]++
					}
				}
			}
			minimum := 1 + ceil(len(snap.Users), tt.page)
			if tt.listCalls {
				minimum += ceil(live, tt.page)
			} else {
				for _, n := range kids {
					minimum += ceil(n, tt.page)
				}
			}
			logged := len(v3Calls(srv))
			if fs.Route != tt.route || fs.PageSize != tt.page || fs.Formula != minimum ||
				fs.Calls != minimum+tt.probe || fs.ProbeCalls != tt.probe || logged != fs.Calls {
				t.Errorf("route %s, page %d, calls %d (log %d), formula %d, want %s, %d, minimum %d + probe %d: %+v",
					fs.Route, fs.PageSize, fs.Calls, logged, fs.Formula, tt.route, tt.page, minimum, tt.probe, fs)
			}
			t.Logf("%s: %d groups, %d users: %d calls (tree %d, child pages %d, List Groups pages %d, user pages %d), minimum %d",
				tt.name, fs.Groups, fs.Users, fs.Calls, fs.TreeCalls, fs.GroupListCalls, fs.ListGroupsCalls, fs.UserListCalls, minimum)
			// List Groups also gives the root's full record; compare what
			// both routes know of it.
			r := cs.Groups[0]
			cs.Groups[0] = state.Group{ID: r.ID, ExtID: r.ExtID, Name: r.Name, ParentID: r.ParentID}
			if first == nil {
				first = cs
			} else if diff := gocmp.Diff(first, cs); diff != "" {
				t.Errorf("state differs from the first dialect's (-first +this):\n%s", diff)
			}
		})
	}
}
