package convirza

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/convirza-sync/convirza-sync/sync/redact"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// The default hosts, from convirza-api.md.
const (
	DefaultAPIURL  = "https://platform-api.convirza.com/v3"
	DefaultAuthURL = "https://platform-oauth.convirza.com"
)

// Defaults of Options.
const (
	DefaultRate       = 10.0
	DefaultMaxRetries = 4
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxRateLimitWait bounds the time one call spends waiting out
	// 429 answers.
	DefaultMaxRateLimitWait = 2 * time.Minute
	DefaultUserAgent        = "convirza-sync (+https://github.com/convirza-sync/convirza-sync)"
	// PageSize is the largest page the API serves, and the one the iterators
	// and FetchState ask for.
	PageSize = 200
	// DefaultMaxListingRows is the most rows FetchState reads from one
	// listing: a listing that claims more, or goes on past it (no total,
	// every page full), is an error.
	DefaultMaxListingRows = 1_000_000
	// DefaultMaxFetchBytes bounds the bytes of all the listing pages one
	// FetchState reads. Each page is decoded into records and dropped, so
	// this bounds the transfer, not the memory: it admits a full account
	// (100k groups and 1M users come to about 600 MiB of JSON) with room.
	DefaultMaxFetchBytes = 2 << 30
)

// Limits on what one answer may hold. The API is not trusted to be small.
const (
	// MaxObjectBytes is the room a listing page gets per object it asked
	// for: a page asking for n objects may be at most
	// listPageOverhead + n*MaxObjectBytes long (3.2 MiB for 200).
	MaxObjectBytes   = 16 << 10
	listPageOverhead = 64 << 10
	// MaxFieldBytes is the longest JSON string (a name, an email...) a
	// success answer may hold, escapes included.
	MaxFieldBytes = 8 << 10
)

const (
	baseBackoff     = 100 * time.Millisecond
	maxErrorBody    = 1 << 20  // error bodies are read up to 1 MiB
	maxSuccessBody  = 64 << 20 // a success body above 64 MiB is refused
	snippetLen      = 120
	defaultHTTPWait = 60 * time.Second
	// maxRenewals is how many token renewals one call may ask for (see do).
	maxRenewals = 3
	// maxRateLimitRetries bounds the 429 retries of one call, whatever
	// their waits add up to.
	maxRateLimitRetries = 64
)

// Options configures a Client. The zero value of every field but the
// credentials is a sensible default.
type Options struct {
	// APIURL is the API base, with or without a trailing "/"; default
	// DefaultAPIURL. AuthURL is the auth base; default DefaultAuthURL. A plain
	// http:// URL is refused unless its host is loopback (127.0.0.0/8, ::1,
	// localhost).
	APIURL, AuthURL string
	// Token is a static bearer token. It wins over Email and Password, is
	// never refreshed, and is not revoked by Close.
	Token string
	// Email and Password log in (lazily, on the first call, or by Login).
	Email, Password string
	// HTTPClient defaults to a client with a 60 s timeout and a connection
	// pool sized for concurrent paging.
	HTTPClient *http.Client
	// Rate is the number of /v3 requests per second (default 10); Burst the
	// bucket size (default: Rate, at least 1).
	Rate  float64
	Burst int
	// MaxRetries is how many times one call may be sent again after a
	// retryable 5xx or a network error. 0 means DefaultMaxRetries; a negative
	// value turns retries off, 429 retries included.
	MaxRetries int
	// MaxBackoff caps the exponential backoff (default 30 s). A Retry-After
	// on a 5xx is honoured even when it is longer, up to MaxRateLimitWait.
	MaxBackoff time.Duration
	// MaxRateLimitWait bounds the time one call spends waiting out 429
	// answers, in total (default DefaultMaxRateLimitWait). 429 retries are not
	// counted against MaxRetries: a 429 means the request was not applied, so
	// sending it again is always safe. A 429 waits for its Retry-After, else
	// its X-RateLimit-Reset, else 1 s, then 2 s, 4 s... (at most
	// max(MaxBackoff, 1 s)). A 429 whose wait is longer than what is left
	// of the budget is not waited for: the call fails at once, and the
	// shared gate stays open for the other calls. MaxRateLimitWait is also
	// the longest wait any Retry-After can ask for: a 5xx (or a failed
	// login) asking for more waits MaxRateLimitWait, and no 429 holds the
	// shared gate closed for longer.
	MaxRateLimitWait time.Duration
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// MaxListingRows bounds the rows FetchState reads from one listing
	// (default DefaultMaxListingRows); MaxFetchBytes the bytes of all its
	// listing pages together (default DefaultMaxFetchBytes).
	MaxListingRows int
	MaxFetchBytes  int64
	// Logger receives debug lines per request and warnings on retries; nil
	// is silent. No secret is ever logged.
	Logger *zerolog.Logger
	// Trace, when set, records every request and response, redacted by the
	// same redactor as the logs (see Trace).
	Trace *Trace
}

