package convirzatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeLayout is the API's timestamp format: RFC 3339, milliseconds, UTC.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// apiError is a refusal: an HTTP status, a message and maybe the field at fault.
type apiError struct {
	status  int
	message string
	field   string
}

func (e *apiError) Error() string { return e.message }

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func fieldErr(status int, field, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...), field: field}
}

// errUnauthorized is the answer for a group or user outside the caller's scope.
func errUnauthorized() *apiError { return errf(http.StatusUnauthorized, "unauthorized") }

// reply is an answer before it is written.
type reply struct {
	status  int
	message string
	data    any
	errs    []fieldError
	header  http.Header
	// drop asks to close the connection instead of answering (an ambiguous create).
	drop bool
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type envelope struct {
	Code      int          `json:"code"`
	Message   string       `json:"message"`
	Data      any          `json:"data"`
	Errors    []fieldError `json:"errors,omitempty"`
	RequestID string       `json:"request_id"`
	Timestamp string       `json:"timestamp"`
}

func ok(data any) *reply { return &reply{status: http.StatusOK, message: "Success", data: data} }

func errReply(err error) *reply {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, message: "internal error"}
	}
	r := &reply{status: ae.status, message: ae.message}
	if ae.field != "" {
		r.errs = []fieldError{{Field: ae.field, Message: ae.message}}
	}
	return r
}

func (r *reply) setHeader(k, v string) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(k, v)
}

// serveHTTP is the sandbox's one entry point: it reads the body, waits for
// the latency, answers, and logs the call. The call is logged before the
// answer is written, so a client that has its answer finds the call in the log.
func (s *Sandbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := Call{
		Time: start, Method: r.Method, Path: r.URL.Path, Query: redactQuery(r.URL.RawQuery),
		RequestID: newRequestID(), Remote: r.RemoteAddr,
	}
	body, rep := readBody(w, r)
	c.Body = redactBody(c.Path, body)
	if !s.wait(r.Context()) {
		// The client gave up; nobody is left to answer.
		c.Duration = time.Since(start)
		s.logCall(c)
		return
	}
	if rep == nil {
		rep = s.dispatch(r, body)
	}
	if rep.drop {
		c.Dropped = true
		c.Duration = time.Since(start)
		s.logCall(c)
		if dropConnection(w) {
			return
		}
		// Not hijackable (HTTP/2, a recorder): abort the response the way
		// net/http documents, which also closes the stream.
		panic(http.ErrAbortHandler)
	}
	b, rep := encodeReply(rep, c.RequestID)
	c.Status = rep.status
	c.Duration = time.Since(start)
	s.logCall(c)
	writeReply(w, rep, b, c.RequestID)
}

// readBody reads at most MaxBodyBytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *reply) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, errReply(errf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", MaxBodyBytes))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errReply(errf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", MaxBodyBytes))
		}
		return nil, errReply(errf(http.StatusBadRequest, "read request body: %v", err))
	}
	return body, nil
}

// wait sleeps for the configured latency; false means the request context
// ended first.
func (s *Sandbox) wait(ctx context.Context) bool {
	s.cfgMu.Lock()
	d := s.opts.Latency
	s.cfgMu.Unlock()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// encodeReply renders the envelope; a reply that cannot be encoded becomes a 500.
func encodeReply(rep *reply, requestID string) ([]byte, *reply) {
	env := envelope{
		Code: rep.status, Message: rep.message, Data: rep.data, Errors: rep.errs,
		RequestID: requestID, Timestamp: formatTime(time.Now()),
	}
	b, err := json.Marshal(env)
	if err != nil {
		env = envelope{Code: http.StatusInternalServerError, Message: "internal error: encode response",
			RequestID: requestID, Timestamp: env.Timestamp}
		b, _ = json.Marshal(env)
		rep = &reply{status: http.StatusInternalServerError, header: rep.header}
	}
	return append(b, '\n'), rep
}

func writeReply(w http.ResponseWriter, rep *reply, body []byte, requestID string) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Request-Id", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(body)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, like a proxy that gave up
	}
	_ = conn.Close()
	return true
}

// cleanPath drops one trailing slash, so /v3/groups/org-list/ and
// /v3/groups/org-list are one route.
func cleanPath(p string) string {
	if len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	return p
}

