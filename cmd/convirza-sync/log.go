package main

import (
	"io"
	"time"

	"github.com/rs/zerolog"
)

// newLogger builds the zerolog logger on stderr: JSON, console, or auto
// (console on a TTY, JSON otherwise). color is env.color's decision for
// stderr.
func newLogger(w io.Writer, tty, color bool, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), usagef("--log-level: unknown level %q (want debug, info, warn or error)", level)
	}
	switch format {
	case "auto", "", "console", "json":
	default:
		return zerolog.Nop(), usagef("--log-format: unknown format %q (want json, console or auto)", format)
	}
	if !logJSON(tty, format) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !color}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// logJSON reports whether the log on stderr is JSON lines (else it is for
// people): --log-format json, or auto when stderr is not a terminal.
func logJSON(tty bool, format string) bool {
	return format == "json" || (format == "auto" || format == "") && !tty
}
