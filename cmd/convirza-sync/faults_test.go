package main

// The fault matrix: every fault of the sandbox (and a few the test adds
// around it) against every invariant, through the built binary.
//
// Cells are faults × seeds. In every cell:
//   - no ext id, sibling name or email is there twice in the sandbox;
//   - the sync converges in at most two runs: after them, a fresh plan
//     (faults off) is empty and writes nothing;
//   - each run's results file has one row per change of the plan made on the
//     same state just before it, every write the sandbox carried out belongs
//     to a row, and every row said done is true in the sandbox;
//   - the exit code agrees with the results: 0 iff every row is done, 3 iff
//     some row failed, was blocked or was refused, 130 after SIGTERM;
//   - nothing is deleted that must survive: a group or user that no change
//     of the run's plan deletes (or deactivates) is not deleted after it.
//
// Every cell runs twice: against the sandbox's default deletes, and against
// the older backend's cascading deletes (DeleteSemantics cascade).
//
// The short matrix (one seed per fault, the example export) runs by default.
// The full one (several seeds, a bigger export) runs with -matrix.full or
// CONVIRZA_SYNC_FULL_MATRIX=1:
//
//	go test ./cmd/convirza-sync -run TestFaultMatrix -v
//	CONVIRZA_SYNC_FULL_MATRIX=1 go test ./cmd/convirza-sync -run TestFaultMatrix -v -timeout 30m

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/examples"
	"github.com/convirza-sync/convirza-sync/sync/apply"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

var matrixFullFlag = flag.Bool("matrix.full", false, "run the full fault matrix: several seeds per fault and a bigger export")

// matrixFull reports whether the full matrix was asked for.
func matrixFull() bool {
	return *matrixFullFlag || os.Getenv("CONVIRZA_SYNC_FULL_MATRIX") == "1"
}

// loginEmail is the login of the cells that need email and password: it
// names no user of the account, so the sandbox makes it the top group's admin.
const loginEmail = "ops@northwind-dental.example"

// tokenLife is the token expiry cell's token life in calls: four times the
// most changes the apply has in flight at once. The client renews a call's
// token once; when the new token dies too before the call's retry reaches
// the server (other calls used it up meanwhile), the run stops on
// ErrUnauthorized (exit 3, most rows skipped). With a life of 40 calls that
// happened in every seed of the full matrix, and with 2 × MaxAutoConcurrency
// at --rate 1000 in about one short run in fifteen; at 4 × and --rate 300,
// the retry would have to wait behind 256 calls, most of a second.
const tokenLife = 4 * apply.MaxAutoConcurrency

// cell is one fault with one seed: a world whose sandbox can be restarted,
// and what the cell measured.
type cell struct {
	t    *testing.T
	w    *world
	seed uint64
	rng  *rand.Rand
	// opts are the sandbox options, kept for a restart.
	opts convirzatest.Options
	// oldCalls are the calls logged by sandboxes that were restarted since.
	oldCalls []convirzatest.Call
	// front, when set, is a server in front of the sandbox (the env points at it).
	front *httptest.Server
	// seen counts the fault's occurrences (429s, 5xx, drops, 401s, ...).
	seen atomic.Int64
	// note says what happened, for the table.
	note string
}

// faultSpec is one row of the matrix.
type faultSpec struct {
	name string
	// login runs with email and password instead of the static token.
	login bool
	// clean says run 1 must exit 0: the client rides the fault out.
	clean bool
	// persistent faults stay on for run 2; one-off events (a signal, a
	// restart) happen in run 1 only.
	persistent bool
	// sigterm: run 1 is interrupted, and must exit 130.
	sigterm bool
	// extra grows the export by that many groups and users in short mode
	// (a rare fault needs calls to show).
	extra int
	// setup runs once, before anything (a front server, login limits).
	setup func(c *cell)
	// on and off switch the fault for a run, and for the checking plans.
	on, off func(c *cell)
	// during runs beside run 1 until it ends (done is closed then).
	during func(c *cell, p *bgRun, planned int)
	// seenWhat names what seen counts, for the table.
	seenWhat string
}

