package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/plan"
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
		return nil, err
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
	return err
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
		Int("minimum_calls", st.Formula).Int64("took_ms", st.Duration.Milliseconds()).Int64("root_id", cur.RootID).Msg("read Convirza")
	if cur.CallerUserID == 0 {
		// A static token names no user: ask who it is, so that the caller's
		// own user is never written (the planner refuses it, and so does
		// apply's scope check). One GET; an API without the profile
		// endpoint leaves the caller unknown, as before.
		if prof, _, perr := s.client.Profile(ctx); perr == nil && prof.UserID != 0 {
			cur.CallerUserID = prof.UserID
		} else if perr != nil {
			e.log.Debug().Err(perr).Msg("the caller's profile could not be read: the caller's own user is protected only when the plan names it")
		}
	}
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
	m, err := readMapping(c)
	if err != nil {
		return nil, err
	}
	ds, err := mapping.Load(loadOptions(c, m, rootExt))
	if err != nil {
		if ds != nil {
			showProblems(e, c, ds.Invalid, planFullList)
		}
		return nil, err
	}
	return ds, nil
}

// readMapping reads --mapping, from the input files (the demo's embedded
// examples) or the file system; nil when none is given.
func readMapping(c *config) (*mapping.Mapping, error) {
	switch {
	case c.mapping == "":
		return nil, nil
	case c.inputFS != nil:
		return mapping.ReadMapping(c.inputFS, c.mapping)
	}
	return mapping.LoadMapping(c.mapping)
}

// loadOptions are the settings the export is loaded with, by plan, sync
// and validate alike.
func loadOptions(c *config, m *mapping.Mapping, rootExt string) mapping.LoadOptions {
	return mapping.LoadOptions{
		GroupsPath: c.groups, UsersPath: c.users, Format: c.inputFormat, Mapping: m, RootExtID: rootExt, FS: c.inputFS,
		Encoding: c.encoding, Delimiter: c.delimiter, Sheet: c.sheet,
	}
}

// planFullList says where plan and sync list every row problem.
const planFullList = "all of them in --report FILE and --results FILE"

// needsIndustries reports whether any row names an industry by name.
func needsIndustries(ds *state.DesiredState) bool {
	return slices.ContainsFunc(ds.Groups, func(g state.DesiredGroup) bool { return g.Industry != nil })
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
	showProblems(e, c, ds.Warnings, planFullList)
	opts.Account = plan.Account{APIURL: s.apiURL}
	opts.PhoneRegion = ds.PhoneRegion // the mapping's phone_region, read once by the loader
	p, err := plan.Calculate(ds, cur, opts)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	showProblems(e, c, p.Invalid, planFullList)
	if err := checkSomethingValid(ds, p); err != nil {
		return nil, err
	}
	// The digest every report shows; the plan file carries it too, and a
	// signature when a plan key is set (writePlanFile).
	if err := plan.Seal(p, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// checkSomethingValid refuses a plan whose every row is invalid: with no
// valid row the export is empty, and an empty export is always an error
// (DESIGN.md), --max-invalid and --force notwithstanding.
func checkSomethingValid(ds *state.DesiredState, p *plan.Plan) error {
	if len(p.Invalid) == 0 {
		return nil
	}
	rows := len(ds.Groups) + len(ds.Users) + mapping.Problems(ds).InvalidRows
	bad := mapping.Problems(&state.DesiredState{Invalid: p.Invalid}).InvalidRows
	if bad < rows {
		return nil
	}
	return fmt.Errorf("every one of the export's %d rows is invalid, so nothing of it can be synced: an empty export is always an error, nothing was written", rows)
}
