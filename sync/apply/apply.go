package apply

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// DefaultGrace is how long calls in flight may take to finish after the
// context is cancelled, when Options.Grace is 0.
const DefaultGrace = 20 * time.Second

// ErrRefused is matched (errors.Is) by the error of an Apply that refused
// the plan before making any write: another version, a tripped gate, a
// broken dependency graph.
var ErrRefused = errors.New("plan refused")

// Options tune Apply.
type Options struct {
	// Concurrency is how many changes run at once: 0 chooses it by Little's
	// law from Rate and the latency observed, re-evaluated as the run goes;
	// a positive number fixes it.
	Concurrency int
	// Rate is the client's configured rate in requests per second, for the
	// automatic concurrency.
	Rate float64
	// Grace is how long calls already in flight may take to finish once ctx
	// is cancelled: 0 means DefaultGrace; a negative value cancels them with
	// ctx.
	Grace time.Duration
	// OnResult, when set, is called once per change as it ends (blocked and
	// skipped ones included), possibly from several goroutines; it must be
	// cheap.
	OnResult func(plan.Result)
}

// Results is what Apply did.
type Results struct {
	// Results holds one row per change, in the plan's Change order, then one
	// "skipped" row per invalid export row of the plan.
	Results []plan.Result `json:"results"`
	// Writes counts the write calls made (creates, their one retry, patches
	// and deletes); Lookups counts the look-ups that settled an ambiguous or
	// clashing create; Checks counts the checks of a group right before its
	// delete (each two reads: its child groups, its active users).
	Writes  int `json:"writes"`
	Lookups int `json:"lookups"`
	Checks  int `json:"checks"`
	// Concurrency says how many changes ran at once.
	Concurrency Concurrency `json:"concurrency"`
	// Elapsed is the wall time of the run.
	Elapsed time.Duration `json:"elapsed"`
}

// Concurrency describes the concurrency of a run.
type Concurrency struct {
	// Auto is true when the limit followed the observed latency.
	Auto bool `json:"auto"`
	// Limit is the limit at the end of the run; MinLimit and MaxLimit the
	// range it took.
	Limit    int `json:"limit"`
	MinLimit int `json:"min_limit"`
	MaxLimit int `json:"max_limit"`
	// MaxInFlight is the most changes that ran at once.
	MaxInFlight int `json:"max_in_flight"`
	// LatencyP95 is the p95 latency the last automatic limit was taken
	// from, over the last latencies observed (Samples in all).
	LatencyP95 time.Duration `json:"latency_p95"`
	Samples    int           `json:"samples"`
}

// Counts counts the results by outcome.
func (r *Results) Counts() map[plan.Outcome]int {
	m := map[plan.Outcome]int{}
	for _, x := range r.Results {
		m[x.Outcome]++
	}
	return m
}

// Apply carries out the plan's changes through r, concurrently, each change
// after the changes it depends on (Change.After, and the create of a group
// it names by ext id). Every change ends as one plan.Result.
//
// Apply refuses (an error matching ErrRefused, nil results, zero writes) a
// plan of another version, a plan a gate blocks, and a plan whose
// dependencies name unknown changes or form a cycle. It returns the results
// and an error when the run ended early: authorization lost (the error
// matches convirza.ErrUnauthorized) or ctx cancelled (it matches ctx.Err()).
// It then starts nothing new, lets the calls in flight finish (within
// Options.Grace after a cancellation) and marks what never started
// "skipped".
func Apply(ctx context.Context, p *plan.Plan, r Remote, o Options) (*Results, error) {
	if p == nil {
		return nil, fmt.Errorf("apply: %w: no plan", ErrRefused)
	}
	if p.Version != plan.Version {
		return nil, fmt.Errorf("apply: %w: plan version %d, this build applies version %d", ErrRefused, p.Version, plan.Version)
	}
	if p.Blocked() {
		return nil, fmt.Errorf("apply: %w: a safety gate blocks it (%s)", ErrRefused, p.BlockedWhy())
	}
	g, err := plan.NewGraph(p.Changes)
	if err != nil {
		return nil, fmt.Errorf("apply: %w: %w", ErrRefused, err)
	}
	if r == nil {
		return nil, fmt.Errorf("apply: %w: no remote to write to", ErrRefused)
	}
	run := &runner{
		p:        p,
		g:        g,
		remote:   r,
		opts:     o,
		lim:      newLimiter(o.Concurrency, o.Rate),
		groupIDs: map[string]int64{},
		userIDs:  map[string]int64{},

		goneGroups: map[int64]bool{},
		goneUsers:  map[int64]bool{},
	}
	return run.run(ctx)
}

