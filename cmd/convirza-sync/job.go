package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/metrics"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// session is one run's connection to Convirza: the client and what it was
// built from. Close revokes a login's tokens.
type session struct {
	client *convirza.Client
	apiURL string
	// credVars names the variables the credentials came from, for the
	// message when Convirza refuses them.
	credVars string
	// trace records every call when --trace-http FILE (traceFile) asks, or
	// when the command needs it (doctor).
	trace     *convirza.Trace
	traceFile string
}

// connect builds the client from the flags and the environment's
// credentials.
func connect(e *env, c *config) (*session, error) {
	creds, err := loadCredentials(e.getenv)
	if err != nil {
		return nil, err
	}
	for _, w := range secretFileWarnings(e.getenv) {
		e.log.Warn().Msg(w)
	}
	log := e.log
	var trace *convirza.Trace
	if c.traceHTTP != "" || c.traceAlways {
		trace = convirza.NewTrace(c.traceBody)
	}
	cl, err := convirza.NewClient(convirza.Options{
		APIURL: c.apiURL, AuthURL: c.authURL,
		Token: creds.token, Email: creds.email, Password: creds.password,
		Rate: c.rate, Burst: c.burst, Logger: &log, Trace: trace,
	})
	if err != nil {
		return nil, withCode(exitFailed, err)
	}
	return &session{client: cl, apiURL: strings.TrimRight(c.apiURL, "/"), credVars: creds.vars(),
		trace: trace, traceFile: c.traceHTTP}, nil
}

// readError wraps an error of reading Convirza's state; when Convirza
// refused the credentials, it says which variables to check.
func (s *session) readError(err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted while reading Convirza's current state, nothing was written: %w", err)
	}
	err = fmt.Errorf("read Convirza's current state: %w", err)
	if errors.Is(err, convirza.ErrUnauthorized) {
		err = fmt.Errorf("%w; Convirza refused the credentials: check %s, and that the root is inside their scope", err, s.credVars)
	}
	return withCode(exitFailed, err)
}

// close revokes the tokens of a login, on a context that outlives the run's.
func (s *session) close(ctx context.Context, log zerolog.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.client.Close(cctx); err != nil {
		log.Warn().Err(err).Msg("could not revoke the session's tokens")
	}
	if s.traceFile != "" {
		if err := s.trace.WriteHARFile(s.traceFile, versionString()); err != nil {
			log.Warn().Err(err).Msg("could not write the HTTP trace")
		} else {
			log.Info().Str("file", s.traceFile).Int("calls", len(s.trace.Exchanges())).Msg("HTTP trace written (HAR 1.2, secrets redacted)")
		}
	}
}

// fetch reads Convirza's current state under the root.
func (s *session) fetch(ctx context.Context, e *env, root string, industries bool) (*state.CurrentState, error) {
	cur, st, err := s.client.FetchState(ctx, convirza.FetchOptions{Root: root, Industries: industries})
	if err != nil {
		return nil, s.readError(err)
	}
	e.log.Info().Int("groups", st.Groups).Int("users", st.Users).Int("calls", st.Calls).
		Int("minimum_calls", st.Formula).Dur("took", st.Duration).Int64("root_id", cur.RootID).Msg("read Convirza")
	return cur, nil
}

// planSettings are the flags that shape a plan, checked once.
func planSettings(c *config) (plan.Options, error) {
	var o plan.Options
	var err error
	if o.Policy, err = plan.ParsePolicy(c.policy); err != nil {
		return o, usagef("%s: %v", c.ref("policy"), err)
	}
	for _, l := range []struct {
		flag string
		val  string
		dst  *plan.Limit
	}{{"max-deletes", c.maxDeletes, &o.MaxDeletes}, {"max-changes", c.maxChanges, &o.MaxChanges}, {"max-invalid", c.maxInvalid, &o.MaxInvalid}} {
		if *l.dst, err = plan.ParseLimit(l.val); err != nil {
			return o, usagef("%s: %v", c.ref(l.flag), err)
		}
	}
	o.Force = c.force
	return o, nil
}

// rootExtID is the ext id --root names, if it names one.
func rootExtID(root string) string {
	if strings.HasPrefix(root, "id:") {
		return ""
	}
	return root
}

