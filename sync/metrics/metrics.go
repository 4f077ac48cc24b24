// Package metrics turns the numbers of one finished run into Prometheus
// metrics, and never lets a secret or row data into them. It writes a text
// file (for the node exporter's textfile
// collector, or a file an operator collects) and a push to a Pushgateway.
//
// Invariant: the metrics describe one run and carry only counts, durations,
// timestamps and the label values kind, action, outcome, status and command.
// No URL, token, password or row data ever becomes a metric, and an error
// never shows a Pushgateway URL's credentials.
package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Run is what one run of a command did.
type Run struct {
	// Command is the command that ran ("sync", "apply"...). It becomes the
	// label command: in the file on every metric, and on a push the grouping
	// label command, which the Pushgateway adds to every metric.
	Command string
	// Start and End bound the run.
	Start, End time.Time
	// Success says the run did all it was asked to.
	Success bool
	// Changes counts the changes by kind, action and outcome; entries with
	// the same three values add up.
	Changes []ChangeCount
	// Calls counts API calls by HTTP status; 0 counts transport errors
	// (no answer at all).
	Calls map[int]int
	// Retries counts the calls that were tried again; RateLimited counts the
	// 429 answers.
	Retries, RateLimited int
}

// ChangeCount is how many changes of one kind and action ended in one
// outcome, with the words of the results CSV (e.g. group, create, created).
type ChangeCount struct {
	Kind, Action, Outcome string
	N                     int
}

// The metric names.
const (
	nameDuration    = "convirza_sync_run_duration_seconds"
	nameChanges     = "convirza_sync_changes_total"
	nameCalls       = "convirza_sync_api_calls_total"
	nameRetries     = "convirza_sync_api_retries_total"
	nameRateLimited = "convirza_sync_api_rate_limited_total"
	nameLastSuccess = "convirza_sync_last_success_timestamp_seconds"
	nameSuccess     = "convirza_sync_run_success"
)

// TransportErrorStatus is the status label of calls that got no HTTP
// answer (Calls[0]).
const TransportErrorStatus = "transport_error"

// commandLabel is the label that carries Run.Command.
const commandLabel = "command"

// check reports what makes r unfit to become metrics.
func (r Run) check() error {
	var errs []error
	if r.Start.IsZero() || r.End.IsZero() {
		errs = append(errs, errors.New("the run has no start or no end time"))
	} else if r.End.Before(r.Start) {
		errs = append(errs, fmt.Errorf("the run ends (%s) before it starts (%s)",
			r.End.Format(time.RFC3339), r.Start.Format(time.RFC3339)))
	}
	for _, c := range r.Changes {
		if c.Kind == "" || c.Action == "" || c.Outcome == "" {
			errs = append(errs, fmt.Errorf("change count %+v lacks a kind, action or outcome", c))
		}
		if c.N < 0 {
			errs = append(errs, fmt.Errorf("change count %s/%s/%s is negative: %d", c.Kind, c.Action, c.Outcome, c.N))
		}
	}
	for status, n := range r.Calls {
		if status != 0 && (status < 100 || status > 599) {
			errs = append(errs, fmt.Errorf("api call status %d is not an HTTP status", status))
		}
		if n < 0 {
			errs = append(errs, fmt.Errorf("api call count for status %d is negative: %d", status, n))
		}
	}
	if r.Retries < 0 || r.RateLimited < 0 {
		errs = append(errs, fmt.Errorf("retries (%d) and rate-limited calls (%d) cannot be negative", r.Retries, r.RateLimited))
	}
	return errors.Join(errs...)
}

// statusLabel is the status label value of an HTTP status.
func statusLabel(status int) string {
	if status == 0 {
		return TransportErrorStatus
	}
	return strconv.Itoa(status)
}

// collector serves a fixed set of const metrics.
type collector []prometheus.Metric

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	seen := map[*prometheus.Desc]bool{}
	for _, m := range c {
		if d := m.Desc(); !seen[d] {
			seen[d] = true
			ch <- d
		}
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// options choose what build emits.
type options struct {
	// commandAsLabel puts Run.Command on every metric (the file). A push
	// leaves it out: there it is a grouping label.
	commandAsLabel bool
	// lastSuccess, when the run failed, is an earlier run's
	// last_success_timestamp to keep (nil: emit none).
	lastSuccess *float64
}

// build makes the metrics of r, in a registry of their own.
func build(r Run, o options) (*prometheus.Registry, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("check run metrics: %w", err)
	}
	var constLabels prometheus.Labels
	if o.commandAsLabel && r.Command != "" {
		constLabels = prometheus.Labels{commandLabel: r.Command}
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, constLabels)
	}
	var c collector
	var errs []error
	add := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, t, v, labels...)
		if err != nil {
			errs = append(errs, err)
			return
		}
		c = append(c, m)
	}

	add(desc(nameDuration, "How long the run took, in seconds."),
		prometheus.GaugeValue, r.End.Sub(r.Start).Seconds())
	success := 0.0
	if r.Success {
		success = 1
	}
	add(desc(nameSuccess, "1 when the run did all it was asked to, 0 when it failed."),
		prometheus.GaugeValue, success)
	lastSuccess := o.lastSuccess
	if r.Success {
		v := float64(r.End.UnixNano()) / 1e9
		lastSuccess = &v
	}
	if lastSuccess != nil {
		add(desc(nameLastSuccess, "When the last successful run ended, in seconds since the Unix epoch."),
			prometheus.GaugeValue, *lastSuccess)
	}

	changes := map[[3]string]int{}
	for _, ch := range r.Changes {
		changes[[3]string{ch.Kind, ch.Action, ch.Outcome}] += ch.N
	}
	keys := make([][3]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return a[2] < b[2]
	})
	dChanges := desc(nameChanges, "Changes of the run by kind, action and outcome (the words of the results CSV).",
		"kind", "action", "outcome")
	for _, k := range keys {
		add(dChanges, prometheus.CounterValue, float64(changes[k]), k[0], k[1], k[2])
	}

	statuses := make([]int, 0, len(r.Calls))
	for s := range r.Calls {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	dCalls := desc(nameCalls, "Convirza API calls of the run by HTTP status ("+TransportErrorStatus+": no answer).", "status")
	for _, s := range statuses {
		add(dCalls, prometheus.CounterValue, float64(r.Calls[s]), statusLabel(s))
	}
	add(desc(nameRetries, "Convirza API calls of the run that were tried again."),
		prometheus.CounterValue, float64(r.Retries))
	add(desc(nameRateLimited, "Convirza API answers of the run that were 429 Too Many Requests."),
		prometheus.CounterValue, float64(r.RateLimited))

	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("build run metrics: %w", err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register run metrics: %w", err)
	}
	return reg, nil
}