// runner is one Apply.
type runner struct {
	p      *plan.Plan
	g      *plan.Graph
	remote Remote
	opts   Options
	lim    *limiter

	mu       sync.RWMutex
	groupIDs map[string]int64 // ext id -> id of the groups created so far
	userIDs  map[string]int64 // key -> id of the users created so far
	// goneGroups and goneUsers hold the ids this run deleted (groups,
	// users) or deactivated (users): what a group may still hold when it
	// is deleted.
	goneGroups map[int64]bool
	goneUsers  map[int64]bool

	writes, lookups, checks atomic.Int64
	// stopped is set once authorization is lost: tasks already handed to
	// the errgroup but not yet begun then skip.
	stopped atomic.Bool
}

func (r *runner) group(extID string) (int64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.groupIDs[extID]
	return id, ok
}

// gone records an object this run deleted or deactivated.
func (r *runner) gone(k plan.Kind, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k == plan.KindGroup {
		r.goneGroups[id] = true
	} else {
		r.goneUsers[id] = true
	}
}

func (r *runner) user(key string) (int64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.userIDs[key]
	return id, ok
}

// event is the end of one change's task.
type event struct {
	i     int
	res   plan.Result
	fatal error // authorization lost
}

// The states of a change during a run.
const (
	waiting = iota
	running
	finished
)

func (r *runner) run(ctx context.Context) (*Results, error) {
	start := time.Now()
	n := len(r.p.Changes)
	results := make([]plan.Result, n)
	st := make([]int, n)
	left := make([]int, n) // dependencies not yet done
	ready := &plan.IndexHeap{}
	for i := range n {
		left[i] = len(r.g.Deps[i])
		if left[i] == 0 {
			heap.Push(ready, i)
		}
	}

	// Calls run under callCtx: it outlives ctx by the grace period, so that
	// a cancellation stops new work without cutting a write in half.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	grace := r.opts.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	var timerMu sync.Mutex
	var graceTimer *time.Timer
	stopAfter := context.AfterFunc(ctx, func() {
		if grace < 0 {
			cancelCalls()
			return
		}
		timerMu.Lock()
		graceTimer = time.AfterFunc(grace, cancelCalls)
		timerMu.Unlock()
	})
	defer func() {
		stopAfter()
		timerMu.Lock()
		if graceTimer != nil {
			graceTimer.Stop()
		}
		timerMu.Unlock()
	}()

	var eg errgroup.Group
	if r.lim.auto() {
		eg.SetLimit(MaxAutoConcurrency)
	} else {
		eg.SetLimit(r.opts.Concurrency)
	}
	events := make(chan event, n)
	inFlight, maxInFlight, done := 0, 0, 0
	var fatal error
	stopping := false
	ctxDone := ctx.Done()

	emit := func(i int, res plan.Result) {
		results[i] = res
		st[i] = finished
		done++
		if r.opts.OnResult != nil {
			r.opts.OnResult(res)
		}
	}
	stop := func(err error) {
		if !stopping {
			stopping = true
			fatal = err
		}
	}

	for done < n {
		for !stopping && ready.Len() > 0 && inFlight < r.lim.limit() {
			if ctx.Err() != nil {
				stop(interrupted(ctx))
				break
			}
			i := heap.Pop(ready).(int)
			st[i] = running
			inFlight++
			maxInFlight = max(maxInFlight, inFlight)
			eg.Go(func() error {
				events <- r.task(ctx, callCtx, i)
				return nil
			})
		}
		if inFlight == 0 && (stopping || ready.Len() == 0) {
			// Nothing runs and nothing more will start: what is left is
			// skipped (stopping), or waits on nothing that can end (which
			// plan.NewGraph rules out).
			break
		}
		select {
		case ev := <-events:
			inFlight--
			emit(ev.i, ev.res)
			if ev.fatal != nil {
				r.stopped.Store(true)
				stop(fmt.Errorf("apply stopped, authorization lost: %w", ev.fatal))
			}
			switch {
			case ev.res.Outcome.Done():
				for _, d := range r.g.Dependents[ev.i] {
					if left[d]--; left[d] == 0 && st[d] == waiting {
						heap.Push(ready, d)
					}
				}
			case ev.res.Outcome == plan.OutcomeFailed || ev.res.Outcome == plan.OutcomeBlocked || ev.res.Outcome == plan.OutcomeRefused:
				r.block(ev.i, results, st, emit)
			}
			// A skipped change's dependents stay waiting: the run is
			// stopping, and they end skipped with the rest.
		case <-ctxDone:
			ctxDone = nil
			stop(interrupted(ctx))
		}
	}
	_ = eg.Wait() // the tasks return no error: failures are results

	why := "not started"
	switch {
	case errors.Is(fatal, convirza.ErrUnauthorized):
		why = "not started: authorization was lost"
	case fatal != nil:
		why = "not started: the run was interrupted"
	}
	for i := range n {
		if st[i] != finished {
			res := plan.ResultFor(&r.p.Changes[i], plan.OutcomeSkipped)
			res.Message = why
			emit(i, res)
		}
	}
	out := &Results{
		Results: append(results, plan.SkippedResults(r.p)...),
		Writes:  int(r.writes.Load()),
		Lookups: int(r.lookups.Load()),
		Checks:  int(r.checks.Load()),
		Elapsed: time.Since(start),
	}
	r.lim.stats(&out.Concurrency)
	out.Concurrency.MaxInFlight = maxInFlight
	return out, fatal
}

