package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The exit codes of DESIGN.md. They are decided here, and only here.
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

// exitError carries an exit code chosen by a command, with an optional
// message (an empty one prints nothing more).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// exitCode maps an error from run to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		// A signal cancelled the run's context: whatever step it cut short
		// (a read, a login) and whatever code that step chose, the run was
		// interrupted.
		return exitInterrupt
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}

// errorMessage is what main prints for err: nothing for success, or for an
// exit code whose command has already said why.
func errorMessage(err error) string {
	var ee *exitError
	if err == nil || errors.As(err, &ee) && ee.err == nil {
		return ""
	}
	return err.Error()
}
