package main

import (
	"context"
	"errors"
)

// These commands land with their issues; until then they say so.
var errPending = errors.New("this command is not built yet")

func runSync(context.Context, *env, *config, []string) error     { return errPending }
func runPlan(context.Context, *env, *config, []string) error     { return errPending }
func runApply(context.Context, *env, *config, []string) error    { return errPending }
func runValidate(context.Context, *env, *config, []string) error { return errPending }
func runExport(context.Context, *env, *config, []string) error   { return errPending }
func runDemo(context.Context, *env, *config, []string) error     { return errPending }