// Client talks to one Convirza account. It is safe for concurrent use.
type Client struct {
	apiURL  *url.URL // always ends in "/"
	authURL *url.URL // always ends in "/"

	hc         *http.Client
	userAgent  string
	log        zerolog.Logger
	lim        *limiter
	maxRetries int
	maxBackoff time.Duration
	maxRLWait  time.Duration // Options.MaxRateLimitWait
	maxRows    int           // Options.MaxListingRows
	maxBytes   int64         // Options.MaxFetchBytes
	auth       *auth
	secrets    *redactor
	stats      counters
	// sleep waits between attempts; tests replace it to see the waits.
	sleep func(context.Context, time.Duration) error
	// pace and listGroups are what FetchState learned of the server (see
	// fetch_adapt.go).
	pace       pageSize
	listGroups atomic.Int32
	// names shares the strings that repeat across listed rows.
	names *interner

	// The services.
	Groups     *GroupsService
	Users      *UsersService
	Industries *IndustriesService
}

type service struct{ client *Client }

// Response wraps the HTTP response of a call (its body already read and
// closed) with what the envelope said.
type Response struct {
	*http.Response
	// RequestID is the envelope's request_id, else the X-Request-Id header.
	RequestID string
	// Total is the listing's "total" (every match, not just this page), or
	// -1 when the call is not a listing or the server did not say.
	Total int
	// NextOffset is the offset of the next page, or 0 on the last page.
	NextOffset int
	// BodyBytes is the length of the body read.
	BodyBytes int

	method, path string // the request, as errors name it
	// note is what a listing page says beside its rows (a *rootNote).
	note *rootNote
}

// NewClient checks opts and returns a Client. It makes no request: a login
// happens on the first call, or on Login.
func NewClient(opts Options) (*Client, error) {
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if opts.AuthURL == "" {
		opts.AuthURL = DefaultAuthURL
	}
	api, err := parseBaseURL("api url", opts.APIURL)
	if err != nil {
		return nil, err
	}
	authU, err := parseBaseURL("auth url", opts.AuthURL)
	if err != nil {
		return nil, err
	}
	if opts.Token == "" && (opts.Email == "" || opts.Password == "") {
		return nil, errNoCredentials
	}
	if math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) || opts.Rate < 0 {
		return nil, fmt.Errorf("rate %v: want a positive number of requests per second", opts.Rate)
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst < 0 {
		return nil, fmt.Errorf("burst %d: want 1 or more", opts.Burst)
	}
	if opts.Burst == 0 {
		opts.Burst = int(math.Ceil(opts.Rate))
	}
	if opts.Burst < 1 {
		opts.Burst = 1
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxRateLimitWait <= 0 {
		opts.MaxRateLimitWait = DefaultMaxRateLimitWait
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.MaxListingRows <= 0 {
		opts.MaxListingRows = DefaultMaxListingRows
	}
	if opts.MaxFetchBytes <= 0 {
		opts.MaxFetchBytes = DefaultMaxFetchBytes
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Transport: tr, Timeout: defaultHTTPWait}
	}
	// No redirect is followed, whatever client the caller gave: a copy is
	// changed, not the caller's.
	noRedirects := *hc
	noRedirects.CheckRedirect = refuseRedirect
	hc = &noRedirects
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	c := &Client{
		apiURL:     api,
		authURL:    authU,
		hc:         hc,
		userAgent:  opts.UserAgent,
		log:        log,
		lim:        newLimiter(opts.Rate, opts.Burst, opts.MaxRateLimitWait),
		maxRetries: opts.MaxRetries,
		maxBackoff: opts.MaxBackoff,
		maxRLWait:  opts.MaxRateLimitWait,
		maxRows:    opts.MaxListingRows,
		names:      newInterner(internMax),
		maxBytes:   opts.MaxFetchBytes,
		secrets:    &redactor{},
		sleep:      sleep,
	}
	c.hc = opts.Trace.wrap(c.hc, c.secrets)
	c.auth = newAuth(c, opts.Token, opts.Email, opts.Password)
	c.Groups = &GroupsService{client: c}
	c.Users = &UsersService{client: c}
	c.Industries = &IndustriesService{client: c}
	return c, nil
}

// parseBaseURL checks a base URL and returns it ending in "/".
func parseBaseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Parse's error quotes the input, which may hold credentials.
		return nil, fmt.Errorf("%s: not a valid URL", what)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: must not carry credentials (user:password@); use the token or email and password settings", what)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s %s: no host", what, u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %s://%s%s: must not have a query or a fragment", what, u.Scheme, u.Host, u.Path)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s http://%s: plain http is refused for a host that is not loopback; use https", what, u.Host)
		}
	default:
		return nil, fmt.Errorf("%s %s: scheme %q: want https (or http on loopback)", what, u.Redacted(), u.Scheme)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// pastCeiling fails a listing iterator that has gone past the rows a
