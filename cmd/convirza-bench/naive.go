package main

import (
	"context"
	"fmt"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

func (b *bench) naive(ctx context.Context) (*section, error) {
	s := &section{Name: "naive"}
	cfg := b.cfg
	groups := sum(cfg.naiveTree)
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: cfg.naiveTree})
	ex := exportOf(st)
	d := ex.drift(cfg.naiveShare, 5)
	ds, err := ex.desired(false)
	if err != nil {
		return nil, err
	}
	s.note("account: %s groups %v, no users; the same export (%s of %s rows changed: city, address, phone, name or parent) applied to two copies of it; sandbox latency %s on every call, client --rate %g with a bucket of 1, so latency, not the rate, sets the pace.",
		thousands(groups), cfg.naiveTree, thousands(d.groups), thousands(groups), cfg.naiveLatency, cfg.naiveRate)
	s.note("naive: for each row in export order, GET /groups/{id} then PATCH /groups/{id} with every writable field (name, ext id, parent, address, city, state, zip, phone, industry); it is handed every Convirza id for free (no look-up calls), which flatters it.")
	s.note("convirza-sync: FetchState + Calculate (upsert) + Apply with the automatic concurrency. Calls are counted in each sandbox's log.")

	b.logf("naive: the sequential GET + full PATCH loop over %s rows", thousands(groups))
	nv, err := b.naiveRun(ctx, st, ds)
	if err != nil {
		return nil, err
	}
	b.logf("naive: convirza-sync fetch + plan + apply")
	sy, err := b.syncRun(ctx, st, ds)
	if err != nil {
		return nil, err
	}
	same := sameGroups(nv.end, sy.end)

	unchanged := float64(groups-d.groups) / float64(groups)
	s.add(row{
		Case:      fmt.Sprintf("calls, %s rows, %.0f%% unchanged", thousands(groups), 100*unchanged),
		Measured:  thousands(sy.calls) + " calls",
		Reference: thousands(nv.calls) + " naive",
		Ratio:     ratio(float64(sy.calls), float64(nv.calls)),
		Goal:      fmt.Sprintf("<= %.2fx (1 - unchanged share)", 1-unchanged),
		Verdict:   judge(float64(sy.calls) <= (1-unchanged)*float64(nv.calls)),
	})
	s.add(row{
		Case:      "writes",
		Measured:  thousands(sy.writes) + " writes",
		Reference: thousands(nv.writes) + " naive",
		Ratio:     ratio(float64(sy.writes), float64(nv.writes)),
		Goal:      fmt.Sprintf("= %s changed rows", thousands(d.groups)),
		Verdict:   judge(sy.writes == d.groups),
	})
	endState := "differs"
	if same {
		endState = "equal"
	}
	s.add(row{
		Case:      "end state (every group's name, parent, status and fields)",
		Measured:  endState,
		Reference: "naive loop's end state",
		Ratio:     "-",
		Goal:      "equal, no failure",
		Verdict:   judge(same && sy.failed == 0 && nv.failed == 0),
	})
	s.add(row{
		Case:      fmt.Sprintf("wall time at %s latency", cfg.naiveLatency),
		Measured:  dur(sy.wall),
		Reference: dur(nv.wall) + " naive",
		Ratio:     ratio(seconds(sy.wall), seconds(nv.wall)),
		Goal:      "-",
	})
	s.note("convirza-sync's calls: %s reads (%s) + %s writes. The reads are mostly Σ⌈children/200⌉ over the parents, so a bushier tree (more parents with few children each) costs more reads; the writes are exactly the changed rows.",
		thousands(sy.reads), sy.fetch, thousands(sy.writes))
	s.note("naive errors %d, convirza-sync failed changes %d.", nv.failed, sy.failed)
	if float64(sy.calls) > (1-unchanged)*float64(nv.calls) {
		s.note("calls MISSED: %s reads + %s writes exceed %.0f%% of the naive loop's %s calls.", thousands(sy.reads), thousands(sy.writes), 100*(1-unchanged), thousands(nv.calls))
	}
	return s, nil
}