func (s *Sandbox) dispatch(r *http.Request, body []byte) *reply {
	p := cleanPath(r.URL.Path)
	switch {
	case strings.HasPrefix(p, "/oauth/"):
		return s.serveAuth(r, p, body)
	case p == "/v3" || strings.HasPrefix(p, "/v3/"):
		return s.serveAPI(r, p, body)
	}
	return errReply(errf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

func methodNotAllowed(method string, allowed ...string) *reply {
	rep := errReply(errf(http.StatusMethodNotAllowed, "method %s not allowed here (allowed: %s)", method, strings.Join(allowed, ", ")))
	rep.setHeader("Allow", strings.Join(allowed, ", "))
	return rep
}

// serveAPI answers a /v3 call: rate limit, injected failure, bearer auth,
// then the route.
func (s *Sandbox) serveAPI(r *http.Request, p string, body []byte) *reply {
	now := time.Now()
	hdr, limited := s.takeToken(now)
	if limited != nil {
		limited.header = hdr
		return limited
	}
	if status := s.injectedFailure(); status != 0 {
		rep := errReply(errf(status, "%s (injected by the sandbox)", http.StatusText(status)))
		rep.header = hdr
		return rep
	}
	create := r.Method == http.MethodPost && (p == "/v3/groups" || p == "/v3/users")
	var drop, fromCounter bool
	if create {
		drop, fromCounter = s.decideDrop()
	}

	s.cfgMu.Lock()
	expireAfter := s.opts.ExpireAfter
	s.cfgMu.Unlock()
	sh := s.shapes()
	dl := s.dialect()

	s.mu.Lock()
	rep := s.routeLocked(r, p, body, expireAfter, sh, dl, now)
	s.mu.Unlock()

	if drop {
		if rep.status == http.StatusOK {
			rep.drop = true
		} else if fromCounter {
			s.cfgMu.Lock()
			s.dropNext++ // a refused create does not use up a drop
			s.cfgMu.Unlock()
		}
	}
	for k, v := range hdr {
		if rep.header == nil {
			rep.header = http.Header{}
		}
		rep.header[k] = v
	}
	return rep
}

// routeLocked authenticates and routes a /v3 call. The caller holds s.mu.
func (s *Sandbox) routeLocked(r *http.Request, p string, body []byte, expireAfter int, sh Shapes, dl Dialect, now time.Time) *reply {
	tok, hasBearer := bearer(r)
	if !hasBearer {
		return errReply(errf(http.StatusUnauthorized, "unauthorized: missing bearer token"))
	}
	sess, fail := s.authenticateLocked(tok, expireAfter, now)
	switch fail {
	case authMissing, authUnknown:
		return errReply(errf(http.StatusUnauthorized, "unauthorized: invalid access token"))
	case authExpired:
		return errReply(errf(http.StatusUnauthorized, "unauthorized: access token expired"))
	}
	c := &caller{sess: sess, shapes: sh, dialect: dl, now: now}
	if rep, handled := s.routeDialectLocked(c, r, p); handled {
		return rep
	}
	q := r.URL.Query()
	parts := strings.Split(strings.TrimPrefix(p, "/v3/"), "/")
	m := r.Method
	switch {
	case p == "/v3/industry":
		if m != http.MethodGet {
			return methodNotAllowed(m, http.MethodGet)
		}
		return s.industriesLocked(c)
	case len(parts) == 1 && parts[0] == "groups":
		if m != http.MethodPost {
			return methodNotAllowed(m, http.MethodPost)
		}
		return s.createGroupHTTP(c, body)
	case len(parts) == 2 && parts[0] == "groups":
		switch parts[1] {
		case "list":
			if m != http.MethodGet {
				return methodNotAllowed(m, http.MethodGet)
			}
			return s.listGroupsLocked(c, q)
		case "tree":
			if m != http.MethodGet {
				return methodNotAllowed(m, http.MethodGet)
			}
			return s.treeLocked(c, q)
		case "org-list":
			if m != http.MethodGet {
				return methodNotAllowed(m, http.MethodGet)
			}
			return s.orgListLocked(c, q)
		}
		id, err := parseID(parts[1], "org unit")
		if err != nil {
			return errReply(err)
		}
		switch m {
		case http.MethodGet:
			return s.getGroupLocked(c, id)
		case http.MethodPatch:
			return s.patchGroupHTTP(c, id, body)
		case http.MethodDelete:
			return s.deleteGroupLocked(c, id)
		}
		return methodNotAllowed(m, http.MethodGet, http.MethodPatch, http.MethodDelete)
	case len(parts) == 1 && parts[0] == "users":
		if m != http.MethodPost {
			return methodNotAllowed(m, http.MethodPost)
		}
		return s.createUserHTTP(c, body)
	case len(parts) == 2 && parts[0] == "users":
		if parts[1] == "list" {
			if m != http.MethodGet {
				return methodNotAllowed(m, http.MethodGet)
			}
			return s.listUsersLocked(c, q)
		}
		id, err := parseID(parts[1], "user")
		if err != nil {
			return errReply(err)
		}
		switch m {
		case http.MethodGet:
			return s.getUserLocked(c, id)
		case http.MethodPatch:
			return s.patchUserHTTP(c, id, body)
		case http.MethodDelete:
			return s.deleteUserLocked(c, id)
		}
		return methodNotAllowed(m, http.MethodGet, http.MethodPatch, http.MethodDelete)
	}
	return errReply(errf(http.StatusNotFound, "no such endpoint: %s %s", m, r.URL.Path))
}

// caller is the authenticated side of one call.
type caller struct {
	sess    *session
	shapes  Shapes
	dialect Dialect
	now     time.Time
}

func (c *caller) scope() int64 { return c.sess.orgUnitID }

func bearer(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errf(http.StatusBadRequest, "invalid %s id %q", what, s)
	}
	return id, nil
}

// takeToken takes one token from the /v3 bucket. It returns the
// X-RateLimit-* headers (nil when the limit is off) and, when the bucket is
// empty, the 429 answer with Retry-After.
func (s *Sandbox) takeToken(now time.Time) (http.Header, *reply) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	rps := s.opts.RateLimit
	if rps <= 0 {
		return nil, nil
	}
	burst := float64(s.burstLocked())
	if el := now.Sub(s.bucketAt).Seconds(); el > 0 {
		s.bucket = math.Min(burst, s.bucket+el*rps)
		s.bucketAt = now
	}
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(burst)))
	if s.bucket >= 1 {
		s.bucket--
		h.Set("X-RateLimit-Remaining", strconv.Itoa(int(s.bucket)))
		full := now.Add(time.Duration((burst - s.bucket) / rps * float64(time.Second)))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(full), 10))
		return h, nil
	}
	wait := time.Duration((1 - s.bucket) / rps * float64(time.Second))
	secs := max(1, int(math.Ceil(wait.Seconds())))
	h.Set("X-RateLimit-Remaining", "0")
	full := now.Add(time.Duration((burst - s.bucket) / rps * float64(time.Second)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(full), 10))
	h.Set("Retry-After", strconv.Itoa(secs))
	rep := errReply(errf(http.StatusTooManyRequests, "rate limit exceeded: %g requests per second; retry after %d s", rps, secs))
	return h, rep
}

