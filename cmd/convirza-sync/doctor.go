package main

import (
	"context"
	"errors"
	"flag"

	"github.com/convirza-sync/convirza-sync/sync/doctor"
)

// doctorCommand is `convirza-sync doctor`: the API's behaviour checked
// against the account, read-only (GET requests and the auth calls only).
func doctorCommand() *command {
	return &command{name: "doctor", args: "[--root R] [--output F]",
		summary: "check the API's behaviour against the account, read-only",
		flags: []flagGroup{apiFlags, outputFlag, func(fs *flag.FlagSet, c *config) {
			fs.StringVar(&c.concurrency, "concurrency", "auto", "accepted for symmetry with sync; doctor suggests a value")
		}}, run: runDoctor}
}

// runDoctor prints the report; some check that differs is exit 1.
func runDoctor(ctx context.Context, e *env, c *config, _ []string) error {
	c.traceAlways, c.traceBody = true, 1<<20
	s, err := connect(e, c)
	if err != nil {
		return err
	}
	defer s.close(ctx, e.log)
	rep := doctor.Run(ctx, s.client, s.trace, doctor.Options{Root: c.root, Rate: c.rate})
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.output == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Differs() {
		return errors.New("doctor: some check differs: the job cannot run safely against this account as it is")
	}
	return nil
}