// TestFaultMatrix runs every fault against every invariant and prints the
// matrix. See the top of this file.
func TestFaultMatrix(t *testing.T) {
	full := matrixFull()
	seeds := []uint64{1}
	extra := 0
	stormRPS := 30.0
	if full {
		seeds = []uint64{1, 2, 3, 4}
		extra = 200
		stormRPS = 100
	}
	specs := faultSpecs(stormRPS)

	var (
		mu   sync.Mutex
		rows []matrixRow
	)
	start := time.Now()
	t.Run("cells", func(t *testing.T) {
		for _, ds := range []convirzatest.DeleteSemantics{convirzatest.DeleteRefuse, convirzatest.DeleteCascade} {
			for _, spec := range specs {
				for _, seed := range seeds {
					t.Run(fmt.Sprintf("%s/%s/seed=%d", ds, strings.ReplaceAll(spec.name, " ", "_"), seed), func(t *testing.T) {
						t.Parallel()
						n := extra
						if n == 0 {
							n = spec.extra
						}
						row := runCell(t, spec, ds, seed, n)
						mu.Lock()
						rows = append(rows, row)
						mu.Unlock()
					})
				}
			}
		}
	})
	mode := "short"
	if full {
		mode = "full"
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].order != rows[j].order {
			return rows[i].order < rows[j].order
		}
		if rows[i].deletes != rows[j].deletes {
			return rows[i].deletes > rows[j].deletes // refuse first
		}
		return rows[i].seed < rows[j].seed
	})
	var b strings.Builder
	fmt.Fprintf(&b, "fault matrix (%s, %d cells, %v wall):\n", mode, len(rows), time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(&b, "| fault | deletes | seed | changes | runs to converge | exit codes | writes | retries | rows done/failed/blocked/skipped | fault seen | duplicates | time |\n")
	fmt.Fprintf(&b, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %d | %v |\n",
			r.fault, r.deletes, r.seed, r.changes, r.runs, r.exits, r.writes, r.retries, r.outcomes, r.seen, r.dups, r.took.Round(100*time.Millisecond))
	}
	t.Log("\n" + b.String())
}

// summaryRetries reads the retries off the summary line a sync prints.
var summaryRetries = regexp.MustCompile(`API calls \((\d+) retries`)

// matrixRow is one line of the printed table.
type matrixRow struct {
	order                         int
	fault                         string
	deletes                       convirzatest.DeleteSemantics
	seed                          uint64
	changes                       int
	runs, exits, writes, outcomes string
	retries                       string
	seen                          string
	dups                          int
	took                          time.Duration
}