// listing may hold (Options.MaxListingRows): a server whose pages never
// end. FetchState's listings check the same ceiling (pagedRead).
func (c *Client) pastCeiling(rows int) error {
	if max := cmp.Or(c.maxRows, DefaultMaxListingRows); rows > max {
		return fmt.Errorf("the listing has no end: it goes on past the %d rows a listing may hold", max)
	}
	return nil
}

// refuseRedirect is the CheckRedirect of the client's http.Client: the
// redirect is not followed, and its answer comes back to send (or post),
// which turns it into a *RedirectError.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError returns the *RedirectError of a 3xx answer with a
// Location, or nil for any other answer. The body is left to the caller.
func redirectError(hr *http.Response, secrets *redactor) *RedirectError {
	loc := hr.Header.Get("Location")
	if hr.StatusCode < 300 || hr.StatusCode >= 400 || loc == "" {
		return nil
	}
	shown := "an unreadable location"
	if u, err := url.Parse(strings.TrimSpace(loc)); err == nil {
		if hr.Request != nil && hr.Request.URL != nil {
			u = hr.Request.URL.ResolveReference(u)
		}
		u.User = nil
		shown = redact.Path(u)
		if u.Host != "" {
			shown = u.Scheme + "://" + u.Host + shown
		}
		shown = secrets.redact(shown)
	}
	return &RedirectError{StatusCode: hr.StatusCode, Location: shown}
}

// isLoopback reports whether host is localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	s := c.stats.snapshot()
	s.Rate = c.lim.current()
	return s
}

// redactor replaces every secret the client knows with "[REDACTED]". It
// remembers the last few tokens, so that an old token echoed in an error
// after a refresh is still hidden.
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

const maxSecrets = 32

func (r *redactor) add(s ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range s {
		if len(v) < 4 { // too short to redact without mangling text
			continue
		}
		r.secrets = append(r.secrets, v)
	}
	if n := len(r.secrets); n > maxSecrets {
		r.secrets = append([]string(nil), r.secrets[n-maxSecrets:]...)
	}
}

func (r *redactor) redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}

// apiRequest is one /v3 call.
type apiRequest struct {
	method string
	path   string // relative to the API base: "groups/list"
	query  url.Values
	body   any // marshalled to JSON once; nil sends no body
	// needData makes a 2xx envelope without data a *MalformedResponseError.
	needData bool
}