func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

// injectedFailure returns a 5xx status for a share FailRate of calls, else 0.
func (s *Sandbox) injectedFailure() int {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if s.opts.FailRate <= 0 || s.rng.Float64() >= s.opts.FailRate {
		return 0
	}
	return []int{500, 502, 503, 504}[s.rng.IntN(4)]
}

// decideDrop says whether a create is to be dropped once applied, and
// whether that came from DropNextCreates' counter (which it reserves).
func (s *Sandbox) decideDrop() (drop, fromCounter bool) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if s.dropNext > 0 {
		s.dropNext--
		return true, true
	}
	if s.opts.AmbiguousRate > 0 && s.rng.Float64() < s.opts.AmbiguousRate {
		return true, false
	}
	return false, false
}

// fields is a request body decoded one level deep.
type fields map[string]json.RawMessage

// parseObject decodes a request body that must be one JSON object.
func parseObject(body []byte, detail bool) (fields, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errf(http.StatusBadRequest, "request body is required")
	}
	if trimmed[0] != '{' {
		return nil, errf(http.StatusBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var f fields
	if err := dec.Decode(&f); err != nil {
		if detail {
			return nil, errf(http.StatusBadRequest, "malformed JSON body: %v", err)
		}
		return nil, errf(http.StatusBadRequest, "malformed JSON body")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errf(http.StatusBadRequest, "malformed JSON body: data after the object")
	}
	return f, nil
}

// unknown refuses fields outside the known sets.
func (f fields) unknown(known ...map[string]bool) error {
	var bad []string
	for k := range f {
		found := false
		for _, set := range known {
			if set[k] {
				found = true
				break
			}
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fieldErr(http.StatusBadRequest, bad[0], "unknown field(s): %s", strings.Join(bad, ", "))
}

func (f fields) str(name string) (*string, error) {
	raw, ok := f[name]
	if !ok {
		return nil, nil
	}
	var v string
	if string(raw) == "null" || json.Unmarshal(raw, &v) != nil {
		return nil, fieldErr(http.StatusBadRequest, name, "%s must be a string", name)
	}
	return &v, nil
}

func (f fields) integer(name string) (*int64, error) {
	raw, ok := f[name]
	if !ok {
		return nil, nil
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, fieldErr(http.StatusBadRequest, name, "%s must be an integer", name)
	}
	return &v, nil
}

func (f fields) boolean(name string) (*bool, error) {
	raw, ok := f[name]
	if !ok {
		return nil, nil
	}
	switch string(raw) {
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	}
	return nil, fieldErr(http.StatusBadRequest, name, "%s must be true or false", name)
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// paging reads limit (1..200, default 100) and offset (>= 0, default 0).
func paging(q map[string][]string) (limit, offset int, err error) {
	limit, offset = 100, 0
	if v := first(q, "limit"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 200 {
			return 0, 0, fieldErr(http.StatusBadRequest, "limit", "limit must be an integer from 1 to 200, not %q", v)
		}
		limit = n
	}
	if v := first(q, "offset"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			return 0, 0, fieldErr(http.StatusBadRequest, "offset", "offset must be an integer of 0 or more, not %q", v)
		}
		offset = n
	}
	return limit, offset, nil
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func page[T any](all []T, limit, offset int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(len(all), offset+limit)]
}