func faultSpecs(stormRPS float64) []faultSpec {
	return []faultSpec{
		{
			name: "429 storm, Retry-After", clean: true, persistent: true, seenWhat: "429s",
			on:  func(c *cell) { c.w.srv.SetRateLimit(stormRPS, int(stormRPS)) },
			off: func(c *cell) { c.w.srv.SetRateLimit(0, 0) },
		},
		{
			name: "429 storm, no Retry-After", persistent: true, seenWhat: "429s sent without Retry-After",
			setup: func(c *cell) { c.frontStrippingRetryAfter() },
			on:    func(c *cell) { c.w.srv.SetRateLimit(stormRPS, int(stormRPS)) },
			off:   func(c *cell) { c.w.srv.SetRateLimit(0, 0) },
		},
		{
			name: "1% 5xx", persistent: true, extra: 150, seenWhat: "5xx",
			on:  func(c *cell) { c.w.srv.SetFailRate(0.01) },
			off: func(c *cell) { c.w.srv.SetFailRate(0) },
		},
		{
			name: "10% 5xx", persistent: true, seenWhat: "5xx",
			on:  func(c *cell) { c.w.srv.SetFailRate(0.10) },
			off: func(c *cell) { c.w.srv.SetFailRate(0) },
		},
		{
			name: "latency spikes", clean: true, persistent: true, seenWhat: "latency switches",
			during: func(c *cell, p *bgRun, _ int) { c.latencySpikes(p) },
			off:    func(c *cell) { c.w.srv.SetLatency(0) },
		},
		{
			name: "ambiguous creates", clean: true, persistent: true, seenWhat: "creates dropped",
			on:  func(c *cell) { c.w.srv.SetAmbiguousRate(0.3) },
			off: func(c *cell) { c.w.srv.SetAmbiguousRate(0) },
		},
		{
			// Tokens die after tokenLife calls, at --rate 300: a call whose
			// 401 comes back is renewed once, and its retry must find the
			// new token alive, so the token must outlive every call sent
			// between the two (see tokenLife). It needs the grown export
			// for the tokens to die more than once.
			name: "token expiry", login: true, clean: true, persistent: true, extra: 250, seenWhat: "401s",
			setup: func(c *cell) {
				c.w.srv.SetLoginLimit(-1)
				c.w.env["CONVIRZA_SYNC_RATE"] = "300"
			},
			on:  func(c *cell) { c.w.srv.SetExpireAfter(tokenLife) },
			off: func(c *cell) { c.w.srv.SetExpireAfter(0) },
		},
		{
			name: "SIGTERM", sigterm: true, seenWhat: "SIGTERM sent",
			on:     func(c *cell) { c.w.srv.SetLatency(10 * time.Millisecond) },
			off:    func(c *cell) { c.w.srv.SetLatency(0) },
			during: func(c *cell, p *bgRun, planned int) { c.sigtermAtRandom(p, planned) },
		},
		{
			name: "sandbox restart", login: true, seenWhat: "restart",
			setup:  func(c *cell) { c.w.srv.SetLoginLimit(-1) },
			on:     func(c *cell) { c.w.srv.SetLatency(restartLatency) },
			off:    func(c *cell) { c.w.srv.SetLatency(0) },
			during: func(c *cell, p *bgRun, planned int) { c.restartAtRandom(p, planned) },
		},
	}
}