// do sends r, with the token, the limiter, the single-flight 401 renewal and
// the retry policy, and returns the envelope's data.
func (c *Client) do(ctx context.Context, r apiRequest) (*Response, json.RawMessage, error) {
	u := c.apiURL.ResolveReference(&url.URL{Path: strings.TrimPrefix(r.path, "/")})
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	path := redact.Path(u)
	// A listing page is bounded by the objects it asked for.
	maxBody := int64(maxSuccessBody)
	if n, err := strconv.Atoi(r.query.Get("limit")); err == nil && n > 0 {
		maxBody = min(maxBody, listPageOverhead+int64(n)*MaxObjectBytes)
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, nil, fmt.Errorf("%s %s: encode body: %w", r.method, path, err)
		}
	}
	var (
		renewals    int    // token renewals this call asked for
		renewedFrom uint64 // the generation of the token the last one replaced
		ambiguous   bool   // an earlier attempt may have been applied
		retries     int    // after a 5xx or a network error
		limited     int    // retries after a 429
		limitedWait time.Duration
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", r.method, path, err)
		}
		token, gen, err := c.auth.token(ctx, true)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", r.method, path, err)
		}
		if err := c.lim.wait(ctx); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", r.method, path, err)
		}
		res := c.send(ctx, r.method, u, path, token, body, maxBody)
		resp := res.resp

		// retry decides whether to go round again after a retryable failure.
		retry := func(cause error, wait time.Duration) error {
			if retries >= c.maxRetries {
				if retries == 0 {
					return cause
				}
				return fmt.Errorf("gave up after %d retries: %w", retries, cause)
			}
			d := backoff(retries, baseBackoff, c.maxBackoff)
			if wait = min(wait, c.maxRLWait); wait > d {
				d = wait
			}
			retries++
			c.stats.retries.Add(1)
			c.log.Warn().Str("method", r.method).Str("path", path).Int("retry", retries).
				Str("backoff", d.String()).Str("cause", c.secrets.redact(cause.Error())).Msg("retrying")
			if err := c.sleep(ctx, d); err != nil {
				return fmt.Errorf("%s %s: %w (while waiting to retry after: %w)", r.method, path, err, cause)
			}
			return nil
		}

		// retry429 decides whether to go round again after a 429, which has
		// its own budget: a total wait of c.maxRLWait. wait is what the server
		// asked for (0: it did not say). The shared gate is closed only for a
		// wait this call takes (at most c.maxRLWait): a call that gives up
		// leaves it as it was. The rate is cut either way.
		retry429 := func(cause error, wait time.Duration) error {
			if c.maxRetries == 0 { // retries are off
				c.lim.on429(0)
				return cause
			}
			remaining := c.maxRLWait - limitedWait
			switch {
			case wait > remaining && limited == 0:
				c.lim.on429(0)
				return fmt.Errorf("not retried: the wait asked for (%v) is longer than the %v a call may wait out 429s: %w",
					wait.Round(time.Millisecond), c.maxRLWait, cause)
			case wait > remaining || remaining <= 0 || limited >= maxRateLimitRetries:
				c.lim.on429(0)
				return fmt.Errorf("gave up after %d retries on 429 (%v waited): %w", limited, limitedWait.Round(time.Millisecond), cause)
			case wait <= 0:
				c.lim.on429(0)
				wait = min(rateLimitBackoff(limited, c.maxBackoff), remaining)
			default:
				c.lim.on429(wait)
			}
			limited++
			limitedWait += wait
			c.stats.retries.Add(1)
			c.log.Warn().Str("method", r.method).Str("path", path).Int("retry", limited).
				Str("backoff", wait.String()).Str("cause", c.secrets.redact(cause.Error())).Msg("retrying after 429")
			if err := c.sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s %s: %w (while waiting to retry after: %w)", r.method, path, err, cause)
			}
			return nil
		}

		if errors.Is(res.err, ErrRedirect) { // an answer, but not one to follow
			return nil, nil, fmt.Errorf("%s %s: %w", r.method, path, res.err)
		}
		if res.err != nil { // no answer
			err := res.err
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			if r.method == http.MethodPost && res.sent.Load() {
				c.stats.outcomeUnknown.Add(1)
				return nil, nil, outcomeUnknown(r.method, path, err)
			}
			if ctx.Err() != nil || !retryableNetError(res.err) {
				return nil, nil, fmt.Errorf("%s %s: %w", r.method, path, err)
			}
			if res.sent.Load() {
				ambiguous = true
			}
			if err := retry(fmt.Errorf("%s %s: %w", r.method, path, err), 0); err != nil {
				return nil, nil, err
			}
			continue
		}

		code := resp.StatusCode
		switch {
		case code == http.StatusUnauthorized:
			// The first 401 renews the token (single-flight: every call that
			// saw the same token shares one renewal). A later 401 renews
			// again only when it answered a newer token than the one this
			// call renewed from, and that token may have been used up
			// meanwhile: other requests carried it too (a token that dies
			// after N calls, with more than N in flight). A fresh token that
			// only this request carried and that is refused anyway means a
			// real refusal (outside the caller's scope): no renewal, no loop.
			apiErr := res.apiError(r.method, path)
			if renewals > 0 && (gen <= renewedFrom || renewals >= maxRenewals || c.auth.untouched(gen)) {
				return resp, nil, unauthorizedError(apiErr)
			}
			renewals++
			renewedFrom = gen
			if err := c.auth.renew(ctx, gen); err != nil {
				if errors.Is(err, errCannotRenew) {
					return resp, nil, unauthorizedError(apiErr)
				}
				return resp, nil, fmt.Errorf("%s %s: renew token after 401: %w", r.method, path, err)
			}
			continue

		case code == http.StatusTooManyRequests:
			c.stats.rateLimited.Add(1)
			now := time.Now()
			ra := parseRetryAfter(resp.Header, now)
			if ra == 0 {
				ra = parseRateLimitReset(resp.Header, now)
			}
			rlErr := &RateLimitError{RetryAfter: ra, APIError: res.apiError(r.method, path)}
			c.log.Warn().Str("method", r.method).Str("path", path).Str("retry_after", ra.String()).
				Float64("rate", c.lim.current()).Msg("rate limited")
			if err := retry429(rlErr, ra); err != nil {
				return resp, nil, err
			}
			continue

		case code == http.StatusInternalServerError || code == http.StatusBadGateway ||
			code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
			apiErr := res.apiError(r.method, path)
			if r.method == http.MethodPost {
				c.stats.outcomeUnknown.Add(1)
				return resp, nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, apiErr)
			}
			ambiguous = true
			if err := retry(apiErr, parseRetryAfter(resp.Header, time.Now())); err != nil {
				return resp, nil, err
			}
			continue

		case code == http.StatusNotFound && r.method == http.MethodDelete && ambiguous:
			// An earlier attempt was answered by nothing or a 5xx, and the
			// object is gone now: that attempt did the delete.
			c.lim.onSuccess()
			return resp, nil, nil

		case code >= 400:
			return resp, nil, res.apiError(r.method, path)

		case code < 200 || code >= 300:
			return resp, nil, res.malformed(r.method, path, "unexpected status", nil)
		}

		c.lim.onSuccess()
		data, err := res.data(r.method, path, r.needData)
		if err != nil && r.method == http.MethodPost {
			// The write was applied, but what it made is unknown.
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
			}
		}
		return resp, data, err
	}
}

