package main

import (
	"context"
	"fmt"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// rateGoal is the share of the client's rate that apply must use with the
// default (automatic) concurrency.
const rateGoal = 0.95

func (b *bench) rate(ctx context.Context) (*section, error) {
	s := &section{Name: "rate"}
	n := b.cfg.rateWrites
	creates := n / 4 / 10 * 10
	s.note("%s writes per run: %s updates (a new city for every existing group) and %s creates (%d new groups under the root with 9 children each, so a child waits for its parent); planned from a CSV export, applied with a client at --rate %g and a bucket of 1 (no initial credit to flatter the figure); the sandbox's latency is set after the fetch.",
		thousands(n), thousands(n-creates), thousands(creates), creates/10, b.cfg.rate)
	s.note("achieved rate = writes / (first write's arrival to last write's answer), from the sandbox's call log; even a perfect run is below the rate by one latency over the whole span. With a bucket of 1 a token that no request is waiting for is lost, so the figure is a floor; the sandbox, the client and whatever else runs on the machine share its CPUs.")
	for _, lat := range b.cfg.rateLatencies {
		for _, conc := range []int{0, b.cfg.rateFixed} {
			if err := ctx.Err(); err != nil {
				return s, err
			}
			mode := "auto"
			if conc > 0 {
				mode = fmt.Sprintf("--concurrency %d", conc)
			}
			name := fmt.Sprintf("latency %s, %s", lat, mode)
			b.logf("rate: %s", name)
			r, err := b.rateRun(ctx, lat, conc, creates)
			if err != nil {
				return s, fmt.Errorf("%s: %w", name, err)
			}
			got := r.rate / b.cfg.rate
			rw := row{
				Case:      name,
				Measured:  fmt.Sprintf("%.1f writes/s", r.rate),
				Reference: fmt.Sprintf("%g/s", b.cfg.rate),
				Ratio:     pct(r.rate, b.cfg.rate),
				Goal:      "-",
			}
			if conc == 0 {
				rw.Goal = fmt.Sprintf(">= %.0f%%", 100*rateGoal)
				rw.Verdict = judge(got >= rateGoal && r.failed == 0)
			}
			s.add(rw)
			cc := r.conc
			if conc == 0 {
				s.note("%s: %d writes in %s, %d failed; concurrency limit %d at the end (range %d..%d), max in flight %d, p95 latency %s over %d samples.",
					name, r.writes, r.span.Round(time.Millisecond), r.failed, cc.Limit, cc.MinLimit, cc.MaxLimit, cc.MaxInFlight,
					cc.LatencyP95.Round(100*time.Microsecond), cc.Samples)
			} else {
				s.note("%s: %d writes in %s, %d failed, max in flight %d.", name, r.writes, r.span.Round(time.Millisecond), r.failed, cc.MaxInFlight)
			}
			switch {
			case conc > 0:
				s.note("%s: Little's law caps %d requests in flight at %d / %s = %.0f/s, before the client's own overhead.",
					name, conc, conc, lat, float64(conc)/lat.Seconds())
			case got < rateGoal:
				s.note("%s MISSED: %.1f%% of the rate; ideal for %d writes is %.1f%% (one latency over the span).",
					name, 100*got, r.writes, 100*float64(r.writes)/(float64(r.writes-1)/b.cfg.rate+lat.Seconds())/b.cfg.rate)
			}
		}
	}
	return s, nil
}

type rateResult struct {
	writes, failed int
	span           time.Duration
	rate           float64
	conc           apply.Concurrency
}

func (b *bench) rateRun(ctx context.Context, latency time.Duration, concurrency, creates int) (*rateResult, error) {
	updates := b.cfg.rateWrites - creates
	top := max(updates/10, 1)
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{top, updates - top}})
	srv, err := startSandbox(st, 0)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	fast, err := newClient(srv, writesRate, writesRate)
	if err != nil {
		return nil, err
	}
	ex := exportOf(srv.Snapshot())
	for i := range ex.groups {
		ex.groups[i].city = "Rate City"
	}
	for f := range creates / 10 {
		parent := fmt.Sprintf("NEW-%04d", f)
		ex.groups = append(ex.groups, newGroupRow(parent, fmt.Sprintf("New Region %04d", f), ""))
		for c := range 9 {
			ex.groups = append(ex.groups, newGroupRow(fmt.Sprintf("%s-%d", parent, c), fmt.Sprintf("New Office %04d-%d", f, c), parent))
		}
	}
	ds, err := ex.desired(false)
	if err != nil {
		return nil, err
	}
	p, err := fetchAndPlan(ctx, fast, ds)
	if err != nil {
		return nil, err
	}
	if len(p.Changes) != b.cfg.rateWrites {
		return nil, fmt.Errorf("the plan holds %d changes, want %d", len(p.Changes), b.cfg.rateWrites)
	}
	c, err := newClient(srv, b.cfg.rate, 1)
	if err != nil {
		return nil, err
	}
	srv.SetLatency(latency)
	srv.ResetCalls()
	res, err := apply.Apply(ctx, p, apply.ClientRemote(c), apply.Options{Concurrency: concurrency, Rate: b.cfg.rate})
	if err != nil {
		return nil, fmt.Errorf("apply the plan: %w", err)
	}
	r := &rateResult{conc: res.Concurrency}
	for _, x := range res.Results {
		if !x.Outcome.Done() {
			r.failed++
		}
	}
	ws := srv.Writes()
	r.writes = len(ws)
	if r.writes == 0 {
		return nil, fmt.Errorf("apply made no write")
	}
	first, last := ws[0].Time, ws[0].Time.Add(ws[0].Duration)
	for _, w := range ws {
		first = minTime(first, w.Time)
		last = maxTime(last, w.Time.Add(w.Duration))
	}
	r.span = last.Sub(first)
	r.rate = float64(r.writes) / r.span.Seconds()
	return r, nil
}

func newGroupRow(ext, name, parent string) groupRow {
	return groupRow{ext: ext, name: name, parent: parent, address: "1 New Street", city: "Boston",
		st: "MA", zip: "02110", phone: "+16175550123", industry: 3}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