// runCell runs one cell: plan, run 1 under the fault, and run 2 when the
// state has not converged, checking the invariants after each.
func runCell(t *testing.T, spec faultSpec, ds convirzatest.DeleteSemantics, seed uint64, extra int) matrixRow {
	started := time.Now()
	c := newCell(t, seed, spec.name, ds, extra)
	if spec.login {
		delete(c.w.env, "CONVIRZA_TOKEN")
		c.w.env["CONVIRZA_EMAIL"] = loginEmail
		c.w.env["CONVIRZA_PASSWORD"] = convirzatest.Password
	}
	if spec.setup != nil {
		spec.setup(c)
	}
	row := matrixRow{fault: spec.name, deletes: ds, seed: seed}
	for i, s := range faultSpecs(0) {
		if s.name == spec.name {
			row.order = i
		}
	}
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	var exits, writes, outcomes, retries []string

	converged := 0
	for run := 1; run <= 2; run++ {
		// The plan of this run, made on the same state with the fault off.
		planName := fmt.Sprintf("plan%d.json", run)
		pr := c.w.run(append([]string{"plan", "--detailed-exitcode", "--out", planName}, args...)...)
		if pr.code == 0 {
			converged = run - 1
			break
		}
		if pr.code != 2 {
			t.Fatalf("run %d: the plan before it: want exit 0 or 2\n%s", run, pr)
		}
		p := c.w.readPlan(planName)
		if run == 1 {
			row.changes = len(p.Changes)
		}

		if spec.on != nil && (run == 1 || spec.persistent) {
			spec.on(c)
		}
		resultsName := fmt.Sprintf("results%d.csv", run)
		before := c.w.srv.Snapshot()
		m := len(c.calls())
		bg := c.start(append([]string{"sync", "--results", resultsName}, args...)...)
		if run == 1 && spec.during != nil {
			spec.during(c, bg, len(p.Changes))
		}
		r := bg.wait(t, 90*time.Second)
		c.w.checkNoSecrets(r)
		if spec.off != nil {
			spec.off(c)
		}
		calls := c.calls()[m:]
		c.countSeen(spec, calls)
		after := c.w.srv.Snapshot()
		applied := appliedWrites(calls)

		exits = append(exits, strconv.Itoa(r.code))
		retries = append(retries, "?")
		if m := summaryRetries.FindStringSubmatch(r.stdout); m != nil {
			retries[len(retries)-1] = m[1]
		}
		writes = append(writes, strconv.Itoa(len(applied)))
		t.Logf("run %d: exit %d in %v, %d changes planned, %d writes applied", run, r.code, r.took.Round(time.Millisecond), len(p.Changes), len(applied))

		// The exit code.
		want := []int{0, 3}
		switch {
		case run == 1 && spec.sigterm:
			want = []int{130}
		case run == 1 && spec.clean:
			want = []int{0}
		}
		if !containsInt(want, r.code) {
			t.Errorf("run %d: exit %d, want one of %v\n%s", run, r.code, want, r)
		}

		// The results.
		rows, ok := c.readResultsIfAny(resultsName)
		switch {
		case !ok && spec.sigterm && run == 1:
			// Interrupted before the plan: nothing may have been written.
			if len(applied) != 0 {
				t.Errorf("run %d: interrupted before any results, yet %d writes were applied:\n%s", run, len(applied), describeCalls(applied))
			}
			outcomes = append(outcomes, "none (interrupted while reading)")
		case !ok:
			t.Errorf("run %d: no results file\n%s", run, r)
		default:
			if got, want := rowKeys(rows), changeKeys(p); !cmp.Equal(got, want) {
				t.Errorf("run %d: the results are not one row per planned change (-results +plan):\n%s", run, cmp.Diff(got, want))
			}
			checkExitAgrees(t, run, r.code, rows)
			checkRowsTrue(t, run, rows, after, ds == convirzatest.DeleteCascade)
			checkWritesAccounted(t, run, rows, applied, after)
			outcomes = append(outcomes, outcomeSummary(rows))
			for _, row := range rows {
				if row.Outcome == "failed" || row.Outcome == "blocked" || row.Outcome == "refused" {
					t.Logf("run %d: %s %s %s: %s (HTTP %s): %s", run, row.Kind, row.Action, row.Key, row.Outcome, row.Status, row.Message)
				}
			}
		}
		checkNothingLost(t, run, p, before, after)
		dups := countDuplicates(t, after)
		row.dups += dups
		converged = run
	}
	if converged == 2 {
		// Two runs made; the third plan must be empty.
		mk := len(c.calls())
		pr := c.w.run(append([]string{"plan", "--detailed-exitcode"}, args...)...)
		if pr.code != 0 {
			t.Errorf("not converged after two runs: a fresh plan exits %d\n%s", pr.code, pr)
			row.runs = ">2"
		}
		if ws := appliedOrNot(c.calls()[mk:]); len(ws) != 0 {
			t.Errorf("the final plan made %d writes", len(ws))
		}
	}
	if row.runs == "" {
		row.runs = strconv.Itoa(converged)
	}
	if converged == 0 && row.changes == 0 {
		t.Fatal("the first plan is empty: the cell tests nothing")
	}
	if c.seen.Load() == 0 {
		t.Errorf("the fault never happened (%s: 0): the cell tests nothing", spec.seenWhat)
	}
	row.exits = strings.Join(exits, ",")
	row.writes = strings.Join(writes, "+")
	row.retries = strings.Join(retries, "+")
	row.outcomes = strings.Join(outcomes, "; ")
	row.seen = fmt.Sprintf("%d %s", c.seen.Load(), spec.seenWhat)
	if c.note != "" {
		row.seen += " (" + c.note + ")"
	}
	row.took = time.Since(started)
	return row
}