type naiveResult struct {
	calls, reads, writes, failed int
	wall                         time.Duration
	end                          convirzatest.State
	// fetch breaks the reads down.
	fetch string
}

// naiveRun is the loop a script would be: for each row, read the group,
// then send every field.
func (b *bench) naiveRun(ctx context.Context, st convirzatest.State, ds *state.DesiredState) (*naiveResult, error) {
	srv, err := startSandbox(st, b.cfg.naiveLatency)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	c, err := newClient(srv, b.cfg.naiveRate, 1)
	if err != nil {
		return nil, err
	}
	idOf := map[string]int64{}
	for _, g := range st.Groups {
		idOf[g.ExtID] = g.ID
	}
	r := &naiveResult{}
	start := time.Now()
	for _, dg := range ds.Groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id := idOf[dg.ExtID]
		if _, _, err := c.Groups.Get(ctx, id); err != nil {
			r.failed++
			continue
		}
		parent := st.TopGroupID
		if dg.ParentExtID != "" {
			parent = idOf[dg.ParentExtID]
		}
		name, ext := dg.Name, dg.ExtID
		body := convirza.GroupPatch{
			Name: &name, ExtID: &ext, ParentID: &parent, Address: dg.Address, City: dg.City,
			State: dg.State, Zip: dg.Zip, Phone: dg.Phone, IndustryID: dg.IndustryID,
		}
		if _, err := c.Groups.Patch(ctx, id, body); err != nil {
			r.failed++
		}
	}
	r.wall = time.Since(start)
	r.calls = len(v3Calls(srv))
	r.writes = len(srv.Writes())
	r.end = srv.Snapshot()
	return r, nil
}

// syncRun is convirza-sync's way: read everything in few calls, plan, and
// write only the differences.
func (b *bench) syncRun(ctx context.Context, st convirzatest.State, ds *state.DesiredState) (*naiveResult, error) {
	srv, err := startSandbox(st, b.cfg.naiveLatency)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	c, err := newClient(srv, b.cfg.naiveRate, 1)
	if err != nil {
		return nil, err
	}
	r := &naiveResult{}
	start := time.Now()
	cur, fs, err := c.FetchState(ctx, convirza.FetchOptions{})
	if err != nil {
		return nil, fmt.Errorf("fetch the state: %w", err)
	}
	p, err := planApplicable(ds, cur)
	if err != nil {
		return nil, err
	}
	res, err := apply.Apply(ctx, p, apply.ClientRemote(c), apply.Options{Rate: b.cfg.naiveRate})
	if err != nil {
		return nil, fmt.Errorf("apply the plan: %w", err)
	}
	r.wall = time.Since(start)
	for _, x := range res.Results {
		if !x.Outcome.Done() {
			r.failed++
		}
	}
	r.calls = len(v3Calls(srv))
	r.writes = len(srv.Writes())
	r.reads = r.calls - r.writes
	r.fetch = fmt.Sprintf("tree %d + group pages %d over %d parents + user pages %d + root %d",
		fs.TreeCalls, fs.GroupListCalls, fs.ParentsWithChildren, fs.UserListCalls, fs.RootCalls)
	r.end = srv.Snapshot()
	return r, nil
}

// sameGroups reports whether two accounts hold the same groups, by ext
// id: name, parent, status and every field the export carries.
func sameGroups(a, b convirzatest.State) bool {
	type view struct {
		name, parent, address, city, st, zip, phone string
		status                                      state.Status
		industry                                    int64
	}
	views := func(s convirzatest.State) map[string]view {
		ext := map[int64]string{}
		for _, g := range s.Groups {
			ext[g.ID] = g.ExtID
		}
		m := map[string]view{}
		for _, g := range s.Groups {
			m[g.ExtID] = view{g.Name, ext[g.ParentID], g.Address, g.City, g.State, g.Zip, g.Phone, g.Status, g.IndustryID}
		}
		return m
	}
	va, vb := views(a), views(b)
	if len(va) != len(vb) {
		return false
	}
	for k, v := range va {
		if vb[k] != v {
			return false
		}
	}
	return true
}
