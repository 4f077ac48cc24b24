package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/metrics"
)

// env is what a command may touch of the outside world. Nothing below cmd
// reads flags or the environment: commands hand settings down as values.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	log            zerolog.Logger
	// stderrTTY and stdoutTTY say whether those streams are terminals.
	stdoutTTY, stderrTTY bool
}

// config holds every setting of every command; each command registers the
// flags it takes.
type config struct {
	// inputs
	groups, users, mapping, inputFormat string
	encoding, delimiter, sheet          string
	maxErrors                           int
	// inputFS, when set, holds the input files instead of the operating
	// system (the demo's embedded examples). It is not a flag.
	inputFS fs.FS
	// connection
	apiURL, authURL string
	rate            float64
	burst           int
	concurrency     string
	root            string
	grace           time.Duration
	// planning
	policy, maxDeletes, maxChanges, maxInvalid string
	force                                      bool
	// approve is apply's --approve: the only plan digest it applies.
	approve string
	// outputs
	report, results, undo, out, outDir string
	resultsReport                      string
	detailedExitcode, dryRun           bool
	metricsFile, pushgateway           string
	output, logFormat, logLevel        string
	// traceHTTP is --trace-http; traceAlways and traceBody (not flags) let
	// a command trace without a file (doctor) and size the bodies kept.
	traceHTTP   string
	traceAlways bool
	traceBody   int
	// sandbox
	addr, stateFile string
	latency         time.Duration
	rateLimit       float64
	failRate        float64
	deleteCascade   bool
	// sandbox dialect (see convirzatest.Dialect)
	treeForm, roles, groupDetail, expiresIn string
	maxPageSize                             int
	listGroups                              bool

	// fromEnv maps a flag's name to the variable that set it, for flags
	// not given on the command line.
	fromEnv map[string]string
}

// ref names where a flag's value came from, for a message about a bad
// value: "--policy", or "CONVIRZA_SYNC_POLICY" when the environment set it.
func (c *config) ref(flagName string) string {
	if v, ok := c.fromEnv[flagName]; ok {
		return v
	}
	return "--" + flagName
}

type flagGroup func(fs *flag.FlagSet, c *config)

func logFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.logFormat, "log-format", "auto", "log format: json, console or auto (console on a TTY)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

func inputFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.groups, "groups", "", "the groups export, CSV, XLSX or JSON (or a combined JSON file)")
	fs.StringVar(&c.users, "users", "", "the users export; users are managed only when it is given")
	fs.StringVar(&c.mapping, "mapping", "", "the mapping file (YAML); optional with canonical columns")
	fs.StringVar(&c.inputFormat, "input-format", "", "csv, json or xlsx; by default chosen by the file extension")
	readFlags(fs, c)
	fs.IntVar(&c.maxErrors, "max-errors", 50, "row problems printed on a terminal (0: all); --output json lists them all")
}

// readFlags say how to read the export files.
func readFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.encoding, "encoding", "", "the exports' text encoding: utf-8, utf-16le, utf-16be, windows-1252 or iso-8859-1 (default: UTF-8, or UTF-16 by its byte-order mark)")
	fs.StringVar(&c.delimiter, "delimiter", "", "the CSV delimiter: , ; tab or | (default: detected from the header)")
	fs.StringVar(&c.sheet, "sheet", "", "the worksheet of an XLSX export (default: the first)")
}

func apiFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.apiURL, "api-url", "https://platform-api.convirza.com/v3", "the Convirza API base URL (env CONVIRZA_API_URL)")
	fs.StringVar(&c.authURL, "auth-url", "https://platform-oauth.convirza.com", "the Convirza auth base URL (env CONVIRZA_AUTH_URL)")
	fs.Float64Var(&c.rate, "rate", 10, "API requests per second, reads included")
	fs.IntVar(&c.burst, "burst", 0, "the rate limiter's burst (default: = rate)")
	fs.StringVar(&c.root, "root", "", "the root group: an ext id or id:N (default: the caller's group)")
	fs.StringVar(&c.metricsFile, "metrics-file", "", "write run metrics in the Prometheus text format")
	fs.StringVar(&c.pushgateway, "pushgateway", "", "push run metrics to this Prometheus Pushgateway URL")
	fs.StringVar(&c.traceHTTP, "trace-http", "", "write every request and response as a HAR 1.2 file for support (secrets redacted, mode 0600)")
}

func writeFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.concurrency, "concurrency", "auto", "concurrent API calls: auto (rate × latency, at most 64) or a number")
	fs.DurationVar(&c.grace, "grace", defaultGrace, "after SIGTERM, how long in-flight calls may take to finish")
	fs.StringVar(&c.results, "results", "", "write the per-change outcome CSV")
	fs.StringVar(&c.undo, "undo", "", "after a real apply, write a plan that restores what was changed")
	fs.StringVar(&c.resultsReport, "results-report", "", "after a real apply, write the results report: .html, .md, .txt, .json or .csv")
}

func planFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.policy, "policy", "upsert", "upsert, create-only, update-only or mirror")
	fs.StringVar(&c.maxDeletes, "max-deletes", "10%", "most deletes allowed: a count or a percentage of owned objects")
	fs.StringVar(&c.maxChanges, "max-changes", "off", "most changes allowed: a count, a percentage, or off")
	fs.StringVar(&c.maxInvalid, "max-invalid", "0", "how many invalid export rows may be skipped (a count or a percentage)")
	fs.BoolVar(&c.force, "force", false, "pass the safety gates (not the empty-export error)")
	fs.StringVar(&c.report, "report", "", "write the plan report: .txt, .md, .json, .csv or .html; several: a,b")
	fs.BoolVar(&c.detailedExitcode, "detailed-exitcode", false, "exit 2 when changes are pending (plan, sync --dry-run)")
}

func outputFlag(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.output, "output", "text", "how results are printed: text or json")
}

func sandboxFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address (loopback unless told otherwise)")
	fs.StringVar(&c.stateFile, "state", "", "load (and on exit save) this state.json")
	fs.DurationVar(&c.latency, "latency", 0, "added latency per request, e.g. 20ms")
	fs.Float64Var(&c.rateLimit, "rate-limit", 0, "requests per second before answering 429 (0: off)")
	fs.Float64Var(&c.failRate, "fail-rate", 0, "share of requests answered with a 5xx, from 0 to 1")
	fs.BoolVar(&c.deleteCascade, "delete-cascade", false, "a group delete also deletes its child groups and their users, as an older backend did")
	dialectFlags(fs, c)
}

// command is one subcommand of the CLI.
type command struct {
	name, args, summary string
	flags               []flagGroup
	minArgs, maxArgs    int
	run                 func(ctx context.Context, e *env, c *config, args []string) error
}

