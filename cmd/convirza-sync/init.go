package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/convirza-sync/convirza-sync/mapping"
)

// initCommand drafts a mapping file from the exports' headers.
func initCommand() *command {
	return &command{name: "init", args: "--groups F [--users F] …",
		summary: "draft a commented mapping from the exports' headers",
		flags: []flagGroup{func(fs *flag.FlagSet, c *config) {
			fs.StringVar(&c.groups, "groups", "", "the groups export (CSV, JSON or XLSX)")
			fs.StringVar(&c.users, "users", "", "the users export")
			fs.StringVar(&c.out, "out", "", "write the mapping to this file (default: stdout); an existing file is kept")
			readFlags(fs, c)
		}}, run: runInit}
}

// runInit writes the draft to stdout, or to --out, which it never
// overwrites.
func runInit(_ context.Context, e *env, c *config, _ []string) error {
	if c.groups == "" && c.users == "" {
		return usagef("give the export: --groups FILE and/or --users FILE")
	}
	b, err := mapping.Draft(mapping.DraftOptions{GroupsPath: c.groups, UsersPath: c.users,
		Encoding: c.encoding, Delimiter: c.delimiter, Sheet: c.sheet})
	if err != nil {
		return err
	}
	if c.out == "" {
		_, err := e.stdout.Write(b)
		return err
	}
	f, err := os.OpenFile(c.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write the mapping: %w (init never overwrites a mapping)", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write the mapping: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the mapping: %w", err)
	}
	next := "convirza-sync validate --mapping " + c.out
	if c.groups != "" {
		next += " --groups " + c.groups
	}
	if c.users != "" {
		next += " --users " + c.users
	}
	fmt.Fprintf(e.stderr, "Wrote %s. Next: %s\n", c.out, next)
	return nil
}
