package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The goals against the raw read of the same files.
const (
	calcRatioGoal = 1.0
	loadRatioGoal = 2.0
)

// keep folds one more run of a step into what is kept of it: the shortest
// wall time, and the heap of the run that used the most.
func keep(out *usage, u usage, first bool) {
	if first {
		*out = u
		return
	}
	out.wall = min(out.wall, u.wall)
	if u.extra() > out.extra() {
		out.base, out.peak = u.base, u.peak
	}
	out.alloc = max(out.alloc, u.alloc)
	out.resident = max(out.resident, u.resident)
}

func (b *bench) planning(ctx context.Context) (*section, error) {
	s := &section{Name: "plan"}
	tree, users := b.cfg.planTree, b.cfg.planUsers
	groups := sum(tree)
	b.logf("plan: generate %s groups and %s users, write the export", thousands(groups), thousands(users))
	dir, err := os.MkdirTemp("", "convirza-bench-*")
	if err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	in, err := b.planInputs(dir)
	if err != nil {
		return nil, err
	}
	gp, up, d := in.groupsPath, in.usersPath, in.d
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var fileBytes int64
	for _, p := range []string{gp, up} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("stat the export: %w", err)
		}
		fileBytes += fi.Size()
	}

	// Each step takes turns with the raw read, so that both see the same
	// load from whatever else runs on the machine, and both are timed the
	// same way: wall time of one call, after a GC, every run. The steps run
	// in the CLI's order and with what the CLI holds then: the export is
	// loaded before Convirza's state is read (nothing else is in memory),
	// and the plan is calculated with both in memory.
	var (
		records int
		ds      *state.DesiredState
		p       *plan.Plan
	)
	// Each turn starts from what the CLI holds before the step, for the
	// raw read as for the step: the last turn's result is dropped first.
	rawRun := func(drop func()) func() (usage, error) {
		return func() (usage, error) {
			drop()
			return measure(func() error {
				var err error
				records, err = rawRead(gp, up)
				return err
			})
		}
	}
	b.logf("plan: raw encoding/csv read and mapping.Load, taking turns, %d runs", planRuns)
	ldT, err := turns(ctx, rawRun(func() { ds = nil }), func() (usage, error) {
		return measure(func() error {
			var err error
			ds, err = load(gp, up, in.rootExt)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	b.logf("plan: generate the account again and build its current state")
	cur := b.planCurrent()
	b.logf("plan: raw encoding/csv read and plan.Calculate, taking turns, %d runs", planRuns)
	calcT, err := turns(ctx, rawRun(func() { p = nil }), func() (usage, error) {
		return measure(func() error {
			var err error
			if p, err = plan.Calculate(ds, cur, plan.Options{Policy: plan.PolicyUpsert}); err != nil {
				return fmt.Errorf("calculate the plan: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	raw, ld, calc := ldT.raw, ldT.step, calcT.step
	if len(p.Invalid) > 0 || p.Blocked() {
		return nil, fmt.Errorf("the plan is not applicable: %d invalid rows, blocked %t", len(p.Invalid), p.Blocked())
	}
	changes := len(p.Changes)
	runtime.KeepAlive(cur)
	runtime.KeepAlive(p)

	s.note("account: %s groups %v and %s users, %.1f%% of the rows drifted (%s changes expected, %s planned); export files %s (%s records).",
		thousands(groups), tree, thousands(users), 100*b.cfg.planDrift, thousands(d.rows()), thousands(changes),
		mib(uint64(fileBytes)), thousands(records))
	s.note("one function each, in this process, warm (the files are in the page cache after the first run): mapping.Load and then plan.Calculate each take turns with the raw read (encoding/csv, keeping every record, as a loader must), %d times; each figure is min / median / max of the runs, and each ratio is taken run by run against the raw read of the same turn, graded on its median. As in the CLI, the export is loaded while nothing else is in memory, and the plan is calculated with the export and the current state in memory. The current state is built from the generated account in memory (what FetchState returns for it; the test checks the planner sees no difference), so Calculate is timed alone; the process section measures the fetch too.", planRuns)
	s.note("heap: runtime/metrics %s sampled every 1 ms, after a GC; 'above its inputs' subtracts the heap held before the step. allocated: raw %s, Load %s, Calculate %s.",
		heapObjects, mib(raw.alloc), mib(ld.alloc), mib(calc.alloc))
	if changes != d.rows() {
		s.note("the plan holds %d changes for %d changed rows.", changes, d.rows())
	}
	cr, lr := spreadOf(calcT.ratio), spreadOf(ldT.ratio)
	times := func(v float64) string { return fmt.Sprintf("%.2fx", v) }
	s.add(row{
		Case: "Calculate wall time (one function, warm)", Measured: spreadOf(calcT.stepW).format(secs), Reference: spreadOf(calcT.rawW).format(secs) + " raw read",
		Ratio: cr.format(times), Goal: fmt.Sprintf("<= %.0fx", calcRatioGoal), Verdict: judge(cr.med <= calcRatioGoal),
	})
	s.add(row{
		Case: "mapping.Load wall time (one function, warm)", Measured: spreadOf(ldT.stepW).format(secs), Reference: spreadOf(ldT.rawW).format(secs) + " raw read",
		Ratio: lr.format(times), Goal: fmt.Sprintf("<= %.0fx", loadRatioGoal), Verdict: judge(lr.med <= loadRatioGoal),
	})
	s.add(row{
		Case: "Calculate peak heap above its inputs", Measured: mib(calc.extra()), Reference: mib(raw.extra()) + " raw CSV read",
		Ratio: ratio(float64(calc.extra()), float64(raw.extra())), Goal: "-",
	})
	s.add(row{
		Case: "mapping.Load peak heap", Measured: mib(ld.extra()), Reference: mib(raw.extra()) + " raw CSV read",
		Ratio: ratio(float64(ld.extra()), float64(raw.extra())), Goal: "-",
	})

	// The plan file: every group of the export created, written as the
	// CLI writes --out.
	if err := b.planFile(ctx, s, ds, cur, dir); err != nil {
		return s, err
	}
	return s, nil
}

// planFile times the writing of the plan file of the groups export created
// from nothing (every group a create: the 161 MB file at 100k
// groups), as --out writes it.
func (b *bench) planFile(ctx context.Context, s *section, ds *state.DesiredState, cur *state.CurrentState, dir string) error {
	root, ok := cur.Root()
	if !ok {
		return fmt.Errorf("the current state has no root")
	}
	empty := &state.CurrentState{RootID: cur.RootID, CallerUserID: cur.CallerUserID, Groups: []state.Group{root}, Industries: cur.Industries}
	groupsOnly := *ds
	groupsOnly.Users, groupsOnly.UsersManaged = nil, false
	b.logf("plan: the plan of every group created, for the plan file")
	p, err := plan.Calculate(&groupsOnly, empty, plan.Options{Policy: plan.PolicyUpsert, Force: true})
	if err != nil {
		return fmt.Errorf("calculate the plan of every group created: %w", err)
	}
	path := filepath.Join(dir, "plan.json")
	var walls []float64
	var u usage
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		w, err := measure(func() error { return report.WriteFile(path, func(w io.Writer) error { return report.JSON(w, p) }) })
		if err != nil {
			return fmt.Errorf("write the plan file: %w", err)
		}
		keep(&u, w, i == 0)
		walls = append(walls, seconds(w.wall))
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat the plan file: %w", err)
	}
	ws := spreadOf(walls)
	s.add(row{
		Case: fmt.Sprintf("plan file write, %s changes (one function, warm)", thousands(len(p.Changes))), Measured: ws.format(secs),
		Reference: mib(uint64(fi.Size())) + " file", Ratio: fmt.Sprintf("%.0f MB/s", float64(fi.Size())/1e6/ws.med),
		Goal: "< 1s", Verdict: judge(ws.max < 1),
	})
	s.add(row{
		Case: "plan file write, peak heap above the plan", Measured: mib(u.extra()), Reference: mib(uint64(fi.Size())) + " file",
		Ratio: ratio(float64(u.extra()), float64(fi.Size())), Goal: "flat", Verdict: judge(u.extra() < max(uint64(fi.Size())/10, 4<<20)),
	})
	s.note("plan file: report.WriteFile + report.JSON, as --out, --undo and --report .json write it (to a temporary file, synced, renamed), %d runs; the plan creates every group of the groups export (%s); allocated %s per write.",
		runs, mib(uint64(fi.Size())), mib(u.alloc))
	return nil
}

// planFiles are the export files of the planning section.
type planFiles struct {
	groupsPath, usersPath, rootExt string
	d                              drift
}

// planInputs generates the account and writes its drifted export into
// dir; the generated account is dropped when it returns, so that only
// the files remain.
func (b *bench) planInputs(dir string) (*planFiles, error) {
	ex := exportOf(b.planAccount())
	in := &planFiles{rootExt: ex.rootExt, d: ex.drift(b.cfg.planDrift, 42)}
	var err error
	if in.groupsPath, in.usersPath, err = ex.write(dir, true); err != nil {
		return nil, err
	}
	return in, nil
}

// planAccount generates the planning section's account (the same one each
// time: Generate is deterministic).
func (b *bench) planAccount() convirzatest.State {
	return convirzatest.Generate(convirzatest.GenSpec{PerLevel: b.cfg.planTree, Users: b.cfg.planUsers})
}

// planCurrent is the current state of the planning section's account,
// generated again (holding the account through the loads would not be
// what the CLI holds when it loads).
func (b *bench) planCurrent() *state.CurrentState { return currentOf(b.planAccount()) }

// planRuns is how many turns each planning step takes with the raw read:
// more than the other sections' runs, because a step takes about a
// second and its ratio is graded on the median.
const planRuns = 5

// turnResult is what turns measured: each side's kept usage, the wall
// times of every run, and the per-run ratio step/raw.
type turnResult struct {
	raw, step          usage
	rawW, stepW, ratio []float64
}

// turns runs raw and step in turn, planRuns times.
func turns(ctx context.Context, raw, step func() (usage, error)) (turnResult, error) {
	var t turnResult
	for i := range planRuns {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		u, err := raw()
		if err != nil {
			return t, err
		}
		keep(&t.raw, u, i == 0)
		t.rawW = append(t.rawW, seconds(u.wall))
		if u, err = step(); err != nil {
			return t, err
		}
		keep(&t.step, u, i == 0)
		t.stepW = append(t.stepW, seconds(u.wall))
		t.ratio = append(t.ratio, t.stepW[i]/t.rawW[i])
	}
	return t, nil
}

// rawRead reads every record of the files with encoding/csv and keeps
// them all, and returns how many it read: the floor any loader stands on.
func rawRead(paths ...string) (int, error) {
	var all [][][]string
	n := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return 0, fmt.Errorf("raw read: %w", err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
		var recs [][]string
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return 0, fmt.Errorf("raw read of %s: %w", filepath.Base(p), err)
			}
			recs = append(recs, rec)
		}
		f.Close()
		n += len(recs)
		all = append(all, recs)
	}
	runtime.KeepAlive(all)
	return n, nil
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func dur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}