func commands() []*command {
	inputs := []flagGroup{inputFlags}
	remote := append(append([]flagGroup{}, inputs...), apiFlags, planFlags)
	return []*command{
		{name: "sync", args: "[inputs] [--dry-run]", summary: "load, read Convirza, plan, then apply (or only report)",
			flags: append(append([]flagGroup{}, remote...), writeFlags, outputFlag, func(fs *flag.FlagSet, c *config) {
				fs.BoolVar(&c.dryRun, "dry-run", false, "plan and report only; make no write")
			}), run: runSync},
		{name: "plan", args: "[inputs] [--out PLAN]", summary: "the same as sync --dry-run, and it can save the plan",
			flags: append(append([]flagGroup{}, remote...), outputFlag, func(fs *flag.FlagSet, c *config) {
				// Accepted so that plan takes what sync --dry-run takes; a plan
				// never writes, so they change nothing.
				fs.BoolVar(&c.dryRun, "dry-run", true, "plan is always a dry run")
				fs.StringVar(&c.concurrency, "concurrency", "auto", "accepted for symmetry with sync; plan makes no write")
				fs.DurationVar(&c.grace, "grace", defaultGrace, "accepted for symmetry with sync; plan makes no write")
				fs.StringVar(&c.out, "out", "", "save the plan to this file")
				fs.StringVar(&c.results, "results", "", "write the per-change CSV (every row planned)")
			}), run: runPlan},
		{name: "apply", args: "PLAN", summary: "apply a saved plan, after checking that it is not stale",
			flags: []flagGroup{apiFlags, writeFlags, outputFlag, func(fs *flag.FlagSet, c *config) {
				fs.StringVar(&c.report, "report", "", "write the plan report: .txt, .md, .json, .csv or .html; several: a,b")
				fs.StringVar(&c.approve, "approve", "", "apply only the plan of this digest (sha256:…, as its reports show it)")
			}}, minArgs: 1, maxArgs: 1, run: runApply},
		{name: "validate", args: "[inputs]", summary: "check the export and mapping offline, with no API calls",
			flags: append(append([]flagGroup{}, inputs...), outputFlag, func(fs *flag.FlagSet, c *config) {
				fs.StringVar(&c.root, "root", "", "the root group's ext id, which parent_ext_id may name")
			}), run: runValidate},
		{name: "export", args: "--out-dir DIR", summary: "write Convirza's current state as CSV and state.json",
			flags: []flagGroup{apiFlags, func(fs *flag.FlagSet, c *config) {
				fs.StringVar(&c.outDir, "out-dir", "", "the directory to write groups.csv, users.csv and state.json to")
			}}, run: runExport},
		{name: "sandbox", args: "[--addr A] [--state FILE] …",
			summary: "serve an in-memory Convirza v3 sandbox", flags: []flagGroup{sandboxFlags}, run: runSandbox},
		{name: "demo", summary: "the whole job against an in-process sandbox (embedded data)",
			flags: []flagGroup{func(fs *flag.FlagSet, c *config) {
				fs.StringVar(&c.report, "report", "", "also write the plan report: .txt, .md, .json, .csv or .html; several: a,b")
				fs.StringVar(&c.results, "results", "", "write the per-change outcome CSV")
			}}, run: runDemo},
		doctorCommand(),
		initCommand(),
		{name: "version", summary: "print the version", run: runVersion},
	}
}

// run is the whole program: parse, build the logger, run the command. It
// returns the error that exitCode maps; a nil error is exit 0.
func run(ctx context.Context, args []string, e *env) error {
	cmds := commands()
	if len(args) == 0 {
		printUsage(e.stderr, cmds)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		printUsage(e.stdout, cmds)
		return nil
	case "--version", "-version":
		name = "version"
	}
	var cmd *command
	for _, c := range cmds {
		if c.name == name {
			cmd = c
		}
	}
	if cmd == nil {
		printUsage(e.stderr, cmds)
		return usagef("unknown command %q", name)
	}
	c := &config{}
	fs := flag.NewFlagSet("convirza-sync "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, g := range append([]flagGroup{logFlags}, cmd.flags...) {
		g(fs, c)
	}
	pos, err := parseArgs(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(e.stdout, cmd, fs)
		return nil
	}
	if err != nil {
		printCommandUsage(e.stderr, cmd, fs)
		return usagef("%s: %v", cmd.name, err)
	}
	if c.fromEnv, err = applyEnv(fs, e.getenv); err != nil {
		return err
	}
	if err := checkValues(fs, c); err != nil {
		printCommandUsage(e.stderr, cmd, fs)
		return err
	}
	if len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs {
		printCommandUsage(e.stderr, cmd, fs)
		if len(pos) > cmd.maxArgs {
			return usagef("%s: unexpected argument %q", cmd.name, pos[cmd.maxArgs])
		}
		return usagef("%s: missing argument %s", cmd.name, cmd.args)
	}
	if e.log, err = newLogger(e.stderr, e.stderrTTY, e.color(e.stderrTTY), c.logFormat, c.logLevel); err != nil {
		return err
	}
	return cmd.run(ctx, e, c, pos)
}

// parseArgs parses flags that may stand before or after the positional
// arguments, as "apply plan.json --rate 5" reads.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag, or after "--".
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// envName is a flag's environment twin: --max-deletes is
// CONVIRZA_SYNC_MAX_DELETES.
func envName(flagName string) string {
	return "CONVIRZA_SYNC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envAliases are the documented variables that do not follow the
// CONVIRZA_SYNC_ pattern; they lose to the patterned name.
var envAliases = map[string]string{
	"api-url":  "CONVIRZA_API_URL",
	"auth-url": "CONVIRZA_AUTH_URL",
}

// applyEnv sets every flag not given on the command line from its
// environment twin. Flags win over the environment. It returns the flags it
// set, each with the variable that set it.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) (map[string]string, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	from := map[string]string{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		for _, name := range []string{envName(f.Name), envAliases[f.Name]} {
			if name == "" {
				continue
			}
			if v, ok := lookup(getenv, name); ok {
				if e := fs.Set(f.Name, v); e != nil {
					err = usagef("%s: invalid value %q: %v", name, v, e)
				}
				from[f.Name] = name
				return
			}
		}
	})
	return from, err
}

