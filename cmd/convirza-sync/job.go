package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/metrics"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/report"
)

// job is one run of sync, plan or apply: the settings it was given and the
// state it gathers as it goes. The config stays what the flags said; what
// the run did lives here, and finish reads it.
type job struct {
	ctx     context.Context
	e       *env
	c       *config
	command string // the metrics' command label
	start   time.Time

	s   *session       // nil until connected
	key []byte         // the plan key (CONVIRZA_SYNC_PLAN_KEY), nil when none is set
	res *apply.Results // nil unless apply.Apply ran
	// wrote records which outputs were written, so that a run that fails
	// still writes the ones asked for, saying why.
	wrote struct{ report, results bool }
}

func newJob(ctx context.Context, e *env, c *config, command string) *job {
	return &job{ctx: ctx, e: e, c: c, command: command, start: time.Now()}
}

// source is where a job's plan comes from: the export and Convirza
// (sync, plan), or a saved plan file (apply).
type source func(j *job) (*plan.Plan, error)

// runPlan is plan: the pipeline without the write.
func runPlan(ctx context.Context, e *env, c *config, _ []string) error {
	return planOnly(ctx, e, c, "plan")
}

// planOnly runs the pipeline without the write, under a metrics label.
func planOnly(ctx context.Context, e *env, c *config, command string) (err error) {
	j := newJob(ctx, e, c, command)
	defer j.finish(&err)
	return j.run(fromExport, false)
}

// runSync is sync: the pipeline with the write, or without it for
// --dry-run.
func runSync(ctx context.Context, e *env, c *config, _ []string) (err error) {
	command := "sync"
	if c.dryRun {
		command = "sync-dry-run"
	}
	j := newJob(ctx, e, c, command)
	defer j.finish(&err)
	if !c.dryRun && c.detailedExitcode {
		return usagef("--detailed-exitcode is for plan and sync --dry-run")
	}
	return j.run(fromExport, !c.dryRun)
}

// runApply is apply PLAN: the pipeline from a saved plan.
func runApply(ctx context.Context, e *env, c *config, args []string) (err error) {
	j := newJob(ctx, e, c, "apply")
	defer j.finish(&err)
	return j.run(fromFile(args[0]), true)
}

// run is the one pipeline of sync, plan and apply: make or read the plan,
// report it, then either stop (the dry run) or apply it. The one write
// gate of the design: when write is false, apply.Apply is not called.
func (j *job) run(src source, write bool) error {
	if err := checkReport(j.c); err != nil {
		return err
	}
	conc, err := concurrencySetting(j.c)
	if err != nil {
		return err
	}
	if j.key, err = loadPlanKey(j.e.getenv, func(w string) { j.e.log.Warn().Msg(w) }); err != nil {
		return err
	}
	p, err := src(j)
	if err != nil {
		return err
	}
	if err := j.writeReport(p); err != nil {
		return err
	}
	if !write {
		return j.dryRun(p)
	}
	if p.Blocked() {
		return errors.Join(blockedError(p), j.writeResults(plan.BlockedResults(p, "not applied: the plan is blocked by "+p.BlockedWhy())))
	}
	return j.apply(p, conc)
}

// fromExport loads the export, reads Convirza and calculates the plan,
// then shows it on stdout.
func fromExport(j *job) (*plan.Plan, error) {
	s, err := connect(j.e, j.c)
	if err != nil {
		return nil, err
	}
	j.s = s
	p, err := makePlan(j.ctx, j.e, j.c, s)
	if err != nil {
		return nil, err
	}
	return p, showPlan(j.e, j.c, p)
}

// maxPlanFile bounds the plan file apply reads: far above any plan the
// listing ceilings allow (a plan creating 100k groups is 158 MiB), and far
// below what a file that never ends (a device, a pipe) would cost.
const maxPlanFile = 2 << 30

// readPlanFile reads a plan file (or a pipe) of at most maxPlanFile bytes;
// a device such as /dev/zero is refused before any read.
func readPlanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular() && fi.Size() > maxPlanFile:
		return nil, fmt.Errorf("%s holds %d bytes, more than %d GiB: not a plan file", path, fi.Size(), maxPlanFile>>30)
	case !mode.IsRegular() && mode&os.ModeNamedPipe == 0:
		return nil, fmt.Errorf("%s is not a file (%s)", path, mode.Type())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPlanFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPlanFile {
		return nil, fmt.Errorf("%s holds more than %d GiB: not a plan file", path, maxPlanFile>>30)
	}
	return b, nil
}

