package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// testWriter sends the bench's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestQuickSections runs every section in -quick mode. The goals that do
// not depend on timing (reads equal to the minimum, writes equal to the
// differences, the naive loop's writes and end state) must hold at any
// size; the timing rows must be there, with figures. The full-size goals
// are the job of `go run ./cmd/convirza-bench`, not of CI.
func TestQuickSections(t *testing.T) {
	b := &bench{cfg: quickConfig(), stderr: testWriter{t}}
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(context.Context) (*section, error)
		rows int
		// mustPass lists the cases (by prefix) whose goal must be met;
		// "*" is every row with a goal.
		mustPass []string
	}{
		{"reads", b.reads, len(b.cfg.readTrees) * len(b.cfg.readUsers), []string{"*"}},
		{"writes", b.writes, len(b.cfg.writeDrifts), []string{"*"}},
		{"rate", b.rate, 2 * len(b.cfg.rateLatencies), nil},
		{"plan", b.planning, 6, []string{"plan file"}},
		{"process", b.process, 2, []string{"`plan` peak RSS"}},
		{"phones", b.phones, 3, nil},
		{"naive", b.naive, 4, []string{"writes", "end state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tt.name || len(s.Rows) != tt.rows {
				t.Fatalf("section %q with %d rows, want %q with %d", s.Name, len(s.Rows), tt.name, tt.rows)
			}
			for _, r := range s.Rows {
				if r.Section != tt.name || r.Measured == "" || r.Reference == "" || r.Ratio == "" {
					t.Errorf("incomplete row %+v", r)
				}
				if !mustPass(tt.mustPass, r) {
					continue
				}
				if r.Verdict != pass {
					t.Errorf("%s: %s: %s against %s, goal %s: %s\nnotes:\n%s", tt.name, r.Case, r.Measured, r.Reference, r.Goal, r.Verdict, strings.Join(s.Notes, "\n"))
				}
			}
		})
	}
}

func mustPass(cases []string, r row) bool {
	for _, c := range cases {
		if c == "*" && r.Verdict != info || c != "*" && strings.HasPrefix(r.Case, c) {
			return true
		}
	}
	return false
}

// TestDriftCountsWhatChanged checks the reference of the writes section:
// drift's count is the number of rows that differ from the export it
// started from, and each differs in exactly one field.
func TestDriftCountsWhatChanged(t *testing.T) {
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{3, 9, 60}, Users: 200})
	for _, share := range []float64{0, 0.01, 0.3, 1} {
		t.Run(fmt.Sprint(share), func(t *testing.T) {
			before, after := exportOf(st), exportOf(st)
			d := after.drift(share, 9)
			var got drift
			for i := range before.groups {
				a, b := before.groups[i], after.groups[i]
				n := diffCount(a.name != b.name, a.parent != b.parent, a.address != b.address, a.city != b.city,
					a.st != b.st, a.zip != b.zip, a.phone != b.phone, a.industry != b.industry, a.ext != b.ext)
				if n > 1 {
					t.Errorf("group %s: %d fields changed", a.ext, n)
				}
				got.groups += min(n, 1)
				got.fields += n
			}
			for i := range before.users {
				a, b := before.users[i], after.users[i]
				n := diffCount(a.first != b.first, a.last != b.last, a.role != b.role, a.group != b.group,
					a.email != b.email, a.ext != b.ext)
				if n > 1 {
					t.Errorf("user %s: %d fields changed", a.email, n)
				}
				got.users += min(n, 1)
				got.fields += n
			}
			if diff := cmp.Diff(d, got, cmp.AllowUnexported(drift{})); diff != "" {
				t.Errorf("drift's count (-said +seen):\n%s", diff)
			}
			if want := int(share*float64(len(before.groups)) + 0.5); got.groups != want {
				t.Errorf("%d groups changed, want %d", got.groups, want)
			}
		})
	}
}

func diffCount(changed ...bool) int {
	n := 0
	for _, c := range changed {
		if c {
			n++
		}
	}
	return n
}

