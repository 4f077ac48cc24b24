package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Caller is the user the client is logged in as.
type Caller struct {
	UserID    int64
	OrgUnitID int64
	Email     string
	RoleID    int
}

// errCannotRenew says a 401 cannot be answered by a new token: the client
// holds a static token.
var errCannotRenew = errors.New("a static token cannot be renewed")

// flightTimeout bounds one login or refresh, retries included. A flight runs
// detached from the context of the call that started it, because other calls
// wait on it too.
const flightTimeout = 2 * time.Minute

// auth holds the credentials and the tokens. Logins and refreshes are
// single-flight: whoever needs one while one is running waits for it.
type auth struct {
	c               *Client
	static          string
	email, password string

	mu             sync.Mutex
	access         string
	refresh        string
	refreshExpires time.Time
	gen            uint64 // bumped on every new access token
	uses           int    // requests that took the token of generation gen
	caller         *Caller
	flight         *flight
}

type flight struct {
	done chan struct{}
	err  error
}

func newAuth(c *Client, token, email, password string) *auth {
	a := &auth{c: c}
	if token != "" {
		a.static = token
		a.access = token
		c.secrets.add(token)
	} else {
		a.email, a.password = email, password
		c.secrets.add(password)
	}
	return a
}

// token returns the access token to send and its generation, logging in
// first (once, for all callers) when there is none yet. send counts the
// request about to carry the token among the token's uses.
func (a *auth) token(ctx context.Context, send bool) (string, uint64, error) {
	for range 3 {
		a.mu.Lock()
		if a.access != "" {
			t, g := a.access, a.gen
			if send {
				a.uses++
			}
			a.mu.Unlock()
			return t, g, nil
		}
		f := a.startLocked(ctx, a.login)
		a.mu.Unlock()
		if err := f.wait(ctx); err != nil {
			return "", 0, err
		}
	}
	return "", 0, errors.New("log in: no access token after logging in")
}

// renew answers a 401 seen with the token of generation gen: when no newer
// token exists yet, it refreshes (or logs in again), once for every caller
// that saw the same 401.
func (a *auth) renew(ctx context.Context, gen uint64) error {
	if a.static != "" {
		return errCannotRenew
	}
	a.mu.Lock()
	if a.gen != gen && a.access != "" {
		a.mu.Unlock()
		return nil // someone renewed already; retry with the new token
	}
	f := a.startLocked(ctx, a.refreshOrLogin)
	a.mu.Unlock()
	return f.wait(ctx)
}

// untouched reports whether the token of generation gen is still the
// current one and no request but one has carried it. A 401 answering such a
// token, fresh from a renewal, cannot mean it was used up meanwhile: it is a
// real refusal (a request outside the caller's scope), not an expiry.
func (a *auth) untouched(gen uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return gen == a.gen && a.uses <= 1
}

// startLocked joins the running flight, or starts fn as a new one. a.mu is
// held.
func (a *auth) startLocked(ctx context.Context, fn func(context.Context) error) *flight {
	if a.flight != nil {
		return a.flight
	}
	f := &flight{done: make(chan struct{})}
	a.flight = f
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		defer cancel()
		err := fn(fctx)
		a.mu.Lock()
		a.flight = nil
		f.err = err
		a.mu.Unlock()
		close(f.done)
	}()
	return f
}

func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refreshOrLogin swaps the single-use refresh token for new tokens, and logs
// in again when that fails (or there is no usable refresh token).
func (a *auth) refreshOrLogin(ctx context.Context) error {
	a.mu.Lock()
	rt, exp := a.refresh, a.refreshExpires
	a.refresh = "" // single use: spent from now on, whatever happens
	a.mu.Unlock()
	if rt != "" && (exp.IsZero() || time.Now().Before(exp)) {
		err := a.exchange(ctx, "oauth/refresh-token", map[string]string{"refresh_token": rt}, &a.c.stats.refreshes, 0)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("refresh token: %w", err)
		}
		a.c.log.Warn().Str("error", a.c.secrets.redact(err.Error())).Msg("token refresh failed; logging in again")
	}
	return a.login(ctx)
}