// fromFile reads a saved plan and refuses it, before any write, when it is
// not the plan that was reviewed or signed (its digest, --approve, the
// plan key), when it reaches outside what these credentials and settings
// sync (plan.CheckScope: the API URL, the root re-resolved from the
// credentials and --root, the objects, the root group and the caller's
// own user), or when a before-value no longer holds in Convirza.
func fromFile(path string) source {
	return func(j *job) (*plan.Plan, error) {
		b, err := readPlanFile(path)
		if err != nil {
			return nil, fmt.Errorf("read the plan: %w", err)
		}
		p, err := plan.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := checkBinding(j, p); err != nil {
			return nil, fmt.Errorf("%s: refusing the plan, nothing was written: %w", path, err)
		}
		s, err := connect(j.e, j.c)
		if err != nil {
			return nil, err
		}
		j.s = s
		// The root is this run's own: the caller's group, or --root given to
		// apply. The plan's root_id is only checked against it.
		cur, err := s.fetch(j.ctx, j.e, j.c.root, planNeedsIndustries(p))
		if err != nil {
			return nil, fmt.Errorf("read Convirza under the root of these credentials%s; nothing was written: %w", rootFlagNote(j.c), err)
		}
		if vs := plan.CheckScope(p, cur, s.apiURL); len(vs) > 0 {
			lines := make([]string, len(vs))
			for i, v := range vs {
				lines[i] = v.String()
			}
			return nil, fmt.Errorf("refusing a plan that reaches outside its scope, nothing was written: %d violations:\n  %s",
				len(vs), strings.Join(lines, "\n  "))
		}
		if drifts := plan.CheckStale(p, cur); len(drifts) > 0 {
			lines := make([]string, 0, min(len(drifts), 50)+1)
			for i, d := range drifts {
				if i == 50 {
					lines = append(lines, fmt.Sprintf("… and %d more", len(drifts)-50))
					break
				}
				lines = append(lines, d.String())
			}
			return nil, fmt.Errorf("refusing a stale plan, nothing was written: make a fresh plan. %d before-values no longer hold in Convirza:\n  %s",
				len(drifts), strings.Join(lines, "\n  "))
		}
		return p, nil
	}
}

// checkBinding refuses a plan that is not the one reviewed: its digest
// must match its content, its signature must verify when a plan key is
// set (and it must be unsigned when none is), and with --approve its
// digest must be the approved one. It makes no call.
func checkBinding(j *job, p *plan.Plan) error {
	if err := plan.CheckSeal(p, j.key); err != nil {
		switch {
		case errors.Is(err, plan.ErrUnsigned), errors.Is(err, plan.ErrBadSignature):
			return fmt.Errorf("%w (%s is set): sign plans with the same key when they are made", err, planKeyVar)
		case errors.Is(err, plan.ErrNoKey):
			return fmt.Errorf("%w: set %s (or %s_FILE) to the key it was signed with", err, planKeyVar, planKeyVar)
		}
		return err
	}
	if j.c.approve != "" {
		if err := plan.CheckApproved(p, j.c.approve); err != nil {
			return fmt.Errorf("%s: %w", j.c.ref("approve"), err)
		}
	}
	return nil
}

// rootFlagNote says which root apply read under, for a message.
func rootFlagNote(c *config) string {
	if c.root == "" {
		return " (their own group)"
	}
	return fmt.Sprintf(" (%s %s)", c.ref("root"), c.root)
}

// dryRun ends plan and sync --dry-run: the results say "planned", --out
// saves the plan, and the error says whether the plan is blocked or, with
// --detailed-exitcode, has changes pending.
func (j *job) dryRun(p *plan.Plan) error {
	if err := j.writeResults(plan.PlannedResults(p)); err != nil {
		return err
	}
	if j.c.out != "" {
		if err := writePlanFile(j.c.out, p, j.key); err != nil {
			return err
		}
		j.e.log.Info().Str("plan", j.c.out).Int("changes", len(p.Changes)).Msg("plan saved; apply it with: convirza-sync apply " + j.c.out)
	}
	if p.Blocked() {
		return blockedError(p)
	}
	if j.c.detailedExitcode && !p.Empty() {
		return errPending
	}
	return nil
}