// lookup reads a variable; an empty value counts as unset.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func printUsage(w io.Writer, cmds []*command) {
	fmt.Fprintf(w, "convirza-sync keeps Convirza's groups and users in step with a CRM export.\n\nUsage:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  convirza-sync %-9s %-28s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"convirza-sync COMMAND --help\" for a command's flags. Every flag --foo-bar can also be\nset as CONVIRZA_SYNC_FOO_BAR. Credentials come from the environment only:\nCONVIRZA_TOKEN(_FILE), or CONVIRZA_EMAIL(_FILE) with CONVIRZA_PASSWORD(_FILE).\n")
}

func printCommandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: convirza-sync %s %s\n\n%s.\n", cmd.name, cmd.args, cmd.summary)
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = " (default " + strconv.Quote(f.DefValue) + ")"
		}
		lines = append(lines, fmt.Sprintf("  --%-18s %s%s [%s]", f.Name, f.Usage, def, envName(f.Name)))
	})
	if len(lines) > 0 {
		sort.Strings(lines)
		fmt.Fprintf(w, "\nFlags:\n%s\n", strings.Join(lines, "\n"))
	}
}

// color is the one colour decision of the program: a stream may carry ANSI
// colours when it is a terminal, NO_COLOR is unset or empty
// (https://no-color.org) and TERM is not "dumb".
func (e *env) color(tty bool) bool {
	return tty && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// checkValues refuses, as usage errors, the values of a command's flags
// that can be judged without any call (choices, limits, numbers, the form
// of --root, the URL of --pushgateway), before credentials or files are
// looked at.
func checkValues(fs *flag.FlagSet, c *config) error {
	has := func(name string) bool { return fs.Lookup(name) != nil }
	switch {
	case has("output") && c.output != "text" && c.output != "json":
		return usagef("%s: want text or json, got %q", c.ref("output"), c.output)
	case has("input-format") && c.inputFormat != "" && c.inputFormat != "csv" && c.inputFormat != "json" && c.inputFormat != "xlsx":
		return usagef("%s: want csv, json or xlsx, got %q", c.ref("input-format"), c.inputFormat)
	case has("max-errors") && c.maxErrors < 0:
		return usagef("%s cannot be negative", c.ref("max-errors"))
	}
	if has("encoding") {
		if _, err := mapping.ParseEncoding(c.encoding); err != nil {
			return usagef("%s: %v", c.ref("encoding"), err)
		}
		if _, err := mapping.ParseDelimiter(c.delimiter); err != nil {
			return usagef("%s: %v", c.ref("delimiter"), err)
		}
	}
	if id, ok := strings.CutPrefix(c.root, "id:"); ok && has("root") {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
			return usagef("%s: want an ext id or id:N with N a group id, got %q", c.ref("root"), c.root)
		}
	}
	if has("policy") {
		if _, err := planSettings(c); err != nil {
			return err
		}
	}
	if has("concurrency") {
		if _, err := concurrencySetting(c); err != nil {
			return err
		}
	}
	if has("rate") && c.rate <= 0 {
		return usagef("%s must be above 0, got %v", c.ref("rate"), c.rate)
	}
	if has("burst") && c.burst < 0 {
		return usagef("%s cannot be negative", c.ref("burst"))
	}
	if has("pushgateway") && c.pushgateway != "" {
		if err := metrics.CheckPushURL(c.pushgateway); err != nil {
			return usagef("%s: %v", c.ref("pushgateway"), err)
		}
	}
	return nil
}
