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
	"github.com/convirza-sync/convirza-sync/sync/state"
)

const (
	planRatioGoal = 2.0
	planHeapGoal  = 1 << 30
	// planRepeats is how many times the raw read and Calculate run: the
	// wall time kept is the best run's (the machine is shared), the heap
	// the worst run's.
	planRepeats = 3
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
	gp, up, d, cur := in.groupsPath, in.usersPath, in.d, in.cur
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

	b.logf("plan: mapping.Load")
	var ds *state.DesiredState
	ld, err := measure(func() error {
		var err error
		ds, err = load(gp, up, in.rootExt)
		return err
	})
	if err != nil {
		return nil, err
	}

	// The raw read and Calculate take turns, so that both see the same
	// load from whatever else runs on the machine.
	b.logf("plan: raw encoding/csv read and Calculate, taking turns, best of %d", planRepeats)
	var (
		raw, calc usage
		records   int
		p         *plan.Plan
	)
	for i := range planRepeats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u, err := measure(func() error {
			var err error
			records, err = rawRead(gp, up)
			return err
		})
		if err != nil {
			return nil, err
		}
		keep(&raw, u, i == 0)
		u, err = measure(func() error {
			var err error
			p, err = plan.Calculate(ds, cur, plan.Options{Policy: plan.PolicyUpsert})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("calculate the plan: %w", err)
		}
		keep(&calc, u, i == 0)
	}
	if len(p.Invalid) > 0 || p.Blocked() {
		return nil, fmt.Errorf("the plan is not applicable: %d invalid rows, blocked %t", len(p.Invalid), p.Blocked())
	}
	changes := len(p.Changes)
	runtime.KeepAlive(ds)
	runtime.KeepAlive(cur)
	runtime.KeepAlive(p)

	s.note("account: %s groups %v and %s users, %.1f%% of the rows drifted (%s changes expected, %s planned); export files %s (%s records).",
		thousands(groups), tree, thousands(users), 100*b.cfg.planDrift, thousands(d.rows()), thousands(changes),
		mib(uint64(fileBytes)), thousands(records))
	s.note("the current state is built from the generated account in memory (what FetchState returns for it; the test checks the planner sees no difference), so Calculate is timed alone; the raw read keeps every record, as a planner must. mapping.Load runs once; then the raw read and Calculate take turns, %d times each, and the best wall time and the largest heap of each are kept (the machine is shared).", planRepeats)
	s.note("heap: runtime/metrics %s sampled every 1 ms, after a GC; 'above its inputs' subtracts the heap held before the step (for Calculate: the desired and current states). allocated: raw %s, Load %s, Calculate %s.",
		heapObjects, mib(raw.alloc), mib(ld.alloc), mib(calc.alloc))
	if changes != d.rows() {
		s.note("the plan holds %d changes for %d changed rows.", changes, d.rows())
	}

	s.add(row{
		Case: "Calculate wall time", Measured: dur(calc.wall), Reference: dur(raw.wall) + " raw CSV read",
		Ratio: ratio(seconds(calc.wall), seconds(raw.wall)), Goal: fmt.Sprintf("<= %.0fx", planRatioGoal),
		Verdict: judge(seconds(calc.wall) <= planRatioGoal*seconds(raw.wall)),
	})
	s.add(row{
		Case: "Calculate peak heap above its inputs", Measured: mib(calc.extra()), Reference: mib(raw.extra()) + " raw CSV read",
		Ratio: ratio(float64(calc.extra()), float64(raw.extra())), Goal: fmt.Sprintf("<= %.0fx", planRatioGoal),
		Verdict: judge(float64(calc.extra()) <= planRatioGoal*float64(raw.extra())),
	})
	held := max(ld.peak, calc.peak)
	s.add(row{
		Case: "peak heap while planning (states + plan)", Measured: mib(held), Reference: "1 GiB",
		Ratio: pct(float64(held), planHeapGoal), Goal: "< 1 GiB", Verdict: judge(held < planHeapGoal),
	})
	s.add(row{
		Case: "mapping.Load wall time", Measured: dur(ld.wall), Reference: dur(raw.wall) + " raw CSV read",
		Ratio: ratio(seconds(ld.wall), seconds(raw.wall)), Goal: "-",
	})
	s.add(row{
		Case: "mapping.Load peak heap", Measured: mib(ld.extra()), Reference: mib(raw.extra()) + " raw CSV read",
		Ratio: ratio(float64(ld.extra()), float64(raw.extra())), Goal: "-",
	})
	s.add(row{
		Case: "Load + Calculate wall time", Measured: dur(ld.wall + calc.wall), Reference: dur(raw.wall) + " raw CSV read",
		Ratio: ratio(seconds(ld.wall+calc.wall), seconds(raw.wall)), Goal: "-",
	})
	s.note("the runtime's resident memory (mapped minus released: heap, fragmentation, stacks, metadata) peaked at %s while planning.",
		mib(max(ld.resident, calc.resident)))
	if seconds(calc.wall) > planRatioGoal*seconds(raw.wall) {
		s.note("Calculate wall time MISSED: %s against %s for the raw read. Calculate is a hash join: it indexes the %s current users and %s groups by key in maps and looks each export row up, random access into million-entry maps, where the raw read streams the files once; run with -cpuprofile to see the split.",
			dur(calc.wall), dur(raw.wall), thousands(len(cur.Users)), thousands(len(cur.Groups)))
	}
	if float64(calc.extra()) > planRatioGoal*float64(raw.extra()) {
		s.note("Calculate heap MISSED: %s above its inputs against %s for the raw read.", mib(calc.extra()), mib(raw.extra()))
	}
	return s, nil
}

// planFiles are the export files of the planning section and the current
// state they are planned against.
type planFiles struct {
	groupsPath, usersPath, rootExt string
	d                              drift
	cur                            *state.CurrentState
}

// planInputs generates the account, writes its drifted export into dir and
// builds its current state; the generated account itself is dropped when
// it returns, so only the files and the current state stay in memory.
func (b *bench) planInputs(dir string) (*planFiles, error) {
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: b.cfg.planTree, Users: b.cfg.planUsers})
	ex := exportOf(st)
	in := &planFiles{rootExt: ex.rootExt, d: ex.drift(b.cfg.planDrift, 42)}
	var err error
	if in.groupsPath, in.usersPath, err = ex.write(dir, true); err != nil {
		return nil, err
	}
	in.cur = currentOf(st)
	return in, nil
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