// loadExport loads the export offline. A whole-file failure is exit 1,
// after every problem found has been printed.
func loadExport(e *env, c *config, rootExt string) (*state.DesiredState, error) {
	if c.groups == "" && c.users == "" {
		return nil, usagef("give the export: --groups FILE and/or --users FILE")
	}
	var m *mapping.Mapping
	if c.mapping != "" {
		var err error
		if c.inputFS != nil {
			m, err = mapping.ReadMapping(c.inputFS, c.mapping)
		} else {
			m, err = mapping.LoadMapping(c.mapping)
		}
		if err != nil {
			return nil, withCode(exitFailed, err)
		}
	}
	ds, err := mapping.Load(mapping.LoadOptions{
		GroupsPath: c.groups, UsersPath: c.users, Format: c.inputFormat, Mapping: m, RootExtID: rootExt, FS: c.inputFS,
		Encoding: c.encoding, Delimiter: c.delimiter, Sheet: c.sheet,
	})
	if err != nil {
		if ds != nil {
			printProblems(e.stderr, ds.Invalid, c.maxErrors)
		}
		return nil, withCode(exitFailed, err)
	}
	for _, w := range ds.Warnings {
		e.log.Warn().Str("at", w.Source.String()).Str("column", w.Column).Msg(w.Message)
	}
	return ds, nil
}

// needsIndustries reports whether any row names an industry by name.
func needsIndustries(ds *state.DesiredState) bool {
	return slices.ContainsFunc(ds.Groups, func(g state.DesiredGroup) bool { return g.Industry != nil })
}

// printProblems lists at most max problems, and how many more there are.
func printProblems(w io.Writer, ps []state.Problem, max int) {
	for i, p := range ps {
		if i == max && max > 0 {
			fmt.Fprintf(w, "… and %d more problems\n", len(ps)-max)
			return
		}
		fmt.Fprintf(w, "%s: %s\n", p.Severity, p.Error())
	}
}

