package convirza

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The adaptive limiter's constants: a 429 halves the rate at most once per
// cutEvery, never below max/minFraction; each raiseEvery without a 429 adds
// max/raiseSteps back, up to the configured rate (additive increase).
const (
	cutEvery    = time.Second
	raiseEvery  = time.Second
	raiseSteps  = 10
	minFraction = 64
)

// limiter is the one token bucket every /v3 request waits on, plus the
// Retry-After gate: no request leaves before notBefore.
type limiter struct {
	lim *rate.Limiter
	max rate.Limit
	// maxGate bounds how long one 429 may hold the gate closed.
	maxGate time.Duration
	// sleep waits for the gate; tests replace it to see the waits.
	sleep func(context.Context, time.Duration) error

	mu        sync.Mutex
	notBefore time.Time
	lastCut   time.Time
	lastRaise time.Time
}

func newLimiter(rps float64, burst int, maxGate time.Duration) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{lim: rate.NewLimiter(rate.Limit(rps), burst), max: rate.Limit(rps), maxGate: maxGate, sleep: sleep}
}

// errWaitPastDeadline wraps context.DeadlineExceeded, so that errors.Is finds
// it, when a wait would end after the context's deadline.
func errWaitPastDeadline(what string, d time.Duration) error {
	return fmt.Errorf("%s: waiting %v would pass the deadline: %w", what, d.Round(time.Millisecond), context.DeadlineExceeded)
}

// wait blocks until the Retry-After gate is open and the bucket has a token.
// Unlike rate.Limiter.Wait, an early failure because of the deadline wraps
// context.DeadlineExceeded, and cancellation returns ctx.Err().
func (l *limiter) wait(ctx context.Context) error {
	if err := l.waitGate(ctx); err != nil {
		return err
	}
	r := l.lim.Reserve()
	if !r.OK() {
		return errors.New("rate limiter: burst too small")
	}
	if d := r.Delay(); d > 0 {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			r.Cancel()
			return errWaitPastDeadline("rate limiter", d)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			r.Cancel()
			return ctx.Err()
		case <-t.C:
		}
	}
	// A 429 may have arrived while this request waited for its token.
	return l.waitGate(ctx)
}

// waitGate blocks until notBefore has passed.
func (l *limiter) waitGate(ctx context.Context) error {
	for {
		l.mu.Lock()
		d := time.Until(l.notBefore)
		l.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return errWaitPastDeadline("retry-after", d)
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// on429 closes the gate for retryAfter (at most maxGate) and halves the rate (multiplicative
// decrease), at most once per cutEvery so that one burst of 429s counts once.
// The bucket is drained, so that the requests waiting behind the gate do not
// all leave at once when it opens.
func (l *limiter) on429(retryAfter time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if retryAfter > 0 {
		retryAfter = min(retryAfter, l.maxGate)
		if nb := now.Add(retryAfter); nb.After(l.notBefore) {
			l.notBefore = nb
		}
	}
	if now.Sub(l.lastCut) < cutEvery {
		return
	}
	l.lastCut, l.lastRaise = now, now
	next := l.lim.Limit() / 2
	if floor := l.max / minFraction; next < floor {
		next = floor
	}
	l.lim.SetLimitAt(now, next)
	if n := int(l.lim.TokensAt(now)); n > 0 {
		l.lim.AllowN(now, n)
	}
}

// onSuccess gives back max/raiseSteps of rate per raiseEvery elapsed since the
// last change (additive increase), up to the configured rate.
func (l *limiter) onSuccess() {
	if l.lim.Limit() >= l.max {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	steps := int(now.Sub(l.lastRaise) / raiseEvery)
	if steps < 1 {
		return
	}
	next := l.lim.Limit() + rate.Limit(steps)*l.max/raiseSteps
	if next > l.max {
		next = l.max
	}
	l.lim.SetLimitAt(now, next)
	l.lastRaise = now
}

// current returns the bucket's rate now.
func (l *limiter) current() float64 { return float64(l.lim.Limit()) }

// parseRetryAfter reads a Retry-After header: delay-seconds (a fraction is
// tolerated) or an HTTP date. It returns 0 when absent, unreadable or past.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// minRateLimitWait is the first wait after a 429 that named no delay: a
// rate limit refills in about a second, so a shorter wait is a wasted call.
// maxResetWait is the furthest X-RateLimit-Reset believed: further than
// that is clock skew or a quota window, not a rate limit.
const (
	minRateLimitWait = time.Second
	maxResetWait     = time.Minute
)

// parseRateLimitReset reads X-RateLimit-Reset as the wait until the limit
// resets. It is tolerant: Unix seconds (what the sandbox and most APIs send),
// Unix milliseconds, a small number read as seconds from now, a fraction, an
// HTTP date or an RFC 3339 time. It returns 0 when the header is absent,
// unreadable, past, or more than maxResetWait away.
func parseRateLimitReset(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0) || f <= 0:
			return 0
		case f >= 1e14: // not a time this client will meet
			return 0
		case f >= 1e12: // Unix milliseconds
			d = time.UnixMilli(int64(f)).Sub(now)
		case f >= 1e9: // Unix seconds
			d = time.Unix(0, int64(f*1e9)).Sub(now)
		default: // seconds from now
			d = time.Duration(f * float64(time.Second))
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else if t, err := time.Parse(time.RFC3339, v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 || d > maxResetWait {
		return 0
	}
	return d
}

// rateLimitBackoff is the wait before retry n (from 0) after a 429 that
// named no delay: minRateLimitWait doubled each time, up to
// max(maxBackoff, minRateLimitWait), plus up to a quarter more of jitter
// within that cap.
func rateLimitBackoff(n int, maxBackoff time.Duration) time.Duration {
	ceil := max(maxBackoff, minRateLimitWait)
	d := ceil
	if n < 30 {
		if v := minRateLimitWait << n; v > 0 && v < ceil {
			d = v
		}
	}
	d += time.Duration(rand.Int64N(int64(d/4) + 1))
	return min(d, ceil)
}

// backoff is capped exponential backoff with full jitter: a uniformly random
// delay in [0, min(maxBackoff, base*2^attempt)].
func backoff(attempt int, base, maxBackoff time.Duration) time.Duration {
	if base > maxBackoff {
		base = maxBackoff
	}
	ceil := maxBackoff
	if attempt < 30 {
		if d := base << attempt; d > 0 && d < maxBackoff {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
