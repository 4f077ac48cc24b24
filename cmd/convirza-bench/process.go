package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

const (
	// rssGoal is the whole-process peak resident memory of `plan` at the
	// plan section's size.
	rssGoal = 1 << 30
	// runs is how many times each measured step runs; the table shows the
	// min, median and max.
	runs = 3
)

// spread is the min, median and max of some runs.
type spread struct{ min, med, max float64 }

func spreadOf(xs []float64) spread {
	s := slices.Clone(xs)
	slices.Sort(s)
	return spread{s[0], s[len(s)/2], s[len(s)-1]}
}

func (s spread) format(f func(float64) string) string {
	return f(s.min) + " / " + f(s.med) + " / " + f(s.max)
}

func gib(b float64) string  { return fmt.Sprintf("%.2f GiB", b/(1<<30)) }
func secs(v float64) string { return dur(time.Duration(v * float64(time.Second))) }

// process runs the CLI's `plan`, built from this module, as a child process
// against a filled sandbox served by the bench, and reads its peak resident
// memory from the kernel (rusage maxrss): the whole process, the fetch, the
// load, the plan and the plan file included, with the CLI's defaults.
func (b *bench) process(ctx context.Context) (*section, error) {
	s := &section{Name: "process"}
	dir, err := os.MkdirTemp("", "convirza-bench-*")
	if err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "convirza-sync")
	b.logf("process: build convirza-sync")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/convirza-sync/convirza-sync/cmd/convirza-sync")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build convirza-sync: %v\n%s", err, out)
	}
	tree, users := b.cfg.planTree, b.cfg.planUsers
	b.logf("process: generate %s groups and %s users, write the export, start the sandbox", thousands(sum(tree)), thousands(users))
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: tree, Users: users})
	ex := exportOf(st)
	d := ex.drift(b.cfg.planDrift, 42)
	gp, up, err := ex.write(dir, true)
	if err != nil {
		return nil, err
	}
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{LoginLimit: -1, CallLogLimit: 100})
	if err != nil {
		return nil, fmt.Errorf("load the sandbox: %w", err)
	}
	st, ex = convirzatest.State{}, nil
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	var rss, wall []float64
	var planBytes int64
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out := filepath.Join(dir, "plan.json")
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the bench's own binary: %w", err)
		}
		cmd := exec.CommandContext(ctx, self, bin, "plan", "--groups", gp, "--users", up, "--out", out,
			"--rate", "100000", "--log-level", "warn")
		cmd.Env = append(withoutGCTuning(os.Environ()), runnerEnv+"=1", "CONVIRZA_API_URL="+srv.APIURL(), "CONVIRZA_AUTH_URL="+srv.AuthURL(),
			"CONVIRZA_TOKEN="+srv.Token())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		if err != nil {
			return nil, fmt.Errorf("run %d of convirza-sync plan: %v\n%s", i+1, err, tail(stderr.Bytes(), 2000))
		}
		var maxrss int64
		var took time.Duration
		if _, err := fmt.Sscanf(stdout.String(), "maxrss %d wall %d", &maxrss, &took); err != nil {
			return nil, fmt.Errorf("run %d: read the runner's report %q: %v", i+1, stdout.String(), err)
		}
		rss = append(rss, float64(maxrss))
		wall = append(wall, took.Seconds())
		if fi, err := os.Stat(out); err == nil {
			planBytes = fi.Size()
		}
		b.logf("process: run %d: %s, peak RSS %s", i+1, dur(took), gib(rss[i]))
		if os.Getenv("BENCH_CHILD_STDERR") != "" {
			os.Stderr.Write(stderr.Bytes())
		}
	}
	r, w := spreadOf(rss), spreadOf(wall)
	s.add(row{
		Case: "`plan` peak RSS, whole process", Measured: r.format(gib), Reference: "1 GiB",
		Ratio: pct(r.med, rssGoal), Goal: "<= 1 GiB", Verdict: judge(r.max <= rssGoal),
	})
	s.add(row{Case: "`plan` wall time, whole process", Measured: w.format(secs), Reference: "-", Ratio: "-", Goal: "-"})
	s.note("account: %s groups %v and %s users in the sandbox, %.1f%% of the export's rows drifted (%s rows); the export is read from CSV and the plan saved with --out (%s).",
		thousands(sum(tree)), tree, thousands(users), 100*b.cfg.planDrift, thousands(d.rows()), mib(uint64(planBytes)))
	s.note("each run is `convirza-sync plan --groups --users --out --rate 100000`, built from this module, as a child process with the CLI's defaults (no GOGC or GOMEMLIMIT set by the bench) against the sandbox, served by the bench over loopback HTTP; peak RSS is the child's rusage maxrss, taken by a small runner process (the bench binary again) that starts it: Linux charges a child started straight from a large parent with the parent's peak; figures are min / median / max of %d runs, the goal is graded on the max.", runs)
	return s, nil
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// withoutGCTuning drops GOGC and GOMEMLIMIT from env: the goal is met with
// the defaults.
func withoutGCTuning(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=")
	})
}

// runnerEnv makes the bench binary a runner: it starts the command of its
// arguments, waits, and prints that child's peak RSS (bytes) and wall time
// (ns). It exists because Linux carries a parent's peak RSS into the
// rusage of a child it starts without copying its memory (vfork, as Go
// does): the runner is small, so its child's maxrss is the child's own.
const runnerEnv = "CONVIRZA_BENCH_RUNNER"

// runChild is the runner's main.
func runChild(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "convirza-bench runner: no command")
		return exitUsage
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, runnerEnv+"=") })
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "convirza-bench runner: %v\n", err)
		return exitFail
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "convirza-bench runner: no rusage on this system")
		return exitFail
	}
	fmt.Printf("maxrss %d wall %d\n", ru.Maxrss*1024, took.Nanoseconds()) // Linux reports KiB
	return exitOK
}