// result is one attempt's outcome.
type result struct {
	c    *Client
	resp *Response
	body []byte
	env  *envelope // nil when the body is not an envelope
	// envErr says why the body is not an envelope.
	envErr string
	err    error       // no answer (or the body could not be read)
	sent   atomic.Bool // the request (its headers at least) was written
}

// send makes one attempt.
func (c *Client) send(ctx context.Context, method string, u *url.URL, path, token string, body []byte, maxBody int64) *result {
	res := &result{c: c}
	// Conservatively, a request counts as sent once its headers were written:
	// the server may act on it from then on.
	trace := &httptrace.ClientTrace{WroteHeaders: func() { res.sent.Store(true) }}
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, u.String(), rdr)
	if err != nil {
		res.err = fmt.Errorf("build request: %w", err)
		return res
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.stats.request(ctx, method)
	start := time.Now()
	hr, err := c.hc.Do(req)
	if err != nil {
		c.stats.status(0)
		res.err = scrubURLError(err)
		c.log.Debug().Str("method", method).Str("path", path).Int64("took_ms", time.Since(start).Milliseconds()).
			Bool("sent", res.sent.Load()).Str("error", c.secrets.redact(res.err.Error())).Msg("no answer")
		return res
	}
	c.stats.status(hr.StatusCode)
	if re := redirectError(hr, c.secrets); re != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10))
		hr.Body.Close()
		res.err = re
		c.log.Debug().Str("method", method).Str("path", path).Int("status", hr.StatusCode).
			Str("location", re.Location).Msg("redirect refused")
		return res
	}
	limit := maxBody
	if hr.StatusCode >= 300 {
		limit = maxErrorBody
	}
	b, rerr := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10))
	hr.Body.Close()
	res.resp = &Response{Response: hr, RequestID: hr.Header.Get("X-Request-Id"), Total: -1, method: method, path: path}
	if rerr != nil {
		if hr.StatusCode >= 200 && hr.StatusCode < 300 {
			// The status came, the body did not: for a POST the write happened.
			res.err = fmt.Errorf("read response body: %w", scrubURLError(rerr))
			res.resp = nil
			return res
		}
		b = nil
	}
	if int64(len(b)) > limit {
		b = b[:limit]
		if hr.StatusCode < 300 {
			res.envErr = fmt.Sprintf("body larger than %d bytes", limit)
		}
	}
	res.resp.BodyBytes = len(b)
	if res.envErr == "" && hr.StatusCode < 300 && hasLongString(b, MaxFieldBytes) {
		res.envErr = fmt.Sprintf("a field longer than %d bytes", MaxFieldBytes)
		b = b[:min(len(b), snippetLen)]
	}
	res.body = b
	if res.envErr == "" {
		res.parseEnvelope()
	}
	c.log.Debug().Str("method", method).Str("path", path).Int("status", hr.StatusCode).
		Str("request_id", res.resp.RequestID).Int64("took_ms", time.Since(start).Milliseconds()).Msg("api call")
	return res
}