// newCell makes a world for one cell: the example account in a sandbox
// that keeps every call, seeded for the fault, and the example export grown
// by extra groups and users.
func newCell(t *testing.T, seed uint64, fault string, ds convirzatest.DeleteSemantics, extra int) *cell {
	t.Helper()
	opts := convirzatest.Options{CallLogLimit: -1, Seed: int64(seed), DeleteSemantics: ds}
	sb, err := convirzatest.NewFromState(exampleState(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, srv: srv, dir: t.TempDir()}
	w.env = map[string]string{
		"CONVIRZA_API_URL":   srv.APIURL(),
		"CONVIRZA_AUTH_URL":  srv.AuthURL(),
		"CONVIRZA_TOKEN":     sb.Token(),
		"CONVIRZA_SYNC_RATE": "1000",
	}
	w.secrets = []string{sb.Token()}
	w.writeExamples()
	c := &cell{t: t, w: w, seed: seed, opts: opts, rng: rand.New(rand.NewPCG(seed, hashString(fault)))}
	// The current server, whichever it is after restarts, is closed last.
	t.Cleanup(func() { c.w.srv.Close() })
	if extra > 0 {
		growExport(t, w, extra)
	}
	return c
}

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// growExport appends n groups (each under one of the export's level-3
// clinics, so the tree gets a fourth level) and n users in them.
func growExport(t *testing.T, w *world, n int) {
	t.Helper()
	groups := readCSV(t, w.read(examples.Groups))
	head := groups[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var clinics [][]string
	for _, r := range groups[1:] {
		if r[col["Industry"]] == "Dental Practice" {
			clinics = append(clinics, r)
		}
	}
	if len(clinics) == 0 {
		t.Fatal("the example export has no clinic to grow under")
	}
	users := readCSV(t, w.read(examples.Users))
	for i := 0; i < n; i++ {
		parent := clinics[i%len(clinics)]
		r := append([]string(nil), parent...)
		ext := fmt.Sprintf("GEN%05d", i)
		r[col["Account ID"]] = ext
		r[col["Account Name"]] = fmt.Sprintf("%s Annex %d", parent[col["Account Name"]], i)
		r[col["Parent Account ID"]] = parent[col["Account ID"]]
		groups = append(groups, r)
		users = append(users, []string{fmt.Sprintf("gen%05d@northwind-dental.example", i), "Gen", fmt.Sprintf("User %d", i), "Standard", ext, fmt.Sprintf("G%05d", i)})
	}
	w.write(examples.Groups, writeCSV(t, groups))
	w.write(examples.Users, writeCSV(t, users))
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func writeCSV(t *testing.T, recs [][]string) string {
	t.Helper()
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// calls returns every call of the cell's sandboxes, restarts included.
func (c *cell) calls() []convirzatest.Call {
	return append(append([]convirzatest.Call(nil), c.oldCalls...), c.w.srv.Calls()...)
}

// countSeen counts the fault's occurrences among a run's calls.
func (c *cell) countSeen(spec faultSpec, calls []convirzatest.Call) {
	var n int64
	for _, cl := range calls {
		switch spec.seenWhat {
		case "429s":
			if cl.Status == http.StatusTooManyRequests {
				n++
			}
		case "5xx":
			if cl.Status >= 500 {
				n++
			}
		case "creates dropped":
			if cl.Dropped {
				n++
			}
		case "401s":
			if cl.Status == http.StatusUnauthorized {
				n++
			}
		}
	}
	c.seen.Add(n)
}

// frontStrippingRetryAfter serves the sandbox through a server that drops
// Retry-After from every 429 (the sandbox always sends it).
func (c *cell) frontStrippingRetryAfter() {
	h := c.w.srv.Handler()
	c.front = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&stripRetryAfter{ResponseWriter: rw, n: &c.seen}, r)
	}))
	c.t.Cleanup(c.front.Close)
	c.w.env["CONVIRZA_API_URL"], c.w.env["CONVIRZA_AUTH_URL"] = c.front.URL+"/v3", c.front.URL
}

type stripRetryAfter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (s *stripRetryAfter) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		s.Header().Del("Retry-After")
		s.n.Add(1)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *stripRetryAfter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// latencySpikes switches the sandbox's latency between none and spikes of
// up to 250 ms, at seeded moments, until the run ends.
func (c *cell) latencySpikes(p *bgRun) {
	levels := []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond}
	for {
		d := levels[c.rng.IntN(len(levels))]
		c.w.srv.SetLatency(d)
		c.seen.Add(1)
		select {
		case <-p.done:
			return
		case <-time.After(time.Duration(10+c.rng.IntN(40)) * time.Millisecond):
		}
	}
}

// sigtermAtRandom sends SIGTERM at a seeded point: after a random number
// of writes of the apply, or, for every fourth seed, after the first call
// (while reading).
func (c *cell) sigtermAtRandom(p *bgRun, planned int) {
	m := len(c.calls())
	k := 0 // while reading
	if c.seed%4 != 0 {
		k = 1 + c.rng.IntN(max(planned-8, 1))
	}
	if !p.waitFor(func() bool {
		calls := c.calls()[m:]
		if k == 0 {
			return len(calls) > 0
		}
		return len(appliedOrNot(calls)) >= k
	}) {
		c.t.Errorf("the run ended before the SIGTERM point (%d writes)", k)
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Errorf("SIGTERM: %v", err)
		return
	}
	c.seen.Add(1)
	c.note = fmt.Sprintf("at >= %d writes", k)
	if k == 0 {
		c.note = "while reading"
	}
}

// restartLatency is the sandbox's latency in the restart cell, so that
// calls are in flight when it goes down.
const restartLatency = 20 * time.Millisecond

// restartAtRandom restarts the sandbox with its state kept, on the same
// address, after a seeded number of writes: the server closes (connections
// cut, in-flight handlers finish), its state is saved and loaded into a new
// sandbox (whose tokens are new: a real restart may lose sessions too), and
// a new server listens on the same address after a seeded pause.
func (c *cell) restartAtRandom(p *bgRun, planned int) {
	m := len(c.calls())
	k := 1 + c.rng.IntN(max(planned/2, 1))
	pause := time.Duration(0)
	if matrixFull() {
		pause = time.Duration(c.rng.IntN(100)) * time.Millisecond
	}
	if !p.waitFor(func() bool { return len(appliedOrNot(c.calls()[m:])) >= k }) {
		c.t.Errorf("the run ended before the restart point (%d writes)", k)
		return
	}
	old := c.w.srv
	addr := old.Listener.Addr().String()
	old.Close()
	cut, postsCut := 0, 0
	for _, cl := range old.Calls()[max(m-len(c.oldCalls), 0):] {
		if cl.Status == 0 && !cl.Dropped {
			cut++
			if cl.Method == http.MethodPost {
				postsCut++
			}
		}
	}
	var buf bytes.Buffer
	if err := old.SaveState(&buf); err != nil {
		c.t.Fatal(err)
	}
	c.oldCalls = append(c.oldCalls, old.Calls()...)
	st, err := convirzatest.ReadState(&buf)
	if err != nil {
		c.t.Fatal(err)
	}
	opts := c.opts
	opts.LoginLimit = -1
	opts.Latency = restartLatency
	sb, err := convirzatest.NewFromState(st, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	time.Sleep(pause)
	var srv *convirzatest.Server
	for i := 0; ; i++ {
		if srv, err = convirzatest.StartServer(sb, addr); err == nil {
			break
		}
		if i == 50 {
			c.t.Fatalf("restart the sandbox on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.w.srv = srv
	c.w.secrets = append(c.w.secrets, sb.Token())
	c.seen.Add(1)
	c.note = fmt.Sprintf("at >= %d writes, down %v, %d calls cut (%d creates)", k, pause, cut, postsCut)
}

// bgRun is the binary running in the background.
type bgRun struct {
	cmd       *exec.Cmd
	out, errb bytes.Buffer
	done      chan struct{}
	started   time.Time
}

// start starts the binary in the cell's directory with its environment.
func (c *cell) start(args ...string) *bgRun {
	c.t.Helper()
	p := &bgRun{cmd: exec.Command(binPath, args...), done: make(chan struct{})}
	p.cmd.Dir = c.w.dir
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.w.dir}
	for k, v := range c.w.env {
		if v != "" {
			p.cmd.Env = append(p.cmd.Env, k+"="+v)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errb
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor polls cond until it holds (true), or the run ends (false).
func (p *bgRun) waitFor(cond func() bool) bool {
	for !cond() {
		select {
		case <-p.done:
			return cond()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

// wait waits for the run to end, killing it after limit.
func (p *bgRun) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("still running after %v\n%s", limit, clip(p.errb.String()))
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.out.String(), stderr: p.errb.String(), took: time.Since(p.started)}
}

// readResultsIfAny reads a results file, or says there is none.
func (c *cell) readResultsIfAny(name string) ([]resultRow, bool) {
	if _, err := os.Stat(c.w.path(name)); errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	return c.w.readResults(name), true
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// appliedWrites are the writes the sandbox carried out.
func appliedWrites(calls []convirzatest.Call) []convirzatest.Call {
	var out []convirzatest.Call
	for _, c := range calls {
		if c.Applied() {
			out = append(out, c)
		}
	}
	return out
}

// appliedOrNot are the writes that reached the sandbox, whatever the answer.
func appliedOrNot(calls []convirzatest.Call) []convirzatest.Call {
	var out []convirzatest.Call
	for _, c := range calls {
		if c.IsWrite() {
			out = append(out, c)
		}
	}
	return out
}

// checkExitAgrees: 0 iff every row is done; 3 iff some row failed, was
// blocked or refused; 130 (interrupted) leaves rows skipped.
func checkExitAgrees(t *testing.T, run, code int, rows []resultRow) {
	t.Helper()
	allDone, failedOrBlocked := true, false
	for _, r := range rows {
		if r.Outcome != doneOutcome[r.Action] {
			allDone = false
		}
		if r.Outcome == "failed" || r.Outcome == "blocked" || r.Outcome == "refused" {
			failedOrBlocked = true
		}
	}
	switch code {
	case 0:
		if !allDone {
			t.Errorf("run %d: exit 0, but not every row is done: %s", run, outcomeSummary(rows))
		}
	case 3:
		if !failedOrBlocked {
			t.Errorf("run %d: exit 3, but no row failed, was blocked or refused: %s", run, outcomeSummary(rows))
		}
	case 130:
		if allDone {
			t.Logf("run %d: exit 130 with every row done (the signal came as the last writes ended)", run)
		}
	default:
		t.Errorf("run %d: exit %d after an apply", run, code)
	}
	if code != 130 && !allDone != (code == 3) {
		t.Errorf("run %d: exit %d, and the results: %s", run, code, outcomeSummary(rows))
	}
}

func outcomeSummary(rows []resultRow) string {
	var done, failed, blocked, skipped, other int
	for _, r := range rows {
		switch r.Outcome {
		case doneOutcome[r.Action]:
			done++
		case "failed":
			failed++
		case "blocked":
			blocked++
		case "skipped":
			skipped++
		default:
			other++
		}
	}
	s := fmt.Sprintf("%d/%d/%d/%d", done, failed, blocked, skipped)
	if other > 0 {
		s += fmt.Sprintf(" +%d other", other)
	}
	return s
}

// checkRowsTrue: every row said done holds in the sandbox after the run.
// Under cascading deletes, a user deactivated by the run may have gone with
// its group's delete since.
func checkRowsTrue(t *testing.T, run int, rows []resultRow, after convirzatest.State, cascade bool) {
	t.Helper()
	groups := map[string]convirzatest.Group{}
	for _, g := range after.Groups {
		groups[idStr(g.ID)] = g
	}
	users := map[string]convirzatest.User{}
	for _, u := range after.Users {
		users[idStr(u.ID)] = u
	}
	for _, r := range rows {
		if r.Outcome != doneOutcome[r.Action] {
			continue
		}
		var status state.Status
		var keys []string
		switch r.Kind {
		case "group":
			g, ok := groups[r.ID]
			if !ok {
				t.Errorf("run %d: row %+v is done, but group %q does not exist", run, r, r.ID)
				continue
			}
			status, keys = g.Status, []string{g.ExtID}
		case "user":
			u, ok := users[r.ID]
			if !ok {
				t.Errorf("run %d: row %+v is done, but user %q does not exist", run, r, r.ID)
				continue
			}
			status, keys = u.Status, []string{u.Email, u.ExtID}
		default:
			t.Errorf("run %d: row %+v: unknown kind", run, r)
			continue
		}
		switch r.Action {
		case "delete":
			if status != state.StatusDeleted {
				t.Errorf("run %d: row %+v is done, but the %s is %s", run, r, r.Kind, status)
			}
		case "deactivate":
			if status != state.StatusInactive && !(cascade && status == state.StatusDeleted) {
				t.Errorf("run %d: row %+v is done, but the %s is %s", run, r, r.Kind, status)
			}
		default:
			if status == state.StatusDeleted {
				t.Errorf("run %d: row %+v is done, but the %s is deleted", run, r, r.Kind)
			}
			match := false
			for _, k := range keys {
				if k != "" && strings.EqualFold(k, r.Key) {
					match = true
				}
			}
			if !match {
				t.Errorf("run %d: row %+v is done, but %s %s has keys %q", run, r, r.Kind, r.ID, keys)
			}
		}
	}
}

// checkWritesAccounted: every write the sandbox carried out belongs to a row
// of the results: a PATCH or DELETE to an object a row names by id, a create
// of a key a row names.
func checkWritesAccounted(t *testing.T, run int, rows []resultRow, applied []convirzatest.Call, after convirzatest.State) {
	t.Helper()
	ids, keys := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.ID != "" {
			ids[r.Kind+"/"+r.ID] = true
		}
		keys[r.Kind+"/"+strings.ToLower(r.Key)] = true
	}
	for _, c := range applied {
		parts := strings.Split(strings.TrimPrefix(c.Path, "/v3/"), "/")
		kind := strings.TrimSuffix(parts[0], "s")
		if kind != "group" && kind != "user" {
			t.Errorf("run %d: a write to %s %s", run, c.Method, c.Path)
			continue
		}
		if c.Method == http.MethodPost {
			body, err := decodeBody(c.Body)
			if err != nil {
				t.Errorf("run %d: POST %s: body %s: %v", run, c.Path, c.Body, err)
				continue
			}
			key := body["org_unit_ext_id"]
			if kind == "user" {
				key = body["username"]
				if !keys["user/"+strings.ToLower(key)] && body["user_ext_id"] != "" {
					key = body["user_ext_id"]
				}
			}
			if !keys[kind+"/"+strings.ToLower(key)] {
				t.Errorf("run %d: POST %s of %q is in no row of the results", run, c.Path, key)
			}
			continue
		}
		if len(parts) != 2 || !ids[kind+"/"+parts[1]] {
			t.Errorf("run %d: %s %s is in no row of the results", run, c.Method, c.Path)
		}
	}
}

// checkNothingLost: every group and user that was not deleted before the
// run, and that no change of the run's plan deletes or deactivates, is not
// deleted after it.
func checkNothingLost(t *testing.T, run int, p *plan.Plan, before, after convirzatest.State) {
	t.Helper()
	planned := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == plan.Delete || c.Action == plan.Deactivate {
			planned[string(c.Kind)+"/"+idStr(c.ObjectID)] = true
		}
	}
	gone := map[string]bool{}
	for _, g := range after.Groups {
		if g.Status == state.StatusDeleted {
			gone["group/"+idStr(g.ID)] = true
		}
	}
	for _, u := range after.Users {
		if u.Status == state.StatusDeleted {
			gone["user/"+idStr(u.ID)] = true
		}
	}
	for _, g := range before.Groups {
		if k := "group/" + idStr(g.ID); g.Status != state.StatusDeleted && !planned[k] && gone[k] {
			t.Errorf("run %d: group %d (%q, ext id %q) was deleted, and no change of the plan deletes it", run, g.ID, g.Name, g.ExtID)
		}
	}
	for _, u := range before.Users {
		if k := "user/" + idStr(u.ID); u.Status != state.StatusDeleted && !planned[k] && gone[k] {
			t.Errorf("run %d: user %d (%s) was deleted, and no change of the plan deletes or deactivates it", run, u.ID, u.Email)
		}
	}
}

// countDuplicates runs checkNoDuplicates and returns how many duplicates it
// found.
func countDuplicates(t *testing.T, st convirzatest.State) int {
	t.Helper()
	checkNoDuplicates(t, st)
	return len(st.Duplicates())
}
