// Command convirza-sync makes Convirza's groups and users match a CRM
// export, and is the only code that reads flags, the environment or the
// terminal. main is thin: it builds the environment and the signal context,
// calls run, and maps the error to an exit code in one place (exitCode).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{
		stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdoutTTY: isTerminal(os.Stdout), stderrTTY: isTerminal(os.Stderr),
	}
	err := run(ctx, os.Args[1:], e)
	stop()
	code := exitCode(err)
	if msg := errorMessage(err); msg != "" {
		fmt.Fprintf(os.Stderr, "convirza-sync: %s\n", msg)
	}
	os.Exit(code)
}
