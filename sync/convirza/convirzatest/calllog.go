package convirzatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Redacted replaces every secret in the call log.
const Redacted = "[REDACTED]"

// Call is one request the sandbox received, auth calls included.
type Call struct {
	Time     time.Time     // when the request arrived
	Duration time.Duration // until the answer was written (latency included)
	Method   string
	Path     string // the URL path, e.g. /v3/groups/list
	Query    string // the raw query, secrets redacted
	Body     []byte // the request body, secrets redacted
	// Status is the HTTP status answered; 0 when no answer was written (the
	// connection was dropped on purpose, or the client went away first).
	Status    int
	RequestID string
	// Dropped is true for an ambiguous create: it was applied, then the
	// connection was closed without an answer.
	Dropped bool
	// Remote is the client's address (host:port).
	Remote string
}

// Applied reports whether the call was a write to /v3 that the sandbox
// carried out: a 2xx answer, or a create applied before its connection was
// dropped.
func (c Call) Applied() bool {
	return c.IsWrite() && (c.Dropped || c.Status >= 200 && c.Status < 300)
}

// IsWrite reports whether the call is a POST, PATCH, PUT or DELETE to /v3.
func (c Call) IsWrite() bool {
	switch c.Method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return strings.HasPrefix(c.Path, "/v3/")
	}
	return false
}

// Calls returns a copy of the call log, oldest first.
func (s *Sandbox) Calls() []Call {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := slices.Clone(s.calls)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// ResetCalls empties the call log.
func (s *Sandbox) ResetCalls() {
	s.logMu.Lock()
	s.calls = nil
	s.logMu.Unlock()
}

// CountCalls counts the calls with that method ("" = any) whose path starts
// with pathPrefix.
func (s *Sandbox) CountCalls(method, pathPrefix string) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	n := 0
	for _, c := range s.calls {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Writes returns the POST, PATCH, PUT and DELETE calls to /v3, whatever
// their answer; Call.Applied tells which were carried out.
func (s *Sandbox) Writes() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.IsWrite() {
			out = append(out, c)
		}
	}
	return out
}

func (s *Sandbox) logCall(c Call) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.calls = append(s.calls, c)
	if s.callsLimit > 0 && len(s.calls) > s.callsLimit {
		// Drop the oldest quarter at once, so trimming stays cheap.
		n := len(s.calls) - s.callsLimit*3/4
		s.calls = slices.Delete(s.calls, 0, n)
	}
}

// secretKey reports whether a JSON key or query parameter holds a secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || strings.HasSuffix(k, "token") || k == "secret" || k == "authorization"
}

// redactQuery replaces the values of secret query parameters.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretKey(name) {
			parts[i] = k + "=" + url.QueryEscape(Redacted)
		}
	}
	return strings.Join(parts, "&")
}

// redactBody returns the body with the values of secret keys replaced. A
// body that is not JSON is kept, except on the auth paths, where it is
// replaced whole: a malformed login may still hold a password.
func redactBody(path string, body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	out, err := redactJSON(body)
	if err == nil {
		return out
	}
	if !strings.HasPrefix(path, "/v3/") {
		return []byte(Redacted)
	}
	return slices.Clone(body)
}

// redactJSON rewrites a JSON document token by token, keeping key order,
// with the value of every secret key replaced by "[REDACTED]". It fails on
// anything that is not exactly one JSON value.
func redactJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var buf bytes.Buffer
	changed, err := redactValue(dec, &buf)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	if !changed {
		return slices.Clone(body), nil
	}
	return buf.Bytes(), nil
}

// redactValue copies one JSON value from dec to buf, redacting secret keys
// inside it. It reports whether anything was redacted.
func redactValue(dec *json.Decoder, buf *bytes.Buffer) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			buf.WriteByte('{')
			changed := false
			for first := true; dec.More(); first = false {
				kt, err := dec.Token()
				if err != nil {
					return false, err
				}
				k, ok := kt.(string)
				if !ok {
					return false, errors.New("object key is not a string")
				}
				if !first {
					buf.WriteByte(',')
				}
				writeJSON(buf, k)
				buf.WriteByte(':')
				if secretKey(k) {
					if _, err := redactValue(dec, &bytes.Buffer{}); err != nil {
						return false, err
					}
					writeJSON(buf, Redacted)
					changed = true
					continue
				}
				c, err := redactValue(dec, buf)
				if err != nil {
					return false, err
				}
				changed = changed || c
			}
			if _, err := dec.Token(); err != nil {
				return false, err
			}
			buf.WriteByte('}')
			return changed, nil
		case '[':
			buf.WriteByte('[')
			changed := false
			for first := true; dec.More(); first = false {
				if !first {
					buf.WriteByte(',')
				}
				c, err := redactValue(dec, buf)
				if err != nil {
					return false, err
				}
				changed = changed || c
			}
			if _, err := dec.Token(); err != nil {
				return false, err
			}
			buf.WriteByte(']')
			return changed, nil
		}
		return false, errors.New("unexpected delimiter")
	default:
		writeJSON(buf, t)
		return false, nil
	}
}

func writeJSON(buf *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		buf.WriteString("null")
		return
	}
	buf.Write(b)
}
