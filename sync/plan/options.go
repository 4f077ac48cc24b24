package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Options steer Calculate. The zero value is usable: the upsert policy and
// each gate's default limit.
type Options struct {
	// Policy selects which changes the plan may hold; "" is upsert.
	Policy Policy
	// Account is copied into the Plan. Its RootID is always current.RootID;
	// an empty RootExtID, RootName or CallerUserID is filled in from the
	// current state.
	Account Account
	// MaxDeletes limits deletes and deactivations (default DefaultMaxDeletes),
	// MaxChanges all changes (default off), MaxInvalid the invalid export rows
	// that may be skipped (default 0). A zero Limit means that default.
	MaxDeletes, MaxChanges, MaxInvalid Limit
	// Force passes the tripped gates, except max-invalid and the empty export.
	Force bool
	// PhoneRegion is the region assumed for phone numbers without a country
	// code ("" is US).
	PhoneRegion string
}

// The gates' defaults, in the syntax of ParseLimit (and of the flags).
const (
	DefaultMaxDeletes = "10%"
	DefaultMaxChanges = "off"
	DefaultMaxInvalid = "0"
)

// MinPercentBase is how many owned objects there must be before a
// percentage limit applies; below it, a percentage gate does not trip.
const MinPercentBase = 10

type limitKind uint8

const (
	limitDefault limitKind = iota
	limitOff
	limitCount
	limitPercent
)

// Limit is a gate threshold: a count ("5"), a percentage of the gate's base
// ("10%"), or off. The zero Limit stands for the gate's default. Limit
// implements flag.Value.
type Limit struct {
	kind    limitKind
	count   int
	percent float64
}

// ParseLimit reads a limit: "5", "10%", "2.5%", "off" or "" (off).
func ParseLimit(s string) (Limit, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "off", "none":
		return NoLimit(), nil
	}
	if num, ok := strings.CutSuffix(t, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
			return Limit{}, fmt.Errorf("parse limit %q: want a percentage from 0%% to 100%%", s)
		}
		return PercentLimit(p), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("parse limit %q: want a count (\"5\"), a percentage (\"10%%\") or \"off\"", s)
	}
	return CountLimit(n), nil
}

// CountLimit is a limit of n objects (negative counts as 0).
func CountLimit(n int) Limit { return Limit{kind: limitCount, count: max(n, 0)} }

// PercentLimit is a limit of p percent of the gate's base, clamped to 0..100.
func PercentLimit(p float64) Limit {
	if math.IsNaN(p) || p < 0 {
		p = 0
	}
	return Limit{kind: limitPercent, percent: min(p, 100)}
}

// NoLimit is a limit that never trips.
func NoLimit() Limit { return Limit{kind: limitOff} }

// IsZero reports whether the limit is unset, meaning the gate's default.
func (l Limit) IsZero() bool { return l.kind == limitDefault }

// Off reports whether the limit never trips.
func (l Limit) Off() bool { return l.kind == limitOff }

// Percent returns the percentage, when the limit is one.
func (l Limit) Percent() (float64, bool) { return l.percent, l.kind == limitPercent }

// Count returns the count, when the limit is one.
func (l Limit) Count() (int, bool) { return l.count, l.kind == limitCount }

// String renders the limit as ParseLimit reads it; "" for the zero Limit.
func (l Limit) String() string {
	switch l.kind {
	case limitOff:
		return "off"
	case limitCount:
		return strconv.Itoa(l.count)
	case limitPercent:
		return strconv.FormatFloat(l.percent, 'f', -1, 64) + "%"
	}
	return ""
}

// Set parses s into l, for flag.Value.
func (l *Limit) Set(s string) error {
	v, err := ParseLimit(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// orDefault returns l, or def parsed when l is the zero Limit.
func (l Limit) orDefault(def string) Limit {
	if !l.IsZero() {
		return l
	}
	v, err := ParseLimit(def)
	if err != nil { // the defaults are constants that parse
		return NoLimit()
	}
	return v
}

// allowed is how many objects the limit allows out of base. applies is
// false when the limit is off, or a percentage with minBase > base.
func (l Limit) allowed(base, minBase int) (allowed int, applies bool) {
	switch l.kind {
	case limitCount:
		return l.count, true
	case limitPercent:
		if base < minBase {
			return 0, false
		}
		return int(math.Floor(l.percent*float64(base)/100 + 1e-9)), true
	}
	return 0, false
}
