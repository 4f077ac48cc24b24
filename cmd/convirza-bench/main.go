// Command convirza-bench measures convirza-sync against the limits it
// claims, and never talks to a real Convirza: in one run, against the
// in-process sandbox (convirzatest), it prints each figure beside its
// reference:
//
//   - reads: the calls of a full fetch against the minimum the API allows;
//   - writes: the writes made against the real differences;
//   - rate: the write rate achieved against the client's --rate;
//   - plan: the time and memory of planning against a raw encoding/csv read;
//   - process: the peak resident memory of the CLI's `plan`, as a whole
//     process, against a filled sandbox;
//   - phones: phone normalisation per value, cold NANP prefixes and
//     other countries' E.164 numbers;
//   - naive: a GET-then-full-PATCH loop against fetch, plan and apply.
//
// Invariant: every reference is measured or counted in the same run,
// independently of the code under test (the minimum of reads from the
// sandbox's own data, the differences from the rows the bench changed, the
// raw read from the same files), and nothing is hard-coded; a goal that is
// missed is printed as MISS with the reason in the notes. Progress goes to
// stderr, the table to stdout.
//
// Usage:
//
//	go run ./cmd/convirza-bench [-quick] [-sections reads,writes,rate,plan,naive] [-md] [-cpuprofile FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit codes: 0 the bench ran (whether or not every goal was met), 1 a
// section could not run, 64 a usage error.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 64
)

var allSections = []string{"reads", "writes", "rate", "plan", "process", "phones", "naive"}

func main() {
	if os.Getenv(runnerEnv) != "" {
		os.Exit(runChild(os.Args[1:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// bench is one run: its sizes, where progress goes, and when it started.
type bench struct {
	cfg    config
	stderr io.Writer
	start  time.Time
}

// logf prints a progress line on stderr.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convirza-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small sizes, for CI: seconds instead of minutes (the timing goals are then indicative)")
	sections := fs.String("sections", strings.Join(allSections, ","), "the sections to run, comma-separated: "+strings.Join(allSections, ", "))
	md := fs.Bool("md", false, "print the table as Markdown (for the README)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file` (to find where a missed goal goes)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: convirza-bench [-quick] [-sections %s] [-md]\n\n", strings.Join(allSections, ","))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "convirza-bench: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	want, err := parseSections(*sections)
	if err != nil {
		fmt.Fprintf(stderr, "convirza-bench: %v\n", err)
		return exitUsage
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "convirza-bench: create the cpu profile: %v\n", err)
			return exitFail
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "convirza-bench: start the cpu profile: %v\n", err)
			return exitFail
		}
		defer pprof.StopCPUProfile()
	}
	b := &bench{cfg: fullConfig(), stderr: stderr, start: time.Now()}
	mode := "full"
	if *quick {
		b.cfg, mode = quickConfig(), "quick"
	}
	runners := map[string]func(context.Context) (*section, error){
		"reads": b.reads, "writes": b.writes, "rate": b.rate, "plan": b.planning, "process": b.process, "phones": b.phones, "naive": b.naive,
	}
	var secs []*section
	failed := false
	for _, name := range allSections {
		if !slices.Contains(want, name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		b.logf("section %s: start", name)
		s, err := runners[name](ctx)
		if err != nil {
			fmt.Fprintf(stderr, "convirza-bench: section %s: %v\n", name, err)
			failed = true
			if s == nil {
				continue
			}
			s.note("the section stopped early: %v", err)
		}
		b.logf("section %s: done", name)
		secs = append(secs, s)
	}
	preamble := []string{
		fmt.Sprintf("convirza-bench (%s mode): %s %s/%s, GOMAXPROCS %d, sandbox in-process over loopback HTTP",
			mode, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0)),
		fmt.Sprintf("total time %s", time.Since(b.start).Round(100*time.Millisecond)),
	}
	if *quick {
		preamble = append(preamble, "quick mode: small sizes, to prove the bench works; the timing figures are indicative only")
	}
	if err := render(stdout, preamble, secs, *md); err != nil {
		fmt.Fprintf(stderr, "convirza-bench: %v\n", err)
		return exitFail
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "convirza-bench: interrupted")
		return exitFail
	}
	if failed {
		return exitFail
	}
	return exitOK
}

func parseSections(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(allSections, name) {
			return nil, fmt.Errorf("unknown section %q (want some of %s)", name, strings.Join(allSections, ", "))
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("no section to run")
	}
	return out, nil
}
