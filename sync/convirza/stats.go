package convirza

import (
	"context"
	"net/http"
	"sync/atomic"
)

// Stats are the client's counters since it was made. Calls, ByMethod and
// ByStatus count /v3 requests sent (every attempt: pages and retries
// included); the auth calls are counted apart, in Logins, Refreshes and
// Revokes.
type Stats struct {
	Calls    int64
	ByMethod map[string]int64
	// ByStatus counts answers by HTTP status; 0 counts requests that got no
	// answer (a reset, a timeout).
	ByStatus map[int]int64
	// Retries counts requests sent again after a 429, a 5xx or a network
	// error (not the repeats after a 401).
	Retries int64
	// RateLimited counts 429 answers.
	RateLimited int64
	// Refreshes, Logins and Revokes count auth requests sent.
	Refreshes int64
	Logins    int64
	Revokes   int64
	// OutcomeUnknown counts POSTs returned as ErrOutcomeUnknown.
	OutcomeUnknown int64
	// Rate is the limiter's rate now, in requests per second: below the
	// configured rate for a while after a 429.
	Rate float64
}

var statMethods = [...]string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut, "OTHER"}

func methodIndex(m string) int {
	for i, s := range statMethods[:len(statMethods)-1] {
		if s == m {
			return i
		}
	}
	return len(statMethods) - 1
}

// counters are the live, atomic form of Stats.
type counters struct {
	calls          atomic.Int64
	byMethod       [len(statMethods)]atomic.Int64
	byStatus       [600]atomic.Int64
	retries        atomic.Int64
	rateLimited    atomic.Int64
	refreshes      atomic.Int64
	logins         atomic.Int64
	revokes        atomic.Int64
	outcomeUnknown atomic.Int64
}

func (c *counters) request(ctx context.Context, method string) {
	c.calls.Add(1)
	c.byMethod[methodIndex(method)].Add(1)
	if n, ok := ctx.Value(callCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

func (c *counters) status(code int) {
	if code < 0 || code >= len(c.byStatus) {
		code = 0
	}
	c.byStatus[code].Add(1)
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Calls:          c.calls.Load(),
		ByMethod:       map[string]int64{},
		ByStatus:       map[int]int64{},
		Retries:        c.retries.Load(),
		RateLimited:    c.rateLimited.Load(),
		Refreshes:      c.refreshes.Load(),
		Logins:         c.logins.Load(),
		Revokes:        c.revokes.Load(),
		OutcomeUnknown: c.outcomeUnknown.Load(),
	}
	for i := range c.byMethod {
		if n := c.byMethod[i].Load(); n > 0 {
			s.ByMethod[statMethods[i]] = n
		}
	}
	for i := range c.byStatus {
		if n := c.byStatus[i].Load(); n > 0 {
			s.ByStatus[i] = n
		}
	}
	return s
}

// callCounterKey keys a *atomic.Int64 in a context: every /v3 request sent
// under that context adds one to it. FetchState counts its own calls so.
type callCounterKey struct{}

func withCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, callCounterKey{}, n)
}
