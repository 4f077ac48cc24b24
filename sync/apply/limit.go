package apply

import (
	"context"
	"math"
	"net/http/httptrace"
	"slices"
	"sync"
	"time"
)

// The bounds of the automatic concurrency limit.
const (
	MinAutoConcurrency = 2
	MaxAutoConcurrency = 64
	// DefaultConcurrency is the limit of the automatic mode when the client's
	// rate is not known (Options.Rate 0), where Little's law cannot be used.
	DefaultConcurrency = 4
	// assumedLatency stands in for the p95 latency until one is observed.
	assumedLatency = 100 * time.Millisecond
	// latencyWindow is how many recent latencies the p95 is taken over.
	latencyWindow = 256
)

// autoLimit is Little's law with headroom: the requests in flight that
// sustain rate (requests per second) when each takes p95, plus a quarter,
// plus one, within [MinAutoConcurrency, MaxAutoConcurrency].
func autoLimit(rate float64, p95 time.Duration) int {
	if rate <= 0 {
		return DefaultConcurrency
	}
	// The epsilon keeps float noise (3.0000000000000004) from adding one.
	n := math.Ceil(rate*p95.Seconds()*1.25-1e-9) + 1
	if math.IsNaN(n) || n > MaxAutoConcurrency {
		return MaxAutoConcurrency
	}
	return max(int(n), MinAutoConcurrency)
}

// limiter decides how many changes may run at once: a fixed number, or the
// automatic limit re-evaluated as latencies are observed. It is safe for
// concurrent use.
type limiter struct {
	fixed int
	rate  float64

	mu      sync.Mutex
	ring    []time.Duration
	next    int
	samples int
	dirty   bool
	cur     int
	p95     time.Duration
	lo, hi  int
}

func newLimiter(fixed int, rate float64) *limiter {
	l := &limiter{fixed: fixed, rate: rate}
	if fixed > 0 {
		l.cur = fixed
	} else {
		l.cur = autoLimit(rate, assumedLatency)
	}
	l.lo, l.hi = l.cur, l.cur
	return l
}

// auto reports whether the limit follows the observed latency.
func (l *limiter) auto() bool { return l.fixed <= 0 }

// observe records the latency of one request.
func (l *limiter) observe(d time.Duration) {
	if !l.auto() || d < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < latencyWindow {
		l.ring = append(l.ring, d)
	} else {
		l.ring[l.next] = d
		l.next = (l.next + 1) % latencyWindow
	}
	l.samples++
	l.dirty = true
}

// limit returns the current limit, re-evaluated when latencies came in.
func (l *limiter) limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dirty && len(l.ring) > 0 {
		s := slices.Clone(l.ring)
		slices.Sort(s)
		l.p95 = s[int(math.Ceil(0.95*float64(len(s))))-1]
		l.cur = autoLimit(l.rate, l.p95)
		l.lo, l.hi = min(l.lo, l.cur), max(l.hi, l.cur)
		l.dirty = false
	}
	return l.cur
}

// stats fills the limit's part of Concurrency.
func (l *limiter) stats(c *Concurrency) {
	c.Limit = l.limit()
	l.mu.Lock()
	defer l.mu.Unlock()
	c.Auto = l.auto()
	c.MinLimit, c.MaxLimit = l.lo, l.hi
	c.LatencyP95 = l.p95
	c.Samples = l.samples
}

// call measures one Remote call for the limiter. Where the call goes
// through net/http with its context, the latency is taken per HTTP attempt
// from the connection request to the first response byte, so that the time
// a request waits for the client's rate limiter or for a retry's backoff is
// not mistaken for latency (which would feed back into an ever higher
// limit). A Remote that does not use net/http is timed as a whole.
type call struct {
	l       *limiter
	mu      sync.Mutex
	begun   time.Time
	attempt time.Time
	traced  bool
}

// start begins measuring and returns the context to make the call with.
func (l *limiter) start(ctx context.Context) (context.Context, *call) {
	c := &call{l: l, begun: time.Now()}
	if !l.auto() {
		return ctx, c
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) {
			c.mu.Lock()
			c.attempt = time.Now()
			c.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			c.mu.Lock()
			d, ok := time.Since(c.attempt), !c.attempt.IsZero()
			c.attempt = time.Time{}
			c.traced = c.traced || ok
			c.mu.Unlock()
			if ok {
				l.observe(d)
			}
		},
	}), c
}

// end finishes the measure.
func (c *call) end() {
	c.mu.Lock()
	traced := c.traced
	c.mu.Unlock()
	if !traced {
		c.l.observe(time.Since(c.begun))
	}
}
