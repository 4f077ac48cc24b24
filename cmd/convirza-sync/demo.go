package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/convirza-sync/convirza-sync/examples"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state/statefile"
)

// runDemo runs the whole job against an in-process sandbox seeded with the
// embedded half-set-up account: it prints the plan for the embedded
// Salesforce export, applies it, then shows that a fresh plan is empty. It
// needs no environment, works from any directory and writes no file of its
// own.
func runDemo(ctx context.Context, e *env, c *config, _ []string) error {
	f, err := examples.FS.Open(examples.SandboxState)
	if err != nil {
		return err
	}
	st, err := statefile.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("demo: the embedded sandbox state: %w", err)
	}
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	srv, err := convirzatest.StartServer(sb, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer srv.Close()

	de := *e
	de.getenv = func(k string) string {
		if k == "CONVIRZA_TOKEN" {
			return sb.Token()
		}
		return ""
	}
	dc := *c
	// The export and mapping are read from the binary itself, so the demo
	// writes nothing but what --report and --results ask for: it runs on a
	// read-only root file system too.
	dc.inputFS, dc.groups, dc.users, dc.mapping = examples.FS, examples.Groups, examples.Users, examples.Mapping
	dc.apiURL, dc.authURL = srv.APIURL(), srv.AuthURL()
	dc.rate, dc.concurrency, dc.grace = 100, "auto", defaultGrace
	dc.policy, dc.maxDeletes, dc.maxChanges, dc.maxInvalid = "mirror", "10%", "off", "0"
	dc.output = "text"

	fmt.Fprintf(e.stdout, "convirza-sync demo: a sandbox at %s holds a half-set-up account;\nsyncing examples/%s and examples/%s into it with the mirror policy.\n\n", srv.URL, examples.Groups, examples.Users)
	before := len(sb.Writes())
	if err := runSync(ctx, &de, &dc, nil); err != nil {
		return err
	}
	writes := len(sb.Writes()) - before

	fmt.Fprintf(e.stdout, "\nA fresh plan after the apply (%d writes):\n\n", writes)
	fresh := dc
	fresh.report, fresh.results, fresh.detailedExitcode = "", "", true
	fresh.metricsFile, fresh.pushgateway = "", ""
	if err := planOnly(ctx, &de, &fresh, "demo"); err != nil {
		if errors.Is(err, errPending) {
			return errors.New("demo: the fresh plan is not empty: the sync did not converge")
		}
		return err
	}
	fmt.Fprintln(e.stdout, "\nConvirza now matches the export: the fresh plan is empty.")
	return nil
}
