package main

import (
	"context"
	"fmt"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// readsRate is the client's rate in the reads section: high, so that the
// section measures calls, not the pace.
const readsRate = 100_000

// minimumReads is the fewest calls a full read of st can take, worked out
// from the sandbox's own data: the tree, plus ⌈children/200⌉ for every
// parent with live children, plus ⌈users/200⌉ (one page when there are
// none: it is the page that says so).
func minimumReads(st convirzatest.State) int {
	kids := map[int64]int{}
	for _, g := range st.Groups {
		if g.Status != state.StatusDeleted && g.ParentID != 0 {
			kids[g.ParentID]++
		}
	}
	users := 0
	for _, u := range st.Users {
		if u.Status != state.StatusDeleted {
			users++
		}
	}
	n := 1 + max((users+convirza.PageSize-1)/convirza.PageSize, 1)
	for _, k := range kids {
		n += (k + convirza.PageSize - 1) / convirza.PageSize
	}
	return n
}

func (b *bench) reads(ctx context.Context) (*section, error) {
	s := &section{Name: "reads"}
	s.note("FetchState with a static token and the root left to the tree, at %d requests/s (calls, not pace, are measured); the industry list is not read, as the CLI skips it when the export gives industry ids.", readsRate)
	s.note("reference: 1 tree + Σ⌈children/200⌉ over parents with children + ⌈users/200⌉, counted from the sandbox's data, plus the one probe of List Groups (absent in the sandbox); measured: FetchStats.Calls, and the sandbox's call log beside it (they must agree).")
	for _, tree := range b.cfg.readTrees {
		for _, users := range b.cfg.readUsers {
			if err := ctx.Err(); err != nil {
				return s, err
			}
			groups := sum(tree)
			name := fmt.Sprintf("%s groups %v, %s users", size(groups), tree, size(users))
			b.logf("reads: %s", name)
			st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: tree, Users: users})
			want := minimumReads(st)
			calls, logged, fs, err := fetchOnce(ctx, st)
			if err != nil {
				return s, fmt.Errorf("%s: %w", name, err)
			}
			if fs.Groups != groups+1 || fs.Users != users {
				return s, fmt.Errorf("%s: read %d groups and %d users, want %d and %d", name, fs.Groups, fs.Users, groups+1, users)
			}
			// The sandbox has no List Groups: the client asks it once, and
			// the minimum counts that probe.
			want += fs.ProbeCalls
			s.add(row{
				Case:      name,
				Measured:  fmt.Sprintf("%s calls (log %s)", thousands(calls), thousands(logged)),
				Reference: thousands(want) + " minimum",
				Ratio:     ratio(float64(calls), float64(want)),
				Goal:      "= minimum",
				Verdict:   judge(calls == want && logged == want),
			})
			s.note("%s: tree %d + group pages %d over %d parents + user pages %d + root %d + List Groups probe %d; the client's own formula says %d; %s.",
				name, fs.TreeCalls, fs.GroupListCalls, fs.ParentsWithChildren, fs.UserListCalls, fs.RootCalls, fs.ProbeCalls, fs.Formula,
				fs.Duration.Round(time.Millisecond))
			if calls != want || logged != want {
				s.note("%s MISSED: %d calls by the client, %d in the sandbox's log, against a minimum of %d.", name, calls, logged, want)
			}
		}
	}
	return s, nil
}

// fetchOnce serves st and reads it once with FetchState, returning the
// calls the client counted and the /v3 calls the sandbox logged.
func fetchOnce(ctx context.Context, st convirzatest.State) (calls, logged int, fs convirza.FetchStats, err error) {
	srv, err := startSandbox(st, 0)
	if err != nil {
		return 0, 0, fs, err
	}
	defer srv.Close()
	c, err := newClient(srv, readsRate, readsRate)
	if err != nil {
		return 0, 0, fs, err
	}
	srv.ResetCalls()
	_, fs, err = c.FetchState(ctx, convirza.FetchOptions{})
	if err != nil {
		return 0, 0, fs, fmt.Errorf("fetch the state: %w", err)
	}
	return fs.Calls, len(v3Calls(srv)), fs, nil
}