// block marks every change that waits, directly or not, on change i (which
// failed or was blocked) blocked, naming the change each waited on.
func (r *runner) block(i int, results []plan.Result, st []int, emit func(int, plan.Result)) {
	queue := []int{i}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		for _, d := range r.g.Dependents[j] {
			if st[d] != waiting {
				continue
			}
			res := plan.ResultFor(&r.p.Changes[d], plan.OutcomeBlocked)
			res.Message = fmt.Sprintf("waits on change %d (%s), which %s", r.p.Changes[j].ID, r.p.Changes[j].Describe(), pastTense(results[j].Outcome))
			emit(d, res)
			queue = append(queue, d)
		}
	}
}

func pastTense(o plan.Outcome) string {
	switch o {
	case plan.OutcomeFailed:
		return "failed"
	case plan.OutcomeBlocked:
		return "was blocked"
	}
	return "was " + string(o)
}

func interrupted(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("apply interrupted (%v): %w", cause, err)
	}
	return fmt.Errorf("apply interrupted: %w", err)
}

// task runs change i. It starts nothing when ctx is already cancelled or
// authorization was lost; its calls run under callCtx.
func (r *runner) task(ctx, callCtx context.Context, i int) event {
	c := &r.p.Changes[i]
	switch {
	case ctx.Err() != nil:
		res := plan.ResultFor(c, plan.OutcomeSkipped)
		res.Message = "not started: the run was interrupted"
		return event{i: i, res: res}
	case r.stopped.Load():
		res := plan.ResultFor(c, plan.OutcomeSkipped)
		res.Message = "not started: authorization was lost"
		return event{i: i, res: res}
	}
	res, fatal := r.exec(ctx, callCtx, c)
	if res.Outcome == plan.OutcomeFailed && callCtx.Err() != nil {
		res.Message = "cut off when the grace period after the interrupt ran out: " + res.Message
	}
	return event{i: i, res: res, fatal: fatal}
}