// apply applies the plan: the only call of apply.Apply. It writes the
// results and the undo plan whatever happened, and says what went wrong;
// the Results it keeps make any error an exit 3 (exitCode).
func (j *job) apply(p *plan.Plan, conc int) error {
	prog := newProgress(j.e, len(p.Changes))
	res, err := apply.Apply(j.ctx, p, apply.ClientRemote(j.s.client), apply.Options{
		Concurrency: conc, Rate: j.c.rate, Grace: j.c.grace, OnResult: prog.add,
	})
	prog.done()
	if res == nil {
		return err
	}
	j.res = res
	werr := errors.Join(j.writeResults(res.Results), writeResultsReport(j.c, p, res.Results), j.writeUndo(p, res))
	counts := res.Counts()
	switch {
	case errors.Is(err, context.Canceled) || j.ctx.Err() != nil:
		return errors.Join(fmt.Errorf("%w: %d changes done, the rest skipped; the results say which", errInterrupted, doneCount(counts)), werr)
	case errors.Is(err, convirza.ErrUnauthorized):
		return errors.Join(fmt.Errorf("stopped early, Convirza refused the credentials partway (check %s): %w", j.s.credVars, err), werr)
	case err != nil:
		return errors.Join(fmt.Errorf("stopped early: %w", err), werr)
	case werr != nil:
		return werr
	case counts[plan.OutcomeFailed]+counts[plan.OutcomeBlocked]+counts[plan.OutcomeRefused] > 0:
		return fmt.Errorf("%d changes failed, %d were blocked and %d refused; see the results", counts[plan.OutcomeFailed], counts[plan.OutcomeBlocked], counts[plan.OutcomeRefused])
	case len(p.Invalid) > 0:
		// --max-invalid let invalid rows pass: the rest is applied, but the
		// export is not all in Convirza (DESIGN.md: exit 3).
		return fmt.Errorf("%d invalid export rows were skipped, and deletes were off; see the results", len(p.Invalid))
	}
	return nil
}

// finish ends every run, whatever path it took: it ties the Results to the
// error, prints the summary of an apply, writes the report and results
// that a failed run still owes, writes and pushes the metrics, and revokes
// a login's tokens.
func (j *job) finish(errp *error) {
	if *errp != nil && j.res != nil {
		*errp = &appliedError{err: *errp, res: j.res}
	}
	err := *errp
	if j.res != nil {
		j.summarize()
	}
	code := exitCode(err)
	if code == exitFailed {
		j.writeFailure(err)
	}
	j.writeMetrics(code == exitOK || code == exitPending)
	if j.s != nil {
		j.s.close(j.ctx, j.e.log)
	}
}

func doneCount(counts map[plan.Outcome]int) int {
	n := 0
	for o, k := range counts {
		if o.Done() {
			n += k
		}
	}
	return n
}

// changeKey is a result's line of the summary: kind, action and outcome.
func changeKey(r plan.Result) metrics.ChangeCount {
	return metrics.ChangeCount{Kind: string(r.Kind), Action: report.ActionWord(r.Action), Outcome: string(r.Outcome)}
}

// summarize prints the final summary of an apply: counts by action and
// outcome, API calls, retries and wall time.
func (j *job) summarize() {
	e, res := j.e, j.res
	byKey := map[string]int{}
	for _, r := range res.Results {
		k := changeKey(r)
		byKey[strings.Join(strings.Fields(k.Kind+" "+k.Action+" "+k.Outcome), " ")]++
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	st := j.s.client.Stats()
	if j.c.output == "json" {
		ev := e.log.Info().Int64("api_calls", st.Calls).Int64("retries", st.Retries).Int64("rate_limited", st.RateLimited).
			Int64("wall_ms", res.Elapsed.Milliseconds()).Int("concurrency", res.Concurrency.Limit)
		d := zerolog.Dict()
		for _, k := range keys {
			d = d.Int(k, byKey[k])
		}
		ev.Dict("changes", d).Msg("summary")
		return
	}
	fmt.Fprintf(e.stdout, "\nApplied in %s: %d API calls (%d retries, %d rate-limited), concurrency %d.\n",
		res.Elapsed.Round(time.Millisecond), st.Calls, st.Retries, st.RateLimited, res.Concurrency.Limit)
	for _, k := range keys {
		fmt.Fprintf(e.stdout, "  %-40s %d\n", k, byKey[k])
	}
}

// writeMetrics writes --metrics-file and pushes --pushgateway, whatever the
// outcome.
func (j *job) writeMetrics(success bool) {
	if j.c.metricsFile == "" && j.c.pushgateway == "" {
		return
	}
	var st convirza.Stats
	if j.s != nil { // nil when the run failed before it could connect
		st = j.s.client.Stats()
	}
	run := metrics.Run{Command: j.command, Start: j.start, End: time.Now(), Success: success,
		Calls: map[int]int{}, Retries: int(st.Retries), RateLimited: int(st.RateLimited)}
	for code, n := range st.ByStatus {
		run.Calls[code] = int(n)
	}
	if j.res != nil {
		agg := map[metrics.ChangeCount]int{}
		for _, r := range j.res.Results {
			agg[changeKey(r)]++
		}
		for k, n := range agg {
			k.N = n
			run.Changes = append(run.Changes, k)
		}
	}
	if j.c.metricsFile != "" {
		if err := metrics.WriteFile(j.c.metricsFile, run); err != nil {
			j.e.log.Error().Err(err).Msg("could not write the metrics file")
		}
	}
	if j.c.pushgateway != "" {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(j.ctx), 10*time.Second)
		defer cancel()
		if err := metrics.Push(pctx, j.c.pushgateway, "convirza-sync", run); err != nil {
			j.e.log.Error().Err(err).Msg("could not push metrics")
		}
	}
}

