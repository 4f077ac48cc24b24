package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/apply"
)

// runCLI runs the CLI in-process with the given environment.
func runCLI(t *testing.T, envv map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return envv[k] }}
	err := run(context.Background(), args, e)
	if msg := errorMessage(err); msg != "" {
		errb.WriteString(msg)
	}
	return exitCode(err), out.String(), errb.String()
}

func TestUsageErrorsExit64(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"no command", nil, nil, 64},
		{"unknown command", nil, []string{"frobnicate"}, 64},
		{"unknown flag", nil, []string{"validate", "--nope"}, 64},
		{"bad value", nil, []string{"sync", "--rate", "fast"}, 64},
		{"bad env value", map[string]string{"CONVIRZA_SYNC_RATE": "fast"}, []string{"sync"}, 64},
		{"bad log level", nil, []string{"version", "--log-level", "loud"}, 64},
		{"apply needs a plan", nil, []string{"apply"}, 64},
		{"extra argument", nil, []string{"version", "extra"}, 64},
		{"help", nil, []string{"--help"}, 0},
		{"command help", nil, []string{"sync", "--help"}, 0},
		{"version", nil, []string{"version"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "convirza-sync ") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
}

func TestEnvTwinsAndPrecedence(t *testing.T) {
	c := &config{}
	fs := newTestFlagSet(c)
	if _, err := parseArgs(fs, []string{"--rate", "7"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CONVIRZA_SYNC_RATE":        "20",
		"CONVIRZA_SYNC_MAX_DELETES": "5",
		"CONVIRZA_API_URL":          "http://127.0.0.1:1/v3",
		"CONVIRZA_SYNC_AUTH_URL":    "http://127.0.0.1:2",
		"CONVIRZA_AUTH_URL":         "http://127.0.0.1:3",
	}
	from, err := applyEnv(fs, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	wantFrom := map[string]string{"max-deletes": "CONVIRZA_SYNC_MAX_DELETES", "api-url": "CONVIRZA_API_URL", "auth-url": "CONVIRZA_SYNC_AUTH_URL"}
	if !maps.Equal(from, wantFrom) {
		t.Errorf("set from the environment: %v, want %v", from, wantFrom)
	}
	if c.rate != 7 {
		t.Errorf("rate = %v, want the flag's 7 over the environment's 20", c.rate)
	}
	if c.maxDeletes != "5" {
		t.Errorf("max-deletes = %q, want 5 from CONVIRZA_SYNC_MAX_DELETES", c.maxDeletes)
	}
	if c.apiURL != "http://127.0.0.1:1/v3" {
		t.Errorf("api-url = %q, want CONVIRZA_API_URL", c.apiURL)
	}
	if c.authURL != "http://127.0.0.1:2" {
		t.Errorf("auth-url = %q, want CONVIRZA_SYNC_AUTH_URL over CONVIRZA_AUTH_URL", c.authURL)
	}
}

func newTestFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, g := range []flagGroup{logFlags, inputFlags, apiFlags, planFlags, writeFlags} {
		g(fs, c)
	}
	return fs
}

func TestInterspersedArgs(t *testing.T) {
	c := &config{}
	fs := newTestFlagSet(c)
	pos, err := parseArgs(fs, []string{"--rate", "3", "plan.json", "--force", "--", "--odd"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, " ") != "plan.json --odd" || c.rate != 3 || !c.force {
		t.Errorf("pos %q rate %v force %v", pos, c.rate, c.force)
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		want      credentials
		wantCode  int
		wantInErr string
	}{
		{"token", map[string]string{"CONVIRZA_TOKEN": "abc"}, credentials{token: "abc"}, 0, ""},
		{"token file trimmed", map[string]string{"CONVIRZA_TOKEN_FILE": tokenFile}, credentials{token: "s3cret-token"}, 0, ""},
		{"token wins", map[string]string{"CONVIRZA_TOKEN": "abc", "CONVIRZA_EMAIL": "a@b.c", "CONVIRZA_PASSWORD": "pw"}, credentials{token: "abc"}, 0, ""},
		{"login", map[string]string{"CONVIRZA_EMAIL": "a@b.c", "CONVIRZA_PASSWORD_FILE": tokenFile}, credentials{email: "a@b.c", password: "s3cret-token"}, 0, ""},
		{"both var and file", map[string]string{"CONVIRZA_TOKEN": "abc", "CONVIRZA_TOKEN_FILE": tokenFile}, credentials{}, 64, "CONVIRZA_TOKEN_FILE"},
		{"none", nil, credentials{}, 1, "CONVIRZA_TOKEN"},
		{"email alone", map[string]string{"CONVIRZA_EMAIL": "a@b.c"}, credentials{}, 1, "CONVIRZA_PASSWORD"},
		{"missing file", map[string]string{"CONVIRZA_TOKEN_FILE": filepath.Join(dir, "nope")}, credentials{}, 1, "CONVIRZA_TOKEN_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadCredentials(func(k string) string { return tt.env[k] })
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d, want %d (%v)", code, tt.wantCode, err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not name %s", err, tt.wantInErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	canceled := fmt.Errorf("read Convirza's current state: GET /v3/groups/tree: %w", context.Canceled)
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("boom"), 1},
		{"usage", usagef("bad"), 64},
		{"applied", &appliedError{err: errors.New("some failed"), res: &apply.Results{}}, 3},
		{"applied, interrupted", &appliedError{err: fmt.Errorf("%w: 3 changes done", errInterrupted), res: &apply.Results{}}, 130},
		{"pending", errPending, 2},
		{"interrupted", canceled, 130},
		// A step that chose exit 1 but was cut short by a signal: interrupted.
		{"interrupted read", fmt.Errorf("the plan was made for root group 7: %w", canceled), 130},
		{"usage wins", errors.Join(usagef("bad"), canceled), 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestColor(t *testing.T) {
	tests := []struct {
		noColor, term string
		tty, want     bool
	}{
		{"", "xterm-256color", true, true},
		{"1", "xterm-256color", true, false},
		{"", "dumb", true, false},
		{"", "xterm", false, false},
	}
	for _, tt := range tests {
		e := &env{getenv: func(k string) string { return map[string]string{"NO_COLOR": tt.noColor, "TERM": tt.term}[k] }}
		if got := e.color(tt.tty); got != tt.want {
			t.Errorf("color with NO_COLOR=%q TERM=%q tty=%v: %v, want %v", tt.noColor, tt.term, tt.tty, got, tt.want)
		}
	}
}
