package convirza

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrUnauthorized is matched (errors.Is) by the error of a call that still
// got 401 after the client refreshed its token or logged in again, or whose
// login was refused. A 401 also answers a request for an org unit outside the
// caller's scope, hence the wording.
var ErrUnauthorized = errors.New("unauthorized: bad credentials or outside your scope")

// ErrOutcomeUnknown is matched (errors.Is) by the error of a POST that was
// sent but got no reliable answer: no response, a reset or a timeout after
// the request was written, or a 500, 502, 503 or 504. The write may or may not
// have been applied, so the client does not retry it: the caller should look
// the object up (by ext id or email) before trying again. A successful POST
// whose body could not be read (so the new id is unknown) matches it too.
var ErrOutcomeUnknown = errors.New("outcome unknown: the request was sent and may have been applied")

// errNoCredentials is returned by NewClient when Options holds neither a token
// nor an email and password.
var errNoCredentials = errors.New("no credentials: set a token, or an email and a password")

// FieldError is one entry of an error envelope's "errors" list.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is an error answer of the API: a non-2xx status, or a 2xx whose
// envelope carries an error code.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the envelope's "code" (usually the same as StatusCode; 0 when the
	// body was not an envelope).
	Code int
	// Message is the envelope's "message", or the status text when the body
	// had none (a proxy's HTML page, say).
	Message string
	// RequestID is the envelope's request_id (or the X-Request-Id header):
	// what Convirza support asks for.
	RequestID string
	// Method and Path name the request. Path holds no credential.
	Method string
	Path   string
	// Fields holds the envelope's per-field errors, when it had some.
	Fields []FieldError
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.StatusCode)
	msg := e.Message
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.Code != 0 && e.Code != e.StatusCode {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + ": ")
		}
		b.WriteString(f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString("]")
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

// RateLimitError is a 429 answer. RetryAfter is what the server asked for:
// its Retry-After, else the time until its X-RateLimit-Reset (0 when it named
// neither). errors.As also finds the embedded *APIError.
type RateLimitError struct {
	RetryAfter time.Duration
	*APIError
}

func (e *RateLimitError) Error() string {
	s := e.APIError.Error()
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Unwrap returns the embedded *APIError.
func (e *RateLimitError) Unwrap() error { return e.APIError }

// MalformedResponseError is a response that cannot be read as the API's
// envelope: not JSON, an HTML page from a proxy, an envelope without the data
// the call needs, a field of the wrong type, an unexpected status.
type MalformedResponseError struct {
	Method     string
	Path       string
	StatusCode int
	RequestID  string
	// ContentType is the response's Content-Type header.
	ContentType string
	// Reason says what was wrong ("not JSON", "envelope without data").
	Reason string
	// Snippet is the start of the body, on one line, with every known secret
	// redacted.
	Snippet string
	// Err is the underlying decoding error, if any.
	Err error
}

func (e *MalformedResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d: malformed response: %s", e.Method, e.Path, e.StatusCode, e.Reason)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.ContentType != "" {
		fmt.Fprintf(&b, " (content-type %s)", e.ContentType)
	}
	if e.Snippet != "" {
		fmt.Fprintf(&b, " (body starts %q)", e.Snippet)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

func (e *MalformedResponseError) Unwrap() error { return e.Err }

// unauthorizedError wraps the final 401 so that errors.Is(err,
// ErrUnauthorized) and errors.As(err, **APIError) both hold.
func unauthorizedError(apiErr *APIError) error {
	return fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
}

// outcomeUnknown wraps the cause of an ambiguous POST.
func outcomeUnknown(method, path string, cause error) error {
	return fmt.Errorf("%s %s: %w: %w", method, path, ErrOutcomeUnknown, cause)
}

// ErrRedirect is matched (errors.Is) by the error of a request that was
// answered with a redirect. The client follows none: a redirect could carry
// the bearer token, or the login's email and password, to another host, or
// from https to plain http on the same one.
var ErrRedirect = errors.New("redirect refused")

// RedirectError is a 3xx answer with a Location. Location is where it
// pointed, credentials and secret-looking query values redacted.
type RedirectError struct {
	StatusCode int
	Location   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%v: a %d pointed to %s; the client follows no redirect, so that no credential is sent elsewhere",
		ErrRedirect, e.StatusCode, e.Location)
}

// Is makes errors.Is(err, ErrRedirect) true.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }
