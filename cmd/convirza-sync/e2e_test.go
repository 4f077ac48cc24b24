package main

// End-to-end tests: the built binary, run as a subprocess with a controlled
// environment against an in-process sandbox over HTTP. Every assertion about
// writes comes from the sandbox's call log, not from what the binary says.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/examples"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestE2EDryRunMakesNoWrites: sync --dry-run and plan read, report and exit
// 2 with --detailed-exitcode when changes are pending; they never write.
func TestE2EDryRunMakesNoWrites(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)

	m := w.mark()
	r := w.run(append([]string{"sync", "--dry-run", "--detailed-exitcode", "--results", "dry.csv", "--report", "dry.md"}, args...)...)
	if r.code != 2 {
		t.Fatalf("sync --dry-run --detailed-exitcode with changes pending: want exit 2\n%s", r)
	}
	rows := w.readResults("dry.csv")
	if len(rows) == 0 {
		t.Fatal("the dry run's results list no change")
	}
	for _, row := range rows {
		if row.Outcome != "planned" {
			t.Errorf("a dry run's row says %q, want planned: %+v", row.Outcome, row)
		}
	}
	if !strings.Contains(w.read("dry.md"), "Northwind") {
		t.Errorf("the Markdown report does not show the plan")
	}

	r = w.run(append([]string{"plan", "--detailed-exitcode", "--out", "p.json"}, args...)...)
	if r.code != 2 {
		t.Fatalf("plan --detailed-exitcode with changes pending: want exit 2\n%s", r)
	}
	if got, want := rowKeys(rows), changeKeys(w.readPlan("p.json")); !cmp.Equal(got, want) {
		t.Errorf("the dry run's results and the plan disagree (-results +plan):\n%s", cmp.Diff(got, want))
	}
	r = w.run(append([]string{"plan"}, args...)...)
	if r.code != 0 {
		t.Fatalf("plan without --detailed-exitcode: want exit 0\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Fatalf("dry runs and plans made %d writes:\n%s", len(ws), describeCalls(ws))
	}
	if n := len(w.callsSince(m)); n == 0 {
		t.Fatal("the dry runs made no call at all: they did not read Convirza")
	}

	if r := w.run(append([]string{"sync"}, args...)...); r.code != 0 {
		t.Fatalf("sync: want exit 0\n%s", r)
	}
	m = w.mark()
	for _, cmd := range [][]string{{"sync", "--dry-run"}, {"plan"}} {
		r := w.run(append(append(cmd, "--detailed-exitcode"), args...)...)
		if r.code != 0 {
			t.Errorf("%v --detailed-exitcode with nothing pending: want exit 0\n%s", cmd, r)
		}
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Fatalf("dry runs made %d writes:\n%s", len(ws), describeCalls(ws))
	}
}

// TestE2ESyncConverges is the core property through the binary: sync
// applies exactly the plan, every PATCH carries only changed fields, every
// create's parent exists first, the results and the metrics account for
// every change, and a second sync writes nothing.
func TestE2ESyncConverges(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	if r := w.run(append([]string{"plan", "--out", "p.json"}, args...)...); r.code != 0 {
		t.Fatalf("plan:\n%s", r)
	}
	p := w.readPlan("p.json")
	before := w.srv.Snapshot()

	m := w.mark()
	r := w.run(append([]string{"sync", "--results", "results.csv", "--metrics-file", "sync.prom", "--report", "report.json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sync: want exit 0\n%s", r)
	}
	after := w.srv.Snapshot()
	calls := w.callsSince(m)
	writes := w.writesSince(m)

	// The results account for every change of the plan, each done.
	rows := w.readResults("results.csv")
	if got, want := rowKeys(rows), changeKeys(p); !cmp.Equal(got, want) {
		t.Errorf("the results and the plan disagree (-results +plan):\n%s", cmp.Diff(got, want))
	}
	for _, row := range rows {
		if want := doneOutcome[row.Action]; row.Outcome != want {
			t.Errorf("row %+v: outcome %q, want %q", row, row.Outcome, want)
		}
		if row.ID == "" {
			t.Errorf("row %+v: no convirza_id", row)
		}
	}
	applied := 0
	for _, c := range writes {
		if !c.Applied() {
			t.Errorf("a write failed in a fault-free run: %s %s -> %d", c.Method, c.Path, c.Status)
		}
		applied++
	}
	if applied != len(rows) {
		t.Errorf("%d writes were applied for %d result rows: each change is one write", applied, len(rows))
	}

	patches, creates := checkWrites(t, before, after, writes)
	if patches == 0 || creates == 0 {
		t.Errorf("the example makes %d PATCHes and %d creates: it does not exercise the checks", patches, creates)
	}
	checkNoDuplicates(t, after)

	// The metrics agree with the results and with the call log.
	ms := w.readMetrics("sync.prom")
	gotChanges := sumMetric(ms, "convirza_sync_changes_total", func(l map[string]string) string {
		return l["kind"] + "/" + l["action"] + "/" + l["outcome"]
	})
	if want := outcomeCounts(rows); !cmp.Equal(gotChanges, want) {
		t.Errorf("metrics changes differ from the results (-metrics +results):\n%s", cmp.Diff(gotChanges, want))
	}
	gotCalls := sumMetric(ms, "convirza_sync_api_calls_total", func(l map[string]string) string { return l["status"] })
	wantCalls := map[string]int{}
	for _, c := range calls {
		if strings.HasPrefix(c.Path, "/v3/") {
			wantCalls[idStr(int64(c.Status))]++
		}
	}
	if !cmp.Equal(gotCalls, wantCalls) {
		t.Errorf("metrics API calls differ from the sandbox's call log (-metrics +log):\n%s", cmp.Diff(gotCalls, wantCalls))
	}
	for _, name := range []string{"convirza_sync_run_duration_seconds", "convirza_sync_last_success_timestamp_seconds"} {
		if got := sumMetric(ms, name, func(map[string]string) string { return "" }); len(got) == 0 {
			t.Errorf("the metrics file has no %s", name)
		}
	}

	// A second sync writes nothing.
	m = w.mark()
	r = w.run(append([]string{"sync", "--results", "again.csv"}, args...)...)
	if r.code != 0 {
		t.Fatalf("second sync: want exit 0\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("the second sync made %d writes:\n%s", len(ws), describeCalls(ws))
	}
	if rows := w.readResults("again.csv"); len(rows) != 0 {
		t.Errorf("the second sync's results list %d rows, want none", len(rows))
	}
}

// retryAfterLog records the Retry-After header of every answer, by request
// id, for a sandbox served through it.
type retryAfterLog struct {
	mu sync.Mutex
	by map[string]string
}

type headerSpy struct {
	http.ResponseWriter
	log *retryAfterLog
}

func (h *headerSpy) WriteHeader(code int) {
	if ra := h.Header().Get("Retry-After"); ra != "" {
		h.log.mu.Lock()
		h.log.by[h.Header().Get("X-Request-Id")] = ra
		h.log.mu.Unlock()
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerSpy) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// TestE2ERateLimitStorm: against a sandbox that answers 429 with
// Retry-After whenever its bucket is empty, sync converges, and no request
// reaches the sandbox before a Retry-After it was given has passed.
func TestE2ERateLimitStorm(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t))
	ras := &retryAfterLog{by: map[string]string{}}
	h := w.srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&headerSpy{ResponseWriter: rw, log: ras}, r)
	}))
	t.Cleanup(ts.Close)
	w.env["CONVIRZA_API_URL"], w.env["CONVIRZA_AUTH_URL"] = ts.URL+"/v3", ts.URL
	w.srv.SetRateLimit(30, 30)
	args := append([]string{"--policy", "mirror"}, exampleInputs...)

	m := w.mark()
	r := w.run(append([]string{"sync", "--concurrency", "8", "--results", "results.csv", "--metrics-file", "m.prom"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sync under a 429 storm: want exit 0\n%s", r)
	}
	calls := w.callsSince(m)
	var api []convirzatest.Call
	for _, c := range calls {
		if strings.HasPrefix(c.Path, "/v3/") {
			api = append(api, c)
		}
	}
	n429 := 0
	// Requests that were already on their way when a 429 was answered may
	// arrive just after it; none may arrive later than this and before the
	// Retry-After has passed.
	const inFlight = 250 * time.Millisecond
	for i, c := range api {
		if c.Status != http.StatusTooManyRequests {
			continue
		}
		n429++
		ras.mu.Lock()
		raText := ras.by[c.RequestID]
		ras.mu.Unlock()
		secs, err := strconv.ParseFloat(raText, 64)
		if err != nil || secs <= 0 {
			t.Fatalf("429 %s %s: Retry-After %q", c.Method, c.Path, raText)
		}
		answered := c.Time.Add(c.Duration)
		until := answered.Add(time.Duration(secs * float64(time.Second)))
		retried := false
		for _, d := range api[i+1:] {
			if d.Time.After(answered.Add(inFlight)) && d.Time.Before(until) {
				t.Errorf("%s %s arrived %v after a 429 that said Retry-After %s", d.Method, d.Path, d.Time.Sub(answered).Round(time.Millisecond), raText)
			}
			// The retry of the very request that got the 429 waits the whole time.
			if !retried && d.Method == c.Method && d.Path == c.Path && d.Query == c.Query && bytes.Equal(d.Body, c.Body) {
				retried = true
				if d.Time.Before(until) {
					t.Errorf("%s %s was retried %v after its 429, which said Retry-After %s", d.Method, d.Path, d.Time.Sub(answered).Round(time.Millisecond), raText)
				}
			}
		}
		if !retried {
			t.Errorf("%s %s got a 429 and was never sent again", c.Method, c.Path)
		}
	}
	if n429 < 3 {
		t.Fatalf("only %d 429s: not a storm; the test does not test anything", n429)
	}
	t.Logf("%d calls, %d answered 429, in %v", len(api), n429, r.took.Round(time.Millisecond))

	rows := w.readResults("results.csv")
	if anyFailed(rows) {
		t.Errorf("rows failed under a 429 storm: %+v", rows)
	}
	ms := w.readMetrics("m.prom")
	if got := sumMetric(ms, "convirza_sync_api_rate_limited_total", func(map[string]string) string { return "" })[""]; got != n429 {
		t.Errorf("metrics say %d calls were rate limited; the sandbox answered %d 429s", got, n429)
	}
	if got := sumMetric(ms, "convirza_sync_api_calls_total", func(l map[string]string) string { return l["status"] })["429"]; got != n429 {
		t.Errorf("metrics say %d calls got 429; the sandbox answered %d", got, n429)
	}
	w.srv.SetRateLimit(0, 0)
	checkNoDuplicates(t, w.srv.Snapshot())
	w.checkConverged(args...)
}

// TestE2EServerErrorsOnWrites: with 10% of calls answered 5xx (writes and
// reads alike, before the sandbox acts), the job converges within two runs,
// never makes a group twice, and its exit code (0 or 3) agrees with its
// results file.
func TestE2EServerErrorsOnWrites(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.srv.SetFailRate(0.10)
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	for run := 1; run <= 2; run++ {
		name := fmt.Sprintf("results%d.csv", run)
		m := w.mark()
		r := w.run(append([]string{"sync", "--results", name}, args...)...)
		rows := w.readResults(name)
		failed := anyFailed(rows)
		switch {
		case r.code != 0 && r.code != 3:
			t.Fatalf("run %d: want exit 0 or 3\n%s", run, r)
		case (r.code == 3) != failed:
			t.Errorf("run %d: exit %d, and the results hold a failed or blocked row: %v; want exit 3 exactly when they do", run, r.code, failed)
		}
		n5xx := 0
		for _, c := range w.callsSince(m) {
			if c.Status >= 500 {
				n5xx++
			}
		}
		t.Logf("run %d: exit %d, %d rows, %d 5xx answers", run, r.code, len(rows), n5xx)
		for _, row := range rows {
			if row.Outcome == "failed" || row.Outcome == "blocked" {
				t.Logf("  %+v", row)
			}
		}
		if run == 1 && n5xx == 0 {
			t.Fatal("no 5xx was answered: the test does not test anything")
		}
		checkNoDuplicates(t, w.srv.Snapshot())
	}
	w.srv.SetFailRate(0)
	w.checkConverged(args...)
}

// TestE2EAmbiguousCreates: creates that are applied but answered by a
// dropped connection are found again, not made twice, in the same run.
func TestE2EAmbiguousCreates(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.srv.SetAmbiguousRate(0.3)
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	m := w.mark()
	r := w.run(append([]string{"sync", "--results", "results.csv"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sync with ambiguous creates: want exit 0\n%s", r)
	}
	dropped := 0
	for _, c := range w.callsSince(m) {
		if c.Dropped {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("no create was dropped: the test does not test anything")
	}
	t.Logf("%d creates answered by a dropped connection", dropped)
	if anyFailed(w.readResults("results.csv")) {
		t.Error("rows failed")
	}
	w.srv.SetAmbiguousRate(0)
	checkNoDuplicates(t, w.srv.Snapshot())
	w.checkConverged(args...)
}

// TestE2ETokenExpiry: access tokens that die every few calls are renewed;
// the run converges with at most two logins.
func TestE2ETokenExpiry(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.srv.SetLoginLimit(-1)
	delete(w.env, "CONVIRZA_TOKEN")
	w.env["CONVIRZA_EMAIL"] = "ops@northwind-dental.example"
	w.env["CONVIRZA_PASSWORD"] = convirzatest.Password
	w.srv.SetExpireAfter(40)
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	m := w.mark()
	r := w.run(append([]string{"sync", "--results", "results.csv"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sync with expiring tokens: want exit 0\n%s", r)
	}
	logins, expired := 0, 0
	for _, c := range w.callsSince(m) {
		if c.Method == http.MethodPost && c.Path == "/oauth/token" {
			logins++
		}
		if c.Status == http.StatusUnauthorized {
			expired++
		}
	}
	if logins > 2 {
		t.Errorf("%d logins, want at most 2", logins)
	}
	if expired == 0 {
		t.Fatal("no token expired: the test does not test anything")
	}
	t.Logf("%d logins, %d answers 401", logins, expired)
	if anyFailed(w.readResults("results.csv")) {
		t.Error("rows failed")
	}
	// The password is the sandbox's; make sure it shows nowhere either.
	for _, s := range []string{r.stdout, r.stderr, w.read("results.csv")} {
		if strings.Contains(s, `"`+convirzatest.Password+`"`) || strings.Contains(s, "password="+convirzatest.Password) {
			t.Error("the output shows the password")
		}
	}
	w.srv.SetExpireAfter(0)
	w.checkConverged(args...)
}

// proc is the binary running in the background.
type proc struct {
	cmd       *exec.Cmd
	out, errb bytes.Buffer
	done      chan error
}

// start starts the binary in the world's directory with its environment.
func (w *world) start(args ...string) *proc {
	w.t.Helper()
	p := &proc{cmd: exec.Command(binPath, args...), done: make(chan error, 1)}
	p.cmd.Dir = w.dir
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir}
	for k, v := range w.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errb
	if err := p.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	w.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// terminate sends SIGTERM and waits at most limit for the exit.
func (p *proc) terminate(t *testing.T, limit time.Duration) result {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("still running %v after SIGTERM\n%s", limit, p.errb.String())
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.out.String(), stderr: p.errb.String(), took: time.Since(sent)}
}

// waitFor polls until cond holds, or fails the test after 20 s.
func (p *proc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			t.Fatalf("waiting for %s: gave up\n%s\n%s", what, p.out.String(), p.errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestE2EAuthLostPartway: a static token that dies partway cannot be
// renewed: the run stops, exits 3, and its results account for every
// change; what was written is in them as done.
func TestE2EAuthLostPartway(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	if r := w.run(append([]string{"plan", "--out", "p.json"}, args...)...); r.code != 0 {
		t.Fatalf("plan:\n%s", r)
	}
	w.srv.SetExpireAfter(30) // the reads take about 10 calls
	m := w.mark()
	r := w.run(append([]string{"sync", "--concurrency", "2", "--results", "results.csv"}, args...)...)
	if r.code != 3 {
		t.Fatalf("sync losing its token partway: want exit 3\n%s", r)
	}
	if !strings.Contains(r.stderr, "CONVIRZA_TOKEN") {
		t.Errorf("stderr does not say which credentials were refused:\n%s", r.stderr)
	}
	rows := w.readResults("results.csv")
	if got, want := rowKeys(rows), changeKeys(w.readPlan("p.json")); !cmp.Equal(got, want) {
		t.Errorf("the results do not account for every change (-results +plan):\n%s", cmp.Diff(got, want))
	}
	done := 0
	for _, row := range rows {
		if row.Outcome == doneOutcome[row.Action] {
			done++
		}
	}
	applied := 0
	for _, c := range w.writesSince(m) {
		if c.Applied() {
			applied++
		}
	}
	if done != applied || done == 0 || done == len(rows) {
		t.Errorf("%d rows done of %d, and %d writes applied: want the same, and some but not all", done, len(rows), applied)
	}
	w.srv.SetExpireAfter(0)
	if r := w.run(append([]string{"sync"}, args...)...); r.code != 0 {
		t.Fatalf("rerun: want exit 0\n%s", r)
	}
	checkNoDuplicates(t, w.srv.Snapshot())
	w.checkConverged(args...)
}

// TestE2ESigterm: SIGTERM partway through stops the job: exit 130 within
// 5 s, with the results written for every change, and a rerun converges.
// It is tried during the apply, with calls that outlive --grace, and during
// the read, before any plan.
func TestE2ESigterm(t *testing.T) {
	t.Parallel()
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	tests := []struct {
		name string
		// interrupt waits for the moment, then sets the sandbox up for it.
		interrupt func(w *world, p *proc, m mark)
		grace     string
		planned   bool // whether a plan was made, and so results written
	}{
		{"during the apply", func(w *world, p *proc, m mark) {
			p.waitFor(w.t, "4 writes", func() bool { return len(w.writesSince(m)) >= 4 })
		}, "20s", true},
		{"calls outlive the grace", func(w *world, p *proc, m mark) {
			p.waitFor(w.t, "4 writes", func() bool { return len(w.writesSince(m)) >= 4 })
			w.srv.SetLatency(30 * time.Second)
			time.Sleep(150 * time.Millisecond) // calls are in flight now
		}, "300ms", true},
		{"during the read", func(w *world, p *proc, m mark) {
			p.waitFor(w.t, "a read", func() bool { return len(w.callsSince(m)) >= 1 })
		}, "20s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, exampleState(t))
			if r := w.run(append([]string{"plan", "--out", "p.json"}, args...)...); r.code != 0 {
				t.Fatalf("plan:\n%s", r)
			}
			plan := w.readPlan("p.json")
			w.srv.SetLatency(100 * time.Millisecond)
			m := w.mark()
			p := w.start(append([]string{"sync", "--concurrency", "2", "--grace", tt.grace, "--results", "results.csv"}, args...)...)
			tt.interrupt(w, p, m)
			r := p.terminate(t, 5*time.Second)
			w.checkNoSecrets(r)
			if r.code != 130 {
				t.Fatalf("after SIGTERM: want exit 130\n%s", r)
			}
			t.Logf("exited %v after SIGTERM", r.took.Round(time.Millisecond))
			w.srv.SetLatency(0)

			if !tt.planned {
				if ws := w.writesSince(m); len(ws) != 0 {
					t.Errorf("interrupted during the read, it made %d writes", len(ws))
				}
			} else {
				rows := w.readResults("results.csv")
				if got, want := rowKeys(rows), changeKeys(plan); !cmp.Equal(got, want) {
					t.Errorf("the results do not account for every change (-results +plan):\n%s", cmp.Diff(got, want))
				}
				done, skipped := map[string]bool{}, 0
				for _, row := range rows {
					switch row.Outcome {
					case doneOutcome[row.Action]:
						done[row.Kind+"/"+row.ID] = true
					case "skipped":
						skipped++
					}
				}
				// Every write the sandbox carried out is a change the results
				// call done.
				applied := 0
				for _, c := range w.writesSince(m) {
					if c.Applied() {
						applied++
					}
				}
				if len(done) != applied {
					t.Errorf("the results say %d changes were done; the sandbox applied %d writes", len(done), applied)
				}
				if skipped == 0 {
					t.Errorf("nothing was skipped: the signal came too late to test anything")
				}
				t.Logf("%d done, %d skipped of %d", len(done), skipped, len(rows))
			}

			if r := w.run(append([]string{"sync"}, args...)...); r.code != 0 {
				t.Fatalf("rerun: want exit 0\n%s", r)
			}
			checkNoDuplicates(t, w.srv.Snapshot())
			w.checkConverged(args...)
		})
	}
}

// TestE2EPlanThenApply: a saved plan applies and converges; a stale plan, a
// corrupt one, one of another version, and one made for another API URL,
// root or account are refused with exit 1 and no write.
func TestE2EPlanThenApply(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	if r := w.run(append([]string{"plan", "--out", "p.json"}, args...)...); r.code != 0 {
		t.Fatalf("plan:\n%s", r)
	}
	planText := w.read("p.json")
	var planJSON map[string]any
	if err := json.Unmarshal([]byte(planText), &planJSON); err != nil {
		t.Fatal(err)
	}
	// edited edits the plan as its JSON, and seals it again as a hostile
	// editor would (the digest is no secret); unsealed leaves the digest.
	unsealed := func(edit func(p map[string]any)) string {
		var p map[string]any
		if err := json.Unmarshal([]byte(planText), &p); err != nil {
			t.Fatal(err)
		}
		edit(p)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	edited := func(edit func(p map[string]any)) string { return reseal(t, unsealed(edit)) }
	account := func(p map[string]any) map[string]any { return p["account"].(map[string]any) }
	// Credentials that only see part of the account: a login as a user of
	// the Northeast group (id 1003).
	scoped := map[string]string{"CONVIRZA_TOKEN": "", "CONVIRZA_EMAIL": "ben.okafor@northwind-dental.example", "CONVIRZA_PASSWORD": convirzatest.Password}
	w.srv.SetLoginLimit(-1)

	refusals := []struct {
		name, plan string
		env        map[string]string
		want       string // in stderr
	}{
		{"corrupt", `{"version": 1, "changes": [`, nil, "bad.json"},
		{"not a plan", `[1, 2, 3]`, nil, "plan"},
		{"other version", edited(func(p map[string]any) { p["version"] = 2 }), nil, "version 2"},
		{"unknown field", edited(func(p map[string]any) { p["frobnicate"] = true }), nil, "frobnicate"},
		{"other api url", edited(func(p map[string]any) { account(p)["api_url"] = "http://127.0.0.1:9/v3" }), nil, "http://127.0.0.1:9/v3"},
		{"edited, its digest left", unsealed(func(p map[string]any) { account(p)["root_id"] = 1003 }), nil, "does not match its digest"},
		{"other root", edited(func(p map[string]any) { account(p)["root_id"] = 1003 }), nil, "root group 1003"},
		{"missing root", edited(func(p map[string]any) { account(p)["root_id"] = 999999 }), nil, "root group 999999"},
		{"credentials for part of the account", planText, scoped, "root group 1001"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			w.write("bad.json", tt.plan)
			m := w.mark()
			r := w.runEnv(tt.env, "apply", "bad.json")
			if r.code != 1 {
				t.Errorf("apply: want exit 1\n%s", r)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
			t.Logf("stderr: %s", r.stderr)
			if ws := w.writesSince(m); len(ws) != 0 {
				t.Errorf("a refused plan made %d writes:\n%s", len(ws), describeCalls(ws))
			}
		})
	}

	// Stale: Convirza changes under the plan between plan and apply.
	t.Run("stale", func(t *testing.T) {
		st := w.srv.Snapshot()
		for i := range st.Groups {
			if st.Groups[i].ID == 1014 { // Northwind Evanston, whose address the plan updates
				st.Groups[i].Address = "1 Somewhere Else"
			}
		}
		var buf bytes.Buffer
		if err := st.Write(&buf); err != nil {
			t.Fatal(err)
		}
		orig := w.srv.Snapshot()
		if err := w.srv.LoadState(&buf); err != nil {
			t.Fatal(err)
		}
		m := w.mark()
		r := w.run("apply", "p.json", "--results", "stale.csv")
		if r.code != 1 {
			t.Errorf("apply of a stale plan: want exit 1\n%s", r)
		}
		if !strings.Contains(r.stderr, "1 Somewhere Else") || !strings.Contains(r.stderr, "001Dn024kEBMti6IQD") {
			t.Errorf("stderr does not say what changed:\n%s", r.stderr)
		}
		if ws := w.writesSince(m); len(ws) != 0 {
			t.Errorf("a stale plan made %d writes:\n%s", len(ws), describeCalls(ws))
		}
		buf.Reset()
		if err := orig.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.LoadState(&buf); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("fresh", func(t *testing.T) {
		before := w.srv.Snapshot()
		m := w.mark()
		// The API URL with a trailing slash is the same URL.
		r := w.runEnv(map[string]string{"CONVIRZA_API_URL": w.srv.APIURL() + "/"}, "apply", "p.json", "--results", "results.csv")
		if r.code != 0 {
			t.Fatalf("apply: want exit 0\n%s", r)
		}
		rows := w.readResults("results.csv")
		if got, want := rowKeys(rows), changeKeys(w.readPlan("p.json")); !cmp.Equal(got, want) {
			t.Errorf("the results and the plan disagree (-results +plan):\n%s", cmp.Diff(got, want))
		}
		checkWrites(t, before, w.srv.Snapshot(), w.writesSince(m))
		w.checkConverged(args...)
		// Applying the same plan again: its before-values no longer hold.
		m = w.mark()
		if r := w.run("apply", "p.json"); r.code != 1 {
			t.Errorf("a plan applied twice: want exit 1\n%s", r)
		}
		if ws := w.writesSince(m); len(ws) != 0 {
			t.Errorf("a plan applied twice made %d writes:\n%s", len(ws), describeCalls(ws))
		}
	})
}

// TestE2EDemoEmptyEnvironment: demo needs no environment at all and no
// particular working directory.
func TestE2EDemoEmptyEnvironment(t *testing.T) {
	cmd := exec.Command(binPath, "demo")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
	if err != nil || r.code != 0 {
		t.Fatalf("demo with an empty environment: want exit 0 (%v)\n%s", err, r)
	}
	for _, want := range []string{"Plan for", "Applied", "the fresh plan is empty", "No changes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the demo's output does not say %q", want)
		}
	}
	if tokenPattern.MatchString(r.stdout + r.stderr) {
		t.Error("the demo shows its sandbox's token")
	}
	entries, err := os.ReadDir(cmd.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the demo left files in its working directory: %v", entries)
	}
}

// TestE2EUndo: sync --undo writes a plan that apply accepts, and that
// brings back the seeded state, except what a delete cannot undo.
func TestE2EUndo(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	seeded := w.srv.Snapshot()
	r := w.run(append([]string{"sync", "--undo", "undo.json", "--results", "results.csv"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sync: want exit 0\n%s", r)
	}
	deleted := map[int64]bool{}
	for _, row := range w.readResults("results.csv") {
		if row.Kind == "group" && row.Outcome == "deleted" {
			id, _ := strconv.ParseInt(row.ID, 10, 64)
			deleted[id] = true
		}
	}
	if len(deleted) == 0 {
		t.Fatal("the sync deleted nothing: the test does not cover what undo cannot do")
	}
	u := w.readPlan("undo.json")
	if len(u.Refused) != len(deleted) {
		t.Errorf("the undo plan lists %d refused deletes, want %d", len(u.Refused), len(deleted))
	}

	r = w.run("apply", "undo.json", "--results", "undo.csv")
	if r.code != 0 {
		t.Fatalf("apply undo.json: want exit 0\n%s", r)
	}
	restored := w.srv.Snapshot()
	checkRestored(t, seeded, restored, deleted)

	// Applying the undo plan a second time is refused: it is stale now.
	m := w.mark()
	if r := w.run("apply", "undo.json"); r.code != 1 {
		t.Errorf("undo applied twice: want exit 1\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("a stale undo made %d writes", len(ws))
	}
}

// checkRestored compares the seeded state with the state after an undo:
// every seeded object is back as it was (modified times aside), except the
// groups the run deleted; every object the run created is deleted.
func checkRestored(t *testing.T, seeded, restored convirzatest.State, deleted map[int64]bool) {
	t.Helper()
	seededGroups := map[int64]convirzatest.Group{}
	for _, g := range seeded.Groups {
		g.Modified = time.Time{}
		seededGroups[g.ID] = g
	}
	seededUsers := map[int64]convirzatest.User{}
	for _, u := range seeded.Users {
		seededUsers[u.ID] = u
	}
	for _, g := range restored.Groups {
		was, ok := seededGroups[g.ID]
		switch {
		case !ok:
			if g.Status != state.StatusDeleted {
				t.Errorf("group %d %q, made by the sync, is still %s", g.ID, g.Name, g.Status)
			}
		case deleted[g.ID]:
			if g.Status != state.StatusDeleted {
				t.Errorf("group %d was deleted by the sync, and is %s now", g.ID, g.Status)
			}
		default:
			g.Modified = time.Time{}
			if d := cmp.Diff(was, g); d != "" {
				t.Errorf("group %d is not restored (-seeded +now):\n%s", g.ID, d)
			}
		}
		delete(seededGroups, g.ID)
	}
	for _, u := range restored.Users {
		was, ok := seededUsers[u.ID]
		switch {
		case !ok:
			if u.Status != state.StatusDeleted {
				t.Errorf("user %d %s, made by the sync, is still %s", u.ID, u.Email, u.Status)
			}
		default:
			if d := cmp.Diff(was, u); d != "" {
				t.Errorf("user %d is not restored (-seeded +now):\n%s", u.ID, d)
			}
		}
		delete(seededUsers, u.ID)
	}
	for id := range seededGroups {
		t.Errorf("group %d is gone", id)
	}
	for id := range seededUsers {
		t.Errorf("user %d is gone", id)
	}
}

// TestE2EValidate: validate lists every problem of a broken export with its
// file and line, exits 1, and calls no API, even with credentials at hand.
func TestE2EValidate(t *testing.T) {
	w := newWorld(t, exampleState(t))
	broken := []string{"--groups", filepath.Join(cwd(t), "testdata", "broken", "groups.csv"), "--users", filepath.Join(cwd(t), "testdata", "broken", "users.csv")}
	want := []string{
		"groups.csv:10", "groups.csv:12", "groups.csv:13", "groups.csv:14", "groups.csv:2", "groups.csv:3", "groups.csv:4", "groups.csv:5",
		"groups.csv:6", "groups.csv:7", "groups.csv:8", "groups.csv:9",
		"users.csv:2", "users.csv:3", "users.csv:4", "users.csv:5",
	}
	m := w.mark()
	r := w.run(append([]string{"validate"}, broken...)...)
	if r.code != 1 {
		t.Fatalf("validate of a broken export: want exit 1\n%s", r)
	}
	var got []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if m := fileLine.FindStringSubmatch(line); m != nil {
			got = append(got, m[1])
		}
	}
	sort.Strings(got)
	got = slices.Compact(got)
	if !cmp.Equal(got, want) {
		t.Errorf("validate names these file:line (-got +want):\n%s\nstdout:\n%s", cmp.Diff(got, want), r.stdout)
	}

	r = w.run(append([]string{"validate", "--output", "json"}, broken...)...)
	if r.code != 1 {
		t.Fatalf("validate --output json of a broken export: want exit 1\n%s", r)
	}
	var out struct {
		OK       bool `json:"ok"`
		Problems []struct {
			File     string `json:"file"`
			Line     *int   `json:"line"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("validate --output json: %v\n%s", err, r.stdout)
	}
	got = nil
	for _, p := range out.Problems {
		if p.Line == nil || *p.Line < 1 {
			t.Errorf("a problem without a line: %+v", p)
			continue
		}
		got = append(got, fmt.Sprintf("%s:%d", filepath.Base(p.File), *p.Line))
	}
	sort.Strings(got)
	got = slices.Compact(got)
	if out.OK || !cmp.Equal(got, want) {
		t.Errorf("validate --output json: ok %v, lines (-got +want):\n%s", out.OK, cmp.Diff(got, want))
	}

	// A valid export validates, with exit 0.
	if r := w.run(append([]string{"validate"}, exampleInputs...)...); r.code != 0 {
		t.Errorf("validate of the example: want exit 0\n%s", r)
	}
	if calls := w.callsSince(m); len(calls) != 0 {
		t.Errorf("validate made %d API calls:\n%s", len(calls), describeCalls(calls))
	}
}

var fileLine = regexp.MustCompile(`\b((?:groups|users)\.csv:\d+)\b`)

func cwd(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestE2ECredentialsAndUsage: missing or refused credentials exit 1 and
// say which variable to set; usage errors exit 64; neither writes.
func TestE2ECredentialsAndUsage(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.srv.SetLoginLimit(-1)
	tokenFile := filepath.Join(t.TempDir(), "token") // outside the directory checked for secrets
	if err := os.WriteFile(tokenFile, []byte(w.srv.Token()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	syncArgs := append([]string{"sync", "--policy", "mirror"}, exampleInputs...)
	const wrongPassword = "not-the-password-42"
	w.secrets = append(w.secrets, wrongPassword)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		say  string
	}{
		{"no credentials", map[string]string{"CONVIRZA_TOKEN": ""}, syncArgs, 1, "CONVIRZA_TOKEN"},
		{"email without password", map[string]string{"CONVIRZA_TOKEN": "", "CONVIRZA_EMAIL": "ops@northwind-dental.example"}, syncArgs, 1, "CONVIRZA_PASSWORD"},
		{"wrong password", map[string]string{"CONVIRZA_TOKEN": "", "CONVIRZA_EMAIL": "ops@northwind-dental.example", "CONVIRZA_PASSWORD": wrongPassword}, syncArgs, 1, "CONVIRZA_EMAIL and CONVIRZA_PASSWORD"},
		{"unknown token", map[string]string{"CONVIRZA_TOKEN": "sbx_0000000000000000000000000000000000000000"}, syncArgs, 1, "CONVIRZA_TOKEN"},
		{"token file", map[string]string{"CONVIRZA_TOKEN": "", "CONVIRZA_TOKEN_FILE": tokenFile}, append([]string{"plan"}, exampleInputs...), 0, ""},
		{"token and token file", map[string]string{"CONVIRZA_TOKEN_FILE": tokenFile}, syncArgs, 64, "CONVIRZA_TOKEN_FILE"},
		{"unknown flag", nil, append([]string{"sync", "--frobnicate"}, exampleInputs...), 64, "frobnicate"},
		{"bad policy", nil, append([]string{"sync", "--policy", "yolo"}, exampleInputs...), 64, "policy"},
		{"bad max-deletes", nil, append([]string{"sync", "--max-deletes", "lots"}, exampleInputs...), 64, "max-deletes"},
		{"bad max-deletes for plan", nil, append([]string{"plan", "--max-deletes", "-3"}, exampleInputs...), 64, "max-deletes"},
		{"bad env value", map[string]string{"CONVIRZA_SYNC_POLICY": "yolo"}, append([]string{"sync"}, exampleInputs...), 64, "CONVIRZA_SYNC_POLICY"},
		{"detailed-exitcode without dry-run", nil, append([]string{"sync", "--detailed-exitcode"}, exampleInputs...), 64, "detailed-exitcode"},
		{"no inputs", nil, []string{"sync"}, 64, "--groups"},
		{"unknown report format", nil, append(append([]string{}, syncArgs...), "--report", "plan.pdf"), 64, ".pdf"},
		{"help", nil, []string{"sync", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := w.mark()
			r := w.runEnv(tt.env, tt.args...)
			if r.code != tt.code {
				t.Errorf("want exit %d\n%s", tt.code, r)
			}
			if !strings.Contains(r.stderr, tt.say) {
				t.Errorf("stderr does not say %q:\n%s", tt.say, r.stderr)
			}
			t.Logf("stderr: %s", lastLine(r.stderr))
			if ws := w.writesSince(m); len(ws) != 0 {
				t.Errorf("%d writes:\n%s", len(ws), describeCalls(ws))
			}
			if tt.code == 64 {
				if calls := w.callsSince(m); len(calls) != 0 {
					t.Errorf("a usage error made %d calls:\n%s", len(calls), describeCalls(calls))
				}
			}
		})
	}
}

// TestE2EMetricsOnFailure: a run that fails before it can connect still
// writes and pushes its metrics, as a failure, and keeps the time of the
// last success.
func TestE2EMetricsOnFailure(t *testing.T) {
	w := newWorld(t, exampleState(t))
	plan := append([]string{"plan", "--metrics-file", "m.prom"}, exampleInputs...)
	if r := w.run(plan...); r.code != 0 {
		t.Fatalf("plan:\n%s", r)
	}
	value := func(name string) map[string]int {
		return sumMetric(w.readMetrics("m.prom"), name, func(l map[string]string) string { return l["command"] })
	}
	last := value("convirza_sync_last_success_timestamp_seconds")
	if last["plan"] == 0 || value("convirza_sync_run_success")["plan"] != 1 {
		t.Fatalf("after a successful plan: last success %v, success %v", last, value("convirza_sync_run_success"))
	}
	if r := w.runEnv(map[string]string{"CONVIRZA_TOKEN": ""}, plan...); r.code != 1 {
		t.Fatalf("plan without credentials: want exit 1\n%s", r)
	}
	if got := value("convirza_sync_run_success"); got["plan"] != 0 || len(got) != 1 {
		t.Errorf("after a failed plan: run_success %v, want plan=0", got)
	}
	if got := value("convirza_sync_last_success_timestamp_seconds"); !cmp.Equal(got, last) {
		t.Errorf("after a failed plan: last success %v, want the earlier %v", got, last)
	}

	// --pushgateway: a success replaces the group (PUT), a failure adds to
	// it (POST) and keeps the last success.
	type push struct{ method, path, body string }
	var mu sync.Mutex
	var pushes []push
	gw := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushes = append(pushes, push{r.Method, r.URL.Path, string(b)})
		mu.Unlock()
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gw.Close)
	syncArgs := append([]string{"sync", "--pushgateway", gw.URL}, exampleInputs...)
	if r := w.run(syncArgs...); r.code != 0 {
		t.Fatalf("sync --pushgateway:\n%s", r)
	}
	if r := w.runEnv(map[string]string{"CONVIRZA_TOKEN": ""}, syncArgs...); r.code != 1 {
		t.Fatalf("sync --pushgateway without credentials: want exit 1\n%s", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pushes) != 2 {
		t.Fatalf("%d pushes, want 2: %+v", len(pushes), pushes)
	}
	for i, want := range []push{{http.MethodPut, "/metrics/job/convirza-sync/command/sync", "convirza_sync_changes_total"}, {http.MethodPost, "/metrics/job/convirza-sync/command/sync", "convirza_sync_run_success"}} {
		got := pushes[i]
		if got.method != want.method || got.path != want.path || !strings.Contains(got.body, want.body) {
			t.Errorf("push %d: %s %s, want %s %s with %s", i, got.method, got.path, want.method, want.path, want.body)
		}
	}
	if strings.Contains(pushes[1].body, "last_success") {
		t.Error("a failed run pushed a last-success time")
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestE2EExportRoundTrip: export writes the state as canonical CSVs that
// sync back with zero writes, and a state.json that `sandbox --state`
// serves; exporting from that sandbox gives the same groups and users.
func TestE2EExportRoundTrip(t *testing.T) {
	w := newWorld(t, exampleState(t))

	// The half-set-up account: what export can express syncs back unchanged.
	if r := w.run("export", "--out-dir", "seeded"); r.code != 0 {
		t.Fatalf("export:\n%s", r)
	}
	m := w.mark()
	r := w.run("sync", "--groups", "seeded/groups.csv", "--users", "seeded/users.csv", "--results", "seeded.csv")
	if r.code != 0 {
		t.Fatalf("sync of the export: want exit 0\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("syncing an export back made %d writes:\n%s", len(ws), describeCalls(ws))
	}

	// After a sync every group has an ext id: the whole account round-trips,
	// even under the mirror policy.
	args := append([]string{"--policy", "mirror"}, exampleInputs...)
	if r := w.run(append([]string{"sync"}, args...)...); r.code != 0 {
		t.Fatalf("sync:\n%s", r)
	}
	if r := w.run("export", "--out-dir", "synced"); r.code != 0 {
		t.Fatalf("export:\n%s", r)
	}
	m = w.mark()
	r = w.run("sync", "--policy", "mirror", "--groups", "synced/groups.csv", "--users", "synced/users.csv")
	if r.code != 0 {
		t.Fatalf("mirror sync of the export: want exit 0\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("syncing an export back made %d writes:\n%s", len(ws), describeCalls(ws))
	}
	groups := w.read("synced/groups.csv")
	if n := strings.Count(groups, "\n"); n != 41 {
		t.Errorf("groups.csv has %d lines, want a header and 40 groups", n)
	}
	exported := readStateFile(t, w.path("synced/state.json"))
	if d := cmp.Diff(live(w.srv.Snapshot()), exported); d != "" {
		t.Errorf("state.json differs from the sandbox's state (-sandbox +state.json):\n%s", d)
	}

	// Serve that state.json with the binary's sandbox command, and export
	// again from it.
	served := w.write("served.json", w.read("synced/state.json"))
	sb := startSandboxCommand(t, w.dir, "--state", served)
	w2 := &world{t: t, dir: w.dir, secrets: []string{sb.token},
		env: map[string]string{"CONVIRZA_API_URL": sb.url + "/v3", "CONVIRZA_AUTH_URL": sb.url, "CONVIRZA_TOKEN": sb.token, "CONVIRZA_SYNC_RATE": "1000"}}
	if r := w2.run("export", "--out-dir", "again"); r.code != 0 {
		t.Fatalf("export from the sandbox command:\n%s", r)
	}
	for _, name := range []string{"groups.csv", "users.csv"} {
		if d := cmp.Diff(w.read("synced/"+name), w.read("again/"+name)); d != "" {
			t.Errorf("%s read back from `sandbox --state` differs (-exported +again):\n%s", name, d)
		}
	}
	if d := cmp.Diff(exported, readStateFile(t, w.path("again/state.json"))); d != "" {
		t.Errorf("state.json read back from `sandbox --state` differs (-exported +again):\n%s", d)
	}
	// Stopped, the sandbox saves the state it served: unchanged.
	sb.stop(t)
	if d := cmp.Diff(exported, readStateFile(t, served)); d != "" {
		t.Errorf("the state saved by the sandbox differs (-exported +saved):\n%s", d)
	}
}

func readStateFile(t *testing.T, path string) convirzatest.State {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := convirzatest.ReadState(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return st
}

// live returns a copy of st without what is deleted: the API lists no
// deleted object, so an export cannot hold them.
func live(st convirzatest.State) convirzatest.State {
	out := st
	out.Groups, out.Users = nil, nil
	for _, g := range st.Groups {
		if g.Status != state.StatusDeleted {
			out.Groups = append(out.Groups, g)
		}
	}
	for _, u := range st.Users {
		if u.Status != state.StatusDeleted {
			out.Users = append(out.Users, u)
		}
	}
	return out
}

// sandboxCommand is a running `convirza-sync sandbox`.
type sandboxCommand struct {
	cmd        *exec.Cmd
	url, token string
	done       chan error
}

// startSandboxCommand runs `convirza-sync sandbox` on a free loopback port
// and reads the URL and token it prints.
func startSandboxCommand(t *testing.T, dir string, args ...string) *sandboxCommand {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sandboxCommand{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	timeout := time.After(10 * time.Second)
	for s.url == "" || s.token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the sandbox command ended before printing its URL and token:\n%s", errb.String())
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export CONVIRZA_AUTH_URL="); ok {
				s.url = v
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export CONVIRZA_TOKEN="); ok {
				s.token = v
			}
		case <-timeout:
			t.Fatalf("the sandbox command printed no URL and token within 10 s:\n%s", errb.String())
		}
	}
	go func() {
		for range lines { // drain the rest
		}
	}()
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *sandboxCommand) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("the sandbox command after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox command still runs 10 s after SIGTERM")
	}
}

// TestE2EGatesAndInvalidRows: a tripped gate and an invalid row stop the
// run before any write (exit 1), with the report written; --max-invalid
// lets the rest through (exit 3) with the skipped row in the results and
// no delete.
func TestE2EGatesAndInvalidRows(t *testing.T) {
	w := newWorld(t, exampleState(t))
	args := append([]string{"--policy", "mirror"}, exampleInputs...)

	m := w.mark()
	r := w.run(append([]string{"sync", "--max-deletes", "0", "--report", "gate.md", "--results", "gate.csv"}, args...)...)
	if r.code != 1 {
		t.Errorf("sync with a tripped gate: want exit 1\n%s", r)
	}
	if !strings.Contains(w.read("gate.md"), "max-deletes") {
		t.Errorf("the report does not say which gate tripped")
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("a blocked sync made %d writes:\n%s", len(ws), describeCalls(ws))
	}
	if r := w.run(append([]string{"sync", "--max-deletes", "0", "--force"}, args...)...); r.code != 0 {
		t.Errorf("sync --force past the gate: want exit 0\n%s", r)
	}

	w = newWorld(t, exampleState(t))
	// Line 4 of the accounts gets a phone number that is not one.
	accounts := w.read(examples.Groups)
	if !strings.Contains(accounts, "(617) 555-0128") {
		t.Fatal("the example changed: line 4 has no (617) 555-0128")
	}
	w.write(examples.Groups, strings.Replace(accounts, "(617) 555-0128", "12", 1))
	m = w.mark()
	for _, force := range []string{"--max-invalid=0", "--force"} {
		r := w.run(append([]string{"sync", force, "--results", "strict.csv"}, args...)...)
		if r.code != 1 {
			t.Errorf("sync %s of an export with a bad row: want exit 1\n%s", force, r)
		}
		if !strings.Contains(r.stdout+r.stderr, examples.Groups+":4") {
			t.Errorf("sync %s does not name the bad row %s:4\n%s", force, examples.Groups, r)
		}
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		t.Errorf("an export with a bad row made %d writes:\n%s", len(ws), describeCalls(ws))
	}

	r = w.run(append([]string{"sync", "--max-invalid", "1", "--results", "lenient.csv"}, args...)...)
	if r.code != 3 {
		t.Errorf("sync --max-invalid 1 with a bad row: want exit 3\n%s", r)
	}
	skipped := 0
	for _, row := range w.readResults("lenient.csv") {
		switch {
		case row.Outcome == "skipped":
			skipped++
			if row.Line != "4" || !strings.Contains(row.Message, "12") {
				t.Errorf("the skipped row: %+v, want line 4 and why", row)
			}
		case row.Action == "delete" || row.Action == "deactivate":
			t.Errorf("a delete in a run that skipped a row: %+v", row)
		case row.Outcome != doneOutcome[row.Action]:
			t.Errorf("row %+v not done", row)
		}
	}
	if skipped != 1 {
		t.Errorf("%d skipped rows, want 1", skipped)
	}
	for _, c := range w.writesSince(m) {
		if c.Method == http.MethodDelete || strings.Contains(string(c.Body), `"inactive"`) {
			t.Errorf("a delete or deactivation in a run that skipped a row: %s %s %s", c.Method, c.Path, c.Body)
		}
	}
}

// TestE2EMetricsOnEveryPath: a run that fails after it connected, at a step
// that used to return early (the report cannot be written), still writes
// its metrics as a failure and its results file.
func TestE2EMetricsOnEveryPath(t *testing.T) {
	w := newWorld(t, exampleState(t))
	if r := w.run(append([]string{"plan", "--out", "plan.json"}, exampleInputs...)...); r.code != 0 {
		t.Fatalf("plan --out:\n%s", r)
	}
	tests := []struct {
		name    string
		command string
		args    []string
	}{
		{"sync, report unwritable", "sync", append([]string{"sync"}, exampleInputs...)},
		{"sync --dry-run, report unwritable", "sync-dry-run", append([]string{"sync", "--dry-run"}, exampleInputs...)},
		{"apply, report unwritable", "apply", []string{"apply", "plan.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prom := tt.command + ".prom"
			m := w.mark()
			args := append(slices.Clone(tt.args), "--metrics-file", prom, "--results", tt.command+".csv", "--report", filepath.Join("no-such-dir", "r.md"))
			r := w.run(args...)
			if r.code != 1 {
				t.Fatalf("want exit 1:\n%s", r)
			}
			if ws := w.writesSince(m); len(ws) != 0 {
				t.Errorf("%d writes, want none:\n%s", len(ws), describeCalls(ws))
			}
			got := sumMetric(w.readMetrics(prom), "convirza_sync_run_success", func(l map[string]string) string { return l["command"] })
			if diff := cmp.Diff(map[string]int{tt.command: 0}, got); diff != "" {
				t.Errorf("run_success (-want +got):\n%s", diff)
			}
			if rows := w.readResults(tt.command + ".csv"); len(rows) != 0 {
				t.Errorf("results of a run that wrote nothing: %d rows, want the header only", len(rows))
			}
		})
	}
}