// hasLongString reports whether the JSON text b holds a string (a value or
// a key) longer than max bytes, escapes included.
func hasLongString(b []byte, max int) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		start := i + 1
		for i = start; i < len(b) && b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
			if i-start > max {
				return true
			}
		}
	}
	return false
}

// parseEnvelope reads the body as the API's envelope, if it is one.
func (r *result) parseEnvelope() {
	b := bytes.TrimSpace(r.body)
	if len(b) == 0 {
		r.envErr = "empty body"
		return
	}
	if b[0] != '{' {
		r.envErr = "not a JSON object"
		if b[0] == '<' {
			r.envErr = "not JSON (an HTML or XML page)"
		} else if !json.Valid(b) {
			r.envErr = "not JSON"
		}
		return
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		r.envErr = "not a valid envelope: " + r.c.secrets.redact(err.Error())
		return
	}
	r.env = &env
	if id := strings.TrimSpace(string(env.RequestID)); id != "" {
		r.resp.RequestID = id
	}
}

// apiError builds the *APIError of an error answer.
func (r *result) apiError(method, path string) *APIError {
	e := &APIError{
		StatusCode: r.resp.StatusCode,
		RequestID:  r.resp.RequestID,
		Method:     method,
		Path:       path,
	}
	if r.env != nil {
		e.Code = int(r.env.Code)
		e.Message = r.c.secrets.redact(strings.TrimSpace(string(r.env.Message)))
		for _, f := range r.env.fieldErrors() {
			e.Fields = append(e.Fields, FieldError{Field: f.Field, Message: r.c.secrets.redact(f.Message)})
		}
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(e.StatusCode))
	}
	return e
}

// malformed builds the *MalformedResponseError of this answer.
func (r *result) malformed(method, path, reason string, err error) *MalformedResponseError {
	e := &MalformedResponseError{
		Method:     method,
		Path:       path,
		StatusCode: r.resp.StatusCode,
		RequestID:  r.resp.RequestID,
		Reason:     reason,
		Err:        err,
	}
	if r.resp.Response != nil {
		e.ContentType = r.resp.Header.Get("Content-Type")
	}
	if r.env == nil {
		e.Snippet = r.c.secrets.redact(snippet(r.body, snippetLen))
	}
	return e
}

// data returns the data of a 2xx answer.
func (r *result) data(method, path string, needData bool) (json.RawMessage, error) {
	if r.env == nil {
		if !needData && len(bytes.TrimSpace(r.body)) == 0 {
			return nil, nil
		}
		return nil, r.malformed(method, path, r.envErr, nil)
	}
	if code := int(r.env.Code); code >= 400 {
		// A 2xx status carrying an error envelope: believe the envelope.
		e := r.apiError(method, path)
		return nil, e
	}
	if !r.env.hasData() {
		if needData {
			return nil, r.malformed(method, path, "envelope without data", nil)
		}
		return nil, nil
	}
	return r.env.Data, nil
}

// decodeData unmarshals data into v, turning a failure into a
// *MalformedResponseError that names the request.
func decodeData(resp *Response, data json.RawMessage, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &MalformedResponseError{Method: resp.method, Path: resp.path, StatusCode: resp.StatusCode,
			RequestID: resp.RequestID, Reason: "unexpected data", Err: err}
	}
	return nil
}

// badData is a *MalformedResponseError for data that decoded but makes no
// sense (a group without an id).
func badData(resp *Response, reason string) error {
	return &MalformedResponseError{Method: resp.method, Path: resp.path, StatusCode: resp.StatusCode,
		RequestID: resp.RequestID, Reason: reason}
}

// scrubURLError drops the URL from a *url.Error (it holds no credential, but
// the path is already in the message), keeping the cause.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryableNetError reports whether a failure to get an answer is worth
// another attempt: resets, refusals, timeouts, a connection closed early.
// Certificate errors are not.
func retryableNetError(err error) bool {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certInvalid x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certInvalid), errors.As(err, &verifyErr):
		return false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "server closed")
}