// TestCurrentOfPlansLikeFetch backs the planning section's shortcut: the
// planner makes the same plan from currentOf's state as from the state
// FetchState reads from a sandbox holding the same account.
func TestCurrentOfPlansLikeFetch(t *testing.T) {
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{3, 12, 60}, Users: 300, InactiveEvery: 7, InactiveUsersEvery: 9})
	srv, err := startSandbox(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := newClient(srv, readsRate, readsRate)
	if err != nil {
		t.Fatal(err)
	}
	fetched, _, err := c.FetchState(context.Background(), convirza.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ex := exportOf(st)
	if d := ex.drift(0.2, 3); d.rows() == 0 {
		t.Fatal("no drift")
	}
	gp, up, err := ex.write(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := load(gp, up, ex.rootExt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Calculate(ds, fetched, plan.Options{Policy: plan.PolicyUpsert})
	if err != nil {
		t.Fatal(err)
	}
	got, err := plan.Calculate(ds, currentOf(st), plan.Options{Policy: plan.PolicyUpsert})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Changes) == 0 {
		t.Fatal("the plan is empty: the test proves nothing")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan from currentOf differs from the plan from FetchState (-fetch +currentOf):\n%s", diff)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings of stdout
		stderrIn string
	}{
		{name: "help", args: []string{"-h"}, code: exitOK, stderrIn: "usage: convirza-bench"},
		{name: "unknown flag", args: []string{"-bogus"}, code: exitUsage, stderrIn: "-bogus"},
		{name: "unknown section", args: []string{"-sections", "reads,speed"}, code: exitUsage, stderrIn: `unknown section "speed"`},
		{name: "no section", args: []string{"-sections", ","}, code: exitUsage, stderrIn: "no section"},
		{name: "argument", args: []string{"extra"}, code: exitUsage, stderrIn: `unexpected argument "extra"`},
		{
			name: "quick reads as markdown", args: []string{"-quick", "-sections", "reads", "-md"}, code: exitOK,
			stdout: []string{
				"| section | case | measured | reference | ratio | goal | result |",
				"| reads | 100 groups [2 8 90], 500 users | 16 calls (log 16) | 16 minimum | 1.00x | = minimum | pass |", // 15 + the List Groups probe
				"4 of 4 goals met.",
				"**reads**",
			},
			stderrIn: "section reads: done",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.stderrIn) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderrIn, stderr.String())
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{ratio(3, 2), "1.50x"},
		{ratio(0, 0), "-"},
		{ratio(1, 0), "inf"},
		{pct(190, 200), "95.0%"},
		{thousands(1234567), "1,234,567"},
		{thousands(-1000), "-1,000"},
		{thousands(999), "999"},
		{size(50_000), "50k"},
		{size(1_000_000), "1M"},
		{size(1500), "1,500"},
		{mib(3 << 20), "3 MiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestRenderMarkdownEscapesAndTallies(t *testing.T) {
	s := &section{Name: "x"}
	s.add(row{Case: "a|b", Measured: "1", Reference: "1", Ratio: "1.00x", Goal: "= 1", Verdict: pass})
	s.add(row{Case: "c", Measured: "2", Reference: "1", Ratio: "2.00x", Goal: "= 1", Verdict: miss})
	s.add(row{Case: "d", Measured: "3", Reference: "1", Ratio: "3.00x", Goal: "-"})
	s.note("why")
	var buf bytes.Buffer
	if err := render(&buf, []string{"pre"}, []*section{s}, true); err != nil {
		t.Fatal(err)
	}
	want := "pre  \n\n" +
		"| section | case | measured | reference | ratio | goal | result |\n" +
		"| --- | --- | --- | --- | --- | --- | --- |\n" +
		"| x | a\\|b | 1 | 1 | 1.00x | = 1 | pass |\n" +
		"| x | c | 2 | 1 | 2.00x | = 1 | MISS |\n" +
		"| x | d | 3 | 1 | 3.00x | - | - |\n" +
		"\n1 of 2 goals met.\n" +
		"\n**x**\n\n- why\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("markdown (-want +got):\n%s", diff)
	}
}

// TestMain lets the test binary be the process section's runner, as the
// bench binary is: the section starts os.Executable() as the runner.
func TestMain(m *testing.M) {
	if os.Getenv(runnerEnv) != "" {
		os.Exit(runChild(os.Args[1:]))
	}
	os.Exit(m.Run())
}