// login posts the email and password, retrying 429s (the login endpoint
// allows 10 a minute), 5xx and network errors: a login has no side effect
// worth fearing.
func (a *auth) login(ctx context.Context) error {
	if a.static != "" {
		return nil
	}
	body := map[string]string{"email": a.email, "password": a.password}
	if err := a.exchange(ctx, "oauth/token", body, &a.c.stats.logins, a.c.maxRetries); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	return nil
}

// tokenResponse is what login and refresh return, bare or in the envelope's
// data.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	RefreshToken     string          `json:"refresh_token"`
	FrontendToken    string          `json:"frontend_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshExpiresIn json.RawMessage `json:"refresh_expires_in"`
	User             *struct {
		UserID    flexInt    `json:"user_id"`
		Email     flexString `json:"email"`
		RoleID    flexInt    `json:"role_id"`
		OrgUnitID flexInt    `json:"org_unit_id"`
	} `json:"user"`
}

// expiry reads expires_in: an ISO-8601 timestamp, as the docs say, or a
// number of seconds, as OAuth usually means.
func expiry(raw json.RawMessage, now time.Time) time.Time {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t := parseTimeString(s); !t.IsZero() {
			return t
		}
		raw = []byte(strings.TrimSpace(s))
	}
	var secs float64
	if json.Unmarshal(raw, &secs) == nil && secs > 0 && secs < 1e9 {
		return now.Add(time.Duration(secs * float64(time.Second)))
	}
	return time.Time{}
}

// exchange posts body to an auth endpoint and installs the tokens it returns.
func (a *auth) exchange(ctx context.Context, path string, body any, counter interface{ Add(int64) int64 }, maxRetries int) error {
	var retries int
	for {
		status, b, hdr, err := a.post(ctx, path, body, counter)
		method, shown := http.MethodPost, "/"+path
		var cause error
		switch {
		case err != nil:
			if ctx.Err() != nil || !retryableNetError(err) {
				return fmt.Errorf("%s %s: %w", method, shown, err)
			}
			cause = fmt.Errorf("%s %s: %w", method, shown, err)
		case status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
			status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
			cause = a.authError(method, shown, status, b, hdr)
		case status == http.StatusUnauthorized:
			return unauthorizedError(a.authAPIError(method, shown, status, b, hdr))
		case status < 200 || status >= 300:
			return a.authError(method, shown, status, b, hdr)
		default:
			return a.install(method, shown, status, b, hdr)
		}
		if retries >= maxRetries {
			return cause
		}
		d := backoff(retries, baseBackoff, a.c.maxBackoff)
		if ra := min(parseRetryAfter(hdr, time.Now()), a.c.maxRLWait); ra > d {
			d = ra
		}
		retries++
		a.c.log.Warn().Str("path", shown).Int("retry", retries).Str("backoff", d.String()).
			Str("cause", a.c.secrets.redact(cause.Error())).Msg("retrying auth call")
		if err := a.c.sleep(ctx, d); err != nil {
			return fmt.Errorf("%w (while waiting to retry after: %w)", err, cause)
		}
	}
}

// install reads a token response and makes its tokens current.
func (a *auth) install(method, path string, status int, b []byte, hdr http.Header) error {
	malformed := func(reason string, err error) error {
		return &MalformedResponseError{Method: method, Path: path, StatusCode: status,
			RequestID: hdr.Get("X-Request-Id"), ContentType: hdr.Get("Content-Type"), Reason: reason, Err: err}
	}
	raw := json.RawMessage(bytes.TrimSpace(b))
	if !isJSONObject(raw) {
		return malformed("not a JSON object", nil)
	}
	if _, bare := member(raw, "access_token"); !bare {
		if d, ok := member(raw, "data"); ok {
			raw = d
		}
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		// The decoder's message may quote a token: keep only its kind.
		return malformed("unexpected token response", errors.New(a.c.secrets.redact(err.Error())))
	}
	if tr.AccessToken == "" {
		return malformed("no access_token", nil)
	}
	now := time.Now()
	a.c.secrets.add(tr.AccessToken, tr.RefreshToken, tr.FrontendToken)
	a.mu.Lock()
	a.access = tr.AccessToken
	a.refresh = tr.RefreshToken
	a.refreshExpires = expiry(tr.RefreshExpiresIn, now)
	a.gen++
	a.uses = 0
	if tr.User != nil && (tr.User.UserID != 0 || tr.User.OrgUnitID != 0) {
		a.caller = &Caller{
			UserID:    int64(tr.User.UserID),
			OrgUnitID: int64(tr.User.OrgUnitID),
			Email:     string(tr.User.Email),
			RoleID:    int(tr.User.RoleID),
		}
	}
	a.mu.Unlock()
	a.c.log.Debug().Str("path", path).Time("access_expires", expiry(tr.ExpiresIn, now)).Msg("new tokens")
	return nil
}

func (a *auth) authAPIError(method, path string, status int, b []byte, hdr http.Header) *APIError {
	res := &result{c: a.c, resp: &Response{Response: &http.Response{StatusCode: status, Header: hdr}, RequestID: hdr.Get("X-Request-Id")}, body: b}
	res.parseEnvelope()
	return res.apiError(method, path)
}

func (a *auth) authError(method, path string, status int, b []byte, hdr http.Header) error {
	apiErr := a.authAPIError(method, path, status, b, hdr)
	if status == http.StatusTooManyRequests {
		return &RateLimitError{RetryAfter: parseRetryAfter(hdr, time.Now()), APIError: apiErr}
	}
	return apiErr
}

// post sends one auth request, outside the rate limiter and with no bearer.
func (a *auth) post(ctx context.Context, path string, body any, counter interface{ Add(int64) int64 }) (int, []byte, http.Header, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("encode body: %w", err)
	}
	u := a.c.authURL.ResolveReference(&url.URL{Path: path})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.c.userAgent)
	counter.Add(1)
	start := time.Now()
	resp, err := a.c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, scrubURLError(err)
	}
	defer resp.Body.Close()
	if re := redirectError(resp, a.c.secrets); re != nil {
		return 0, nil, nil, re
	}
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read response body: %w", scrubURLError(err))
	}
	a.c.log.Debug().Str("method", http.MethodPost).Str("path", "/"+path).Int("status", resp.StatusCode).
		Int64("took_ms", time.Since(start).Milliseconds()).Msg("auth call")
	return resp.StatusCode, rb, resp.Header, nil
}

// Login logs in with the email and password now, unless the client is
// already logged in (or uses a static token, which needs no login). Calls log
// in by themselves when needed; Login lets a job check its credentials before
// doing anything else.
func (c *Client) Login(ctx context.Context) error {
	_, _, err := c.auth.token(ctx, false)
	return err
}

// Caller returns the logged-in user, known after a login (not with a static
// token).
func (c *Client) Caller() (Caller, bool) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.caller == nil {
		return Caller{}, false
	}
	return *c.auth.caller, true
}

// Close revokes the access and refresh tokens that a login obtained (POST
// {auth}/oauth/revoke-token, no bearer). A static token is not revoked: it
// belongs to whoever configured it. After Close, a call logs in again.
func (c *Client) Close(ctx context.Context) error {
	a := c.auth
	if a.static != "" {
		return nil
	}
	a.mu.Lock()
	f := a.flight
	a.mu.Unlock()
	if f != nil {
		_ = f.wait(ctx) // revoke what that flight brings
	}
	a.mu.Lock()
	access, refresh := a.access, a.refresh
	a.access, a.refresh, a.refreshExpires = "", "", time.Time{}
	a.gen++
	a.uses = 0
	a.mu.Unlock()
	var errs []error
	for _, t := range []struct{ token, kind string }{{access, "access"}, {refresh, "refresh"}} {
		if t.token == "" {
			continue
		}
		status, b, hdr, err := a.post(ctx, "oauth/revoke-token", map[string]string{"token": t.token, "token_type": t.kind}, &c.stats.revokes)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("revoke %s token: %w", t.kind, err))
		case status < 200 || status >= 300:
			errs = append(errs, fmt.Errorf("revoke %s token: %w", t.kind, a.authAPIError(http.MethodPost, "/oauth/revoke-token", status, b, hdr)))
		}
	}
	return errors.Join(errs...)
}