// writeFailure writes the report and the results asked for by a run that
// failed before any write, when the run did not get as far as writing
// them: the report says why, the results hold only their header (there is
// no change to account for).
func (j *job) writeFailure(err error) {
	for _, path := range reportPaths(j.c.report) {
		if j.wrote.report {
			break
		}
		if render, rerr := report.Failure(path, errorMessage(err)); rerr == nil {
			if werr := report.WriteFile(path, render); werr != nil {
				j.e.log.Error().Err(werr).Msg("could not write the report")
			}
		}
	}
	if j.c.results != "" && !j.wrote.results {
		if werr := j.writeResults(nil); werr != nil {
			j.e.log.Error().Err(werr).Msg("could not write the results")
		}
	}
}

// checkReport refuses a --report whose format is unknown, before any call.
func checkReport(c *config) error {
	for _, path := range reportPaths(c.report) {
		if _, err := report.ByExtension(path); err != nil {
			return usagef("%s: %v", c.ref("report"), err)
		}
	}
	return checkResultsReport(c)
}

// writeReport renders the plan to each --report path, by extension.
func (j *job) writeReport(p *plan.Plan) error {
	for _, path := range reportPaths(j.c.report) {
		render, err := report.ByExtensionWith(path, report.HTMLOptions{Generated: time.Now(), Digest: p.Digest})
		if err != nil {
			return usagef("--report: %v", err)
		}
		if err := report.WriteFile(path, func(w io.Writer) error { return render(w, p) }); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	j.wrote.report = true
	return nil
}

// writeResults writes the results CSV to --results.
func (j *job) writeResults(rs []plan.Result) error {
	if j.c.results == "" {
		return nil
	}
	if err := report.WriteFile(j.c.results, func(w io.Writer) error { return report.ResultsCSV(w, rs) }); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	j.wrote.results = true
	return nil
}

// writeUndo writes --undo: a plan that restores what was applied.
func (j *job) writeUndo(p *plan.Plan, res *apply.Results) error {
	if j.c.undo == "" {
		return nil
	}
	var done []plan.Result
	if res != nil {
		done = res.Results
	}
	if err := writePlanFile(j.c.undo, plan.Undo(p, done), j.key); err != nil {
		return fmt.Errorf("write the undo plan: %w", err)
	}
	j.e.log.Info().Str("undo", j.c.undo).Msg("undo plan written; deletes cannot be undone and are listed in it as refused")
	return nil
}

// writePlanFile writes a plan file (the JSON report is the plan file
// format), atomically, sealed: with its digest, and signed when a plan key
// is set.
func writePlanFile(path string, p *plan.Plan, key []byte) error {
	sealed := *p
	if err := plan.Seal(&sealed, key); err != nil {
		return err
	}
	return report.WriteFile(path, func(w io.Writer) error { return report.JSON(w, &sealed) })
}

// stdoutLines is how long the text plan on stdout may be before it folds
// into per-branch counts; a --report file is always whole.
const stdoutLines = 400

// showPlan prints the plan on stdout: the text tree, folded past
// stdoutLines, or with --output json the plan document.
func showPlan(e *env, c *config, p *plan.Plan) error {
	if c.output == "json" {
		return report.JSON(e.stdout, p)
	}
	return report.Text(e.stdout, p, report.TextOptions{Color: e.color(e.stdoutTTY), MaxLines: stdoutLines})
}

// blockedError explains why a plan is not applied.
func blockedError(p *plan.Plan) error {
	return fmt.Errorf("the plan is blocked, nothing was written: %s", p.BlockedWhy())
}
