package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/report"
)

// runSandbox serves the in-memory Convirza v3 sandbox until interrupted.
// With --state it starts from that state.json and saves it back on exit,
// so a rehearsal can be stopped and resumed.
func runSandbox(ctx context.Context, e *env, c *config, _ []string) error {
	if c.failRate < 0 || c.failRate > 1 {
		return usagef("%s must be between 0 and 1, got %v", c.ref("fail-rate"), c.failRate)
	}
	if c.rateLimit < 0 || c.latency < 0 {
		return usagef("--rate-limit and --latency cannot be negative")
	}
	opts := convirzatest.Options{Latency: c.latency, RateLimit: c.rateLimit, FailRate: c.failRate}
	if c.deleteCascade {
		opts.DeleteSemantics = convirzatest.DeleteCascade
	}
	if err := sandboxDialect(c, &opts); err != nil {
		return err
	}
	sb := convirzatest.New(opts)
	if c.stateFile != "" {
		f, err := os.Open(c.stateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
			e.log.Info().Str("state", c.stateFile).Msg("state file does not exist yet; starting from the default state and saving there on exit")
		case err != nil:
			return fmt.Errorf("open sandbox state: %w", err)
		default:
			err = sb.LoadState(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("load sandbox state %s: %w", c.stateFile, err)
			}
		}
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return usagef("--addr %q: %v", c.addr, err)
	}
	srv, err := convirzatest.StartServer(sb, c.addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		e.log.Warn().Str("addr", c.addr).Msg("the sandbox listens beyond loopback; anyone who can reach this address can use its token")
	}
	fmt.Fprintf(e.stdout, "Convirza sandbox listening on %s\n\n", srv.URL)
	fmt.Fprintf(e.stdout, "  export CONVIRZA_API_URL=%s\n", srv.APIURL())
	fmt.Fprintf(e.stdout, "  export CONVIRZA_AUTH_URL=%s\n", srv.AuthURL())
	fmt.Fprintf(e.stdout, "  export CONVIRZA_TOKEN=%s\n\n", sb.Token())
	fmt.Fprintf(e.stdout, "Any email logs in with the password %q. Ctrl-C stops it", convirzatest.Password)
	if c.stateFile != "" {
		fmt.Fprintf(e.stdout, " and saves the state to %s", c.stateFile)
	}
	fmt.Fprintln(e.stdout, ".")
	e.log.Info().Str("url", srv.URL).Str("latency", c.latency.String()).Float64("rate_limit", c.rateLimit).Float64("fail_rate", c.failRate).Bool("delete_cascade", c.deleteCascade).Msg("sandbox started")

	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if c.stateFile != "" {
		if err := report.WriteFile(c.stateFile, sb.SaveState); err != nil {
			return fmt.Errorf("save sandbox state: %w", err)
		}
		e.log.Info().Str("state", c.stateFile).Msg("sandbox state saved")
	}
	return nil
}