// makePlan is the shared front half of sync and plan: load, read, plan.
func makePlan(ctx context.Context, e *env, c *config, s *session) (*plan.Plan, error) {
	opts, err := planSettings(c)
	if err != nil {
		return nil, err
	}
	ds, err := loadExport(e, c, rootExtID(c.root))
	if err != nil {
		return nil, err
	}
	cur, err := s.fetch(ctx, e, c.root, needsIndustries(ds))
	if err != nil {
		return nil, err
	}
	// The root's ext id is only known now when --root did not name it; rows
	// that name it as their parent are then valid after all.
	if root, ok := cur.Root(); ok && root.ExtID != "" && rootExtID(c.root) == "" && len(ds.Invalid) > 0 {
		if ds, err = loadExport(e, c, root.ExtID); err != nil {
			return nil, err
		}
	}
	opts.Account = plan.Account{APIURL: s.apiURL}
	opts.PhoneRegion = ds.PhoneRegion // the mapping's phone_region, read once by the loader
	p, err := plan.Calculate(ds, cur, opts)
	if err != nil {
		return nil, withCode(exitFailed, fmt.Errorf("plan: %w", err))
	}
	return p, nil
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
func writeReport(c *config, p *plan.Plan) error {
	for _, path := range reportPaths(c.report) {
		render, err := report.ByExtensionWith(path, report.HTMLOptions{Generated: time.Now()})
		if err != nil {
			return usagef("--report: %v", err)
		}
		if err := report.WriteFile(path, func(w io.Writer) error { return render(w, p) }); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	c.wrote.report = true
	return nil
}

// writePlanFile writes a plan file (the JSON report is the plan file
// format), atomically.
func writePlanFile(path string, p *plan.Plan) error {
	return report.WriteFile(path, func(w io.Writer) error { return report.JSON(w, p) })
}

// writeResults writes the results CSV to --results.
func writeResults(c *config, rs []plan.Result) error {
	if c.results == "" {
		return nil
	}
	if err := report.WriteFile(c.results, func(w io.Writer) error { return report.ResultsCSV(w, rs) }); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	c.wrote.results = true
	return nil
}

// showPlan prints the plan on stdout: the text tree, or with --output json
// the plan document.
func showPlan(e *env, c *config, p *plan.Plan) error {
	if c.output == "json" {
		return report.JSON(e.stdout, p)
	}
	return report.Text(e.stdout, p, report.TextOptions{Color: e.stdoutTTY && e.getenv("NO_COLOR") == ""})
}

// blockedError explains why a plan is not applied: exit 1.
func blockedError(p *plan.Plan) error {
	return withCode(exitFailed, fmt.Errorf("the plan is blocked, nothing was written: %s", blockedWhy(p)))
}

// blockedWhy lists the messages of the gates that stop the plan.
func blockedWhy(p *plan.Plan) string {
	var msgs []string
	for _, g := range p.Gates {
		if g.Tripped && !g.Forced {
			msgs = append(msgs, g.Name+": "+g.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// pendingExit is the exit of a dry run: 2 when --detailed-exitcode and
// changes are pending.
func pendingExit(c *config, p *plan.Plan) error {
	if c.detailedExitcode && !p.Empty() {
		return withCode(exitPending, nil)
	}
	return nil
}

func runPlan(ctx context.Context, e *env, c *config, _ []string) error {
	return planOnly(ctx, e, c, "plan")
}

func runSync(ctx context.Context, e *env, c *config, _ []string) error {
	if c.dryRun {
		return planOnly(ctx, e, c, "sync-dry-run")
	}
	if c.detailedExitcode {
		return usagef("--detailed-exitcode is for plan and sync --dry-run")
	}
	conc, err := concurrencySetting(c)
	if err != nil {
		return err
	}
	if err := checkReport(c); err != nil {
		return err
	}
	start := time.Now()
	s, err := connect(e, c)
	if err != nil {
		return finishMetrics(ctx, e, c, nil, "sync", start, nil, err)
	}
	defer s.close(ctx, e.log)
	p, err := makePlan(ctx, e, c, s)
	if err != nil {
		return finishMetrics(ctx, e, c, s, "sync", start, nil, err)
	}
	if err := showPlan(e, c, p); err != nil {
		return err
	}
	if err := writeReport(c, p); err != nil {
		return err
	}
	if p.Blocked() {
		err := blockedError(p)
		return finishMetrics(ctx, e, c, s, "sync", start, nil, errors.Join(err, writeResults(c, plan.BlockedResults(p, "not applied: the plan is blocked by "+blockedWhy(p)))))
	}
	res, err := runApply1(ctx, e, c, s, p, conc)
	return finishMetrics(ctx, e, c, s, "sync", start, res, err)
}

// planOnly is plan and sync --dry-run: everything but the write. The one
// write gate of the design: apply.Apply is not called on this path.
func planOnly(ctx context.Context, e *env, c *config, command string) error {
	if err := checkReport(c); err != nil {
		return err
	}
	start := time.Now()
	s, err := connect(e, c)
	if err != nil {
		return finishMetrics(ctx, e, c, nil, command, start, nil, err)
	}
	defer s.close(ctx, e.log)
	p, err := makePlan(ctx, e, c, s)
	if err != nil {
		return finishMetrics(ctx, e, c, s, command, start, nil, err)
	}
	if err := showPlan(e, c, p); err != nil {
		return err
	}
	err = errors.Join(writeReport(c, p), writeResults(c, plan.PlannedResults(p)))
	if c.out != "" && err == nil {
		err = writePlanFile(c.out, p)
		if err == nil {
			e.log.Info().Str("plan", c.out).Int("changes", len(p.Changes)).Msg("plan saved; apply it with: convirza-sync apply " + c.out)
		}
	}
	if err == nil && p.Blocked() {
		err = blockedError(p)
	}
	if err == nil {
		err = pendingExit(c, p)
	}
	return finishMetrics(ctx, e, c, s, command, start, nil, err)
}

func runApply(ctx context.Context, e *env, c *config, args []string) error {
	conc, err := concurrencySetting(c)
	if err != nil {
		return err
	}
	if err := checkReport(c); err != nil {
		return err
	}
	start := time.Now()
	b, err := os.ReadFile(args[0])
	if err != nil {
		return finishMetrics(ctx, e, c, nil, "apply", start, nil, withCode(exitFailed, fmt.Errorf("read the plan: %w", err)))
	}
	p, err := plan.Unmarshal(b)
	if err != nil {
		return finishMetrics(ctx, e, c, nil, "apply", start, nil, withCode(exitFailed, fmt.Errorf("%s: %w", args[0], err)))
	}
	s, err := connect(e, c)
	if err != nil {
		return finishMetrics(ctx, e, c, nil, "apply", start, nil, err)
	}
	defer s.close(ctx, e.log)
	if p.Account.APIURL != "" && p.Account.APIURL != s.apiURL {
		return finishMetrics(ctx, e, c, s, "apply", start, nil,
			withCode(exitFailed, fmt.Errorf("the plan was made for %s, not %s: refusing it, nothing was written", p.Account.APIURL, s.apiURL)))
	}
	cur, err := s.fetch(ctx, e, "id:"+strconv.FormatInt(p.Account.RootID, 10), planNeedsIndustries(p))
	if err != nil {
		return finishMetrics(ctx, e, c, s, "apply", start, nil,
			fmt.Errorf("the plan was made for root group %s; nothing was written: %w", rootName(p.Account), err))
	}
	if err := plan.CheckAccount(p, cur); err != nil {
		return finishMetrics(ctx, e, c, s, "apply", start, nil,
			withCode(exitFailed, fmt.Errorf("the plan was made for another account or root: %w; nothing was written", err)))
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
		return finishMetrics(ctx, e, c, s, "apply", start, nil, withCode(exitFailed, fmt.Errorf(
			"refusing a stale plan, nothing was written: make a fresh plan. %d before-values no longer hold in Convirza:\n  %s",
			len(drifts), strings.Join(lines, "\n  "))))
	}
	if err := writeReport(c, p); err != nil {
		return err
	}
	if p.Blocked() {
		return finishMetrics(ctx, e, c, s, "apply", start, nil, blockedError(p))
	}
	res, err := runApply1(ctx, e, c, s, p, conc)
	return finishMetrics(ctx, e, c, s, "apply", start, res, err)
}

// rootName names a plan's root group for people: its id, and its ext id or
// name when the plan knows them.
func rootName(a plan.Account) string {
	s := strconv.FormatInt(a.RootID, 10)
	switch {
	case a.RootExtID != "":
		s += " (" + a.RootExtID + ")"
	case a.RootName != "":
		s += " (" + a.RootName + ")"
	}
	return s
}

// planNeedsIndustries reports whether a stale check must compare industries.
func planNeedsIndustries(p *plan.Plan) bool {
	for _, ch := range p.Changes {
		if _, ok := ch.Field(plan.FieldIndustryID); ok {
			return true
		}
	}
	return false
}

// concurrencySetting reads --concurrency: auto (0) or a positive number.
func concurrencySetting(c *config) (int, error) {
	if c.concurrency == "" || c.concurrency == "auto" {
		return 0, nil
	}
	n, err := strconv.Atoi(c.concurrency)
	if err != nil || n < 1 {
		return 0, usagef("%s: want auto or a number from 1, got %q", c.ref("concurrency"), c.concurrency)
	}
	return n, nil
}

// runApply1 applies the plan: the only call of apply.Apply. It writes the
// results and the undo plan whatever happened, and maps the outcome to an
// exit code: 0 all done; 3 some failed, blocked or refused, auth lost, or invalid
// rows skipped (--max-invalid); 130 interrupted.
func runApply1(ctx context.Context, e *env, c *config, s *session, p *plan.Plan, conc int) (*apply.Results, error) {
	prog := newProgress(e, len(p.Changes))
	res, err := apply.Apply(ctx, p, apply.ClientRemote(s.client), apply.Options{
		Concurrency: conc, Rate: c.rate, Grace: c.grace, OnResult: prog.add,
	})
	prog.done()
	if res == nil {
		return nil, withCode(exitFailed, err)
	}
	werr := errors.Join(writeResults(c, res.Results), writeResultsReport(c, p, res.Results), writeUndo(e, c, p, res))
	summarize(e, c, s, res)
	counts := res.Counts()
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return res, withCode(exitInterrupt, errors.Join(fmt.Errorf("interrupted: %d changes done, the rest skipped; the results say which", doneCount(counts)), werr))
	case errors.Is(err, convirza.ErrUnauthorized):
		return res, withCode(exitPartial, errors.Join(fmt.Errorf("stopped early, Convirza refused the credentials partway (check %s): %w", s.credVars, err), werr))
	case err != nil:
		return res, withCode(exitPartial, errors.Join(fmt.Errorf("stopped early: %w", err), werr))
	case werr != nil:
		return res, withCode(exitPartial, werr)
	case counts[plan.OutcomeFailed]+counts[plan.OutcomeBlocked]+counts[plan.OutcomeRefused] > 0:
		return res, withCode(exitPartial, fmt.Errorf("%d changes failed, %d were blocked and %d refused; see the results", counts[plan.OutcomeFailed], counts[plan.OutcomeBlocked], counts[plan.OutcomeRefused]))
	case len(p.Invalid) > 0:
		// --max-invalid let invalid rows pass: the rest is applied, but the
		// export is not all in Convirza (DESIGN.md: exit 3).
		return res, withCode(exitPartial, fmt.Errorf("%d invalid export rows were skipped, and deletes were off; see the results", len(p.Invalid)))
	}
	return res, nil
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

// writeUndo writes --undo: a plan that restores what was applied.
func writeUndo(e *env, c *config, p *plan.Plan, res *apply.Results) error {
	if c.undo == "" {
		return nil
	}
	var done []plan.Result
	if res != nil {
		done = res.Results
	}
	if err := writePlanFile(c.undo, plan.Undo(p, done)); err != nil {
		return fmt.Errorf("write the undo plan: %w", err)
	}
	e.log.Info().Str("undo", c.undo).Msg("undo plan written; deletes cannot be undone and are listed in it as refused")
	return nil
}

// summarize prints the final summary: counts by action and outcome, API
// calls, retries and wall time.
func summarize(e *env, c *config, s *session, res *apply.Results) {
	byKey := map[string]int{}
	for _, r := range res.Results {
		byKey[string(r.Kind)+" "+actionWord(r.Action)+" "+string(r.Outcome)]++
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	st := s.client.Stats()
	if c.output == "json" {
		ev := e.log.Info().Int64("api_calls", st.Calls).Int64("retries", st.Retries).Int64("rate_limited", st.RateLimited).
			Dur("wall", res.Elapsed).Int("concurrency", res.Concurrency.Limit)
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

func actionWord(a plan.Action) string {
	if a == plan.NoOp {
		return "row"
	}
	return a.String()
}

// finishMetrics writes --metrics-file and pushes --pushgateway, whatever the
// outcome, then returns err. s is nil when the run could not connect.
func finishMetrics(ctx context.Context, e *env, c *config, s *session, command string, start time.Time, res *apply.Results, err error) error {
	if exitCode(err) == exitFailed {
		writeFailure(e, c, err)
	}
	if c.metricsFile == "" && c.pushgateway == "" {
		return err
	}
	var st convirza.Stats
	if s != nil { // nil when the run failed before it could connect
		st = s.client.Stats()
	}
	run := metrics.Run{Command: command, Start: start, End: time.Now(), Success: exitCode(err) == exitOK || exitCode(err) == exitPending,
		Calls: map[int]int{}, Retries: int(st.Retries), RateLimited: int(st.RateLimited)}
	for code, n := range st.ByStatus {
		run.Calls[code] = int(n)
	}
	if res != nil {
		agg := map[metrics.ChangeCount]int{}
		for _, r := range res.Results {
			agg[metrics.ChangeCount{Kind: string(r.Kind), Action: actionWord(r.Action), Outcome: string(r.Outcome)}]++
		}
		for k, n := range agg {
			k.N = n
			run.Changes = append(run.Changes, k)
		}
	}
	if c.metricsFile != "" {
		if merr := metrics.WriteFile(c.metricsFile, run); merr != nil {
			e.log.Error().Err(merr).Msg("could not write the metrics file")
		}
	}
	if c.pushgateway != "" {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if perr := metrics.Push(pctx, c.pushgateway, "convirza-sync", run); perr != nil {
			e.log.Error().Err(perr).Msg("could not push metrics")
		}
	}
	return err
}

// writeFailure writes the report and the results asked for by a run that
// failed before any write, when the run did not get as far as writing
// them: the report says why, the results hold only their header (there is
// no change to account for).
func writeFailure(e *env, c *config, err error) {
	for _, path := range reportPaths(c.report) {
		if c.wrote.report {
			break
		}
		if render, rerr := report.Failure(path, errorMessage(err)); rerr == nil {
			if werr := report.WriteFile(path, render); werr != nil {
				e.log.Error().Err(werr).Msg("could not write the report")
			}
		}
	}
	if c.results != "" && !c.wrote.results {
		if werr := writeResults(c, nil); werr != nil {
			e.log.Error().Err(werr).Msg("could not write the results")
		}
	}
}
