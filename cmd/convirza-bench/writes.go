package main

import (
	"context"
	"fmt"

	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// writesRate is the client's rate in the writes section: high, so that the
// section measures writes, not the pace.
const writesRate = 10_000

func (b *bench) writes(ctx context.Context) (*section, error) {
	s := &section{Name: "writes"}
	groups := sum(b.cfg.writeTree)
	s.note("account: %s groups %v and %s users; the export is written from the sandbox's own state as CSV, then each drifted row gets one change (groups: city, address, phone, name or parent; users: first name, last name, role or group), loaded through mapping.Load, fetched, planned (upsert) and applied.",
		thousands(groups), b.cfg.writeTree, thousands(b.cfg.writeUsers))
	s.note("reference: the rows the bench changed, counted as it changed them (not by the planner); measured: the write calls in the sandbox's log during apply.")
	for i, share := range b.cfg.writeDrifts {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		name := "no-op"
		if share > 0 {
			name = fmt.Sprintf("%g%% drift", 100*share)
		}
		b.logf("writes: %s", name)
		r, err := b.writeRun(ctx, share, uint64(i+1))
		if err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		ok := r.writes == r.want && r.failed == 0 && r.converged
		s.add(row{
			Case:      fmt.Sprintf("%s (%s groups + %s users changed)", name, thousands(r.d.groups), thousands(r.d.users)),
			Measured:  thousands(r.writes) + " writes",
			Reference: thousands(r.want) + " differences",
			Ratio:     ratio(float64(r.writes), float64(r.want)),
			Goal:      "= differences",
			Verdict:   judge(ok),
		})
		s.note("%s: %d changes planned, %d writes counted by apply, %d failed; after apply a fresh plan is empty: %t.",
			name, r.changes, r.applyWrites, r.failed, r.converged)
		if !ok {
			s.note("%s MISSED: %d writes for %d differences (%d failed, converged %t).", name, r.writes, r.want, r.failed, r.converged)
		}
	}
	return s, nil
}

type writeResult struct {
	d                             drift
	want, writes, changes, failed int
	applyWrites                   int
	converged                     bool
}

func (b *bench) writeRun(ctx context.Context, share float64, seed uint64) (*writeResult, error) {
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: b.cfg.writeTree, Users: b.cfg.writeUsers})
	srv, err := startSandbox(st, 0)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	c, err := newClient(srv, writesRate, writesRate)
	if err != nil {
		return nil, err
	}
	ex := exportOf(srv.Snapshot())
	r := &writeResult{d: ex.drift(share, seed)}
	r.want = r.d.rows()
	ds, err := ex.desired(true)
	if err != nil {
		return nil, err
	}
	p, err := fetchAndPlan(ctx, c, ds)
	if err != nil {
		return nil, err
	}
	r.changes = len(p.Changes)
	srv.ResetCalls()
	res, err := apply.Apply(ctx, p, apply.ClientRemote(c), apply.Options{Rate: writesRate})
	if err != nil {
		return nil, fmt.Errorf("apply the plan: %w", err)
	}
	r.writes = len(srv.Writes())
	r.applyWrites = res.Writes
	for _, x := range res.Results {
		if !x.Outcome.Done() {
			r.failed++
		}
	}
	again, err := fetchAndPlan(ctx, c, ds)
	if err != nil {
		return nil, err
	}
	r.converged = again.Empty()
	return r, nil
}

// fetchAndPlan reads the current state and plans the export against it,
// as `convirza-sync plan` does.
func fetchAndPlan(ctx context.Context, c *convirza.Client, ds *state.DesiredState) (*plan.Plan, error) {
	cur, _, err := c.FetchState(ctx, convirza.FetchOptions{})
	if err != nil {
		return nil, fmt.Errorf("fetch the state: %w", err)
	}
	return planApplicable(ds, cur)
}

// planApplicable plans ds against cur (upsert) and refuses a plan that
// could not be applied as a whole: every figure assumes it can.
func planApplicable(ds *state.DesiredState, cur *state.CurrentState) (*plan.Plan, error) {
	p, err := plan.Calculate(ds, cur, plan.Options{Policy: plan.PolicyUpsert})
	if err != nil {
		return nil, fmt.Errorf("calculate the plan: %w", err)
	}
	if len(p.Invalid) > 0 {
		return nil, fmt.Errorf("the plan found %d invalid rows, the first: %s", len(p.Invalid), p.Invalid[0].Error())
	}
	if p.Blocked() {
		return nil, fmt.Errorf("a safety gate blocks the plan: %+v", p.Gates)
	}
	return p, nil
}
