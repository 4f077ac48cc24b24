package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/apply"
)

// The exit codes of DESIGN.md. exitCode derives them, and nothing else
// picks one: commands return typed errors, and a run that applied returns
// its Results with its error.
const (
	exitOK        = 0
	exitFailed    = 1   // failed before any write
	exitPending   = 2   // changes pending (--detailed-exitcode)
	exitPartial   = 3   // writes were made, but some changes failed or were blocked
	exitUsage     = 64  // a usage error
	exitInterrupt = 130 // SIGINT or SIGTERM
)

// defaultGrace is --grace: inside Kubernetes' default 30 s termination grace.
const defaultGrace = 20 * time.Second

// usageError is a bad flag, value or argument: exit 64.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errPending says a dry run found changes and --detailed-exitcode asked to
// hear it: exit 2, with nothing more printed.
var errPending = errors.New("changes pending")

// errInterrupted is a run that a signal cut short after it began to write.
// It is a context.Canceled, so that it exits 130 like any other step a
// signal stops, but it says so in one word.
var errInterrupted error = interrupted{}

type interrupted struct{}

func (interrupted) Error() string        { return "interrupted" }
func (interrupted) Is(target error) bool { return target == context.Canceled }

// appliedError is the error of a run that called apply.Apply: writes may
// have been made, so it is not a failure "before any write".
type appliedError struct {
	err error
	res *apply.Results
}

func (e *appliedError) Error() string { return e.err.Error() }
func (e *appliedError) Unwrap() error { return e.err }

// exitCode derives the process exit code from the error run returned: the
// one place that decides it.
func exitCode(err error) int {
	var ue *usageError
	var ae *appliedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		// A signal cancelled the run's context: whatever step it cut short
		// (a read, a login, the apply), the run was interrupted.
		return exitInterrupt
	case errors.Is(err, errPending):
		return exitPending
	case errors.As(err, &ae) && ae.res != nil:
		return exitPartial
	}
	return exitFailed
}

// errorMessage is what main prints for err: nothing for success, or for
// pending changes, which the plan on stdout has already shown.
func errorMessage(err error) string {
	if err == nil || err == errPending {
		return ""
	}
	return err.Error()
}
