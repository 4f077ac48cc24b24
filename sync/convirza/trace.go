package convirza

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/convirza-sync/convirza-sync/sync/redact"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultTraceBody is how many bytes of each request and response body a
// Trace keeps when NewTrace is given 0.
const DefaultTraceBody = 64 << 10

// redactedHeaders are the headers whose whole value a trace never keeps.
var redactedHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// Trace records every request a Client sends (API and auth calls, retries
// included) with its response, for support (a HAR 1.2 file, see WriteHAR)
// and for `doctor` (Exchanges). Everything it keeps has already gone through
// the client's redactor, the one its logs and errors use: the password and
// every token the client knows (tokens a login or refresh answers are taught
// to it as they arrive), secret query parameters, and the Authorization and
// Cookie headers. Bodies are capped. A Trace is safe for concurrent use and
// belongs to one Client (Options.Trace).
type Trace struct {
	maxBody int

	mu      sync.Mutex
	red     *redactor
	entries []Exchange
}

// NewTrace returns an empty trace that keeps up to maxBody bytes of each
// body (0: DefaultTraceBody).
func NewTrace(maxBody int) *Trace {
	if maxBody <= 0 {
		maxBody = DefaultTraceBody
	}
	return &Trace{maxBody: maxBody}
}

// Exchange is one request and its response, redacted.
type Exchange struct {
	Start    time.Time
	Duration time.Duration
	Method   string
	// URL is the full URL, secret query values redacted; Path its path.
	URL, Path      string
	RequestHeader  http.Header
	RequestBody    string
	Status         int // 0: no answer (Error says why)
	ResponseHeader http.Header
	ResponseBody   string
	// BodySize is the response body's real size; ResponseBody holds at
	// most the trace's cap of it (Truncated).
	BodySize  int
	Truncated bool
	Error     string
}

// Exchanges returns what the trace holds, in the order the requests started.
func (t *Trace) Exchanges() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.entries)
	slices.SortStableFunc(out, func(a, b Exchange) int { return a.Start.Compare(b.Start) })
	return out
}

// wrap returns hc with a transport that records into t; t then redacts with
// red. A nil trace returns hc as it is.
func (t *Trace) wrap(hc *http.Client, red *redactor) *http.Client {
	if t == nil {
		return hc
	}
	t.mu.Lock()
	if t.red == nil {
		t.red = red
	}
	t.mu.Unlock()
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = &traceTransport{base: base, t: t}
	return &c
}

type traceTransport struct {
	base http.RoundTripper
	t    *Trace
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base.
func (tt *traceTransport) CloseIdleConnections() {
	if c, ok := tt.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (tt *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	var reqBody []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(rc, int64(tt.t.maxBody)+1))
			rc.Close()
		}
	}
	resp, err := tt.base.RoundTrip(req)
	if err != nil {
		tt.t.record(req, reqBody, nil, nil, start, err)
		return nil, err
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	tt.t.record(req, reqBody, resp, b, start, rerr)
	var body io.Reader = bytes.NewReader(b)
	if rerr != nil {
		body = io.MultiReader(body, errReader{rerr})
	}
	resp.Body = io.NopCloser(body)
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// record keeps one exchange, redacted. An auth answer first teaches the
// redactor the tokens it carries.
func (t *Trace) record(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte, start time.Time, err error) {
	if resp != nil && strings.Contains(req.URL.Path, "oauth/") {
		t.learnTokens(respBody)
	}
	t.mu.Lock()
	red := t.red
	t.mu.Unlock()
	if red == nil {
		red = &redactor{}
	}
	x := Exchange{
		Start: start, Duration: time.Since(start), Method: req.Method,
		URL:  red.redact(redact.URL(req.URL)),
		Path: req.URL.Path, RequestHeader: redactHeader(req.Header, red),
		RequestBody: red.redact(capText(reqBody, t.maxBody)),
	}
	if err != nil {
		x.Error = red.redact(scrubURLError(err).Error())
	}
	if resp != nil {
		x.Status = resp.StatusCode
		x.ResponseHeader = redactHeader(resp.Header, red)
		x.BodySize = len(respBody)
		x.Truncated = len(respBody) > t.maxBody
		x.ResponseBody = red.redact(capText(respBody, t.maxBody))
	}
	t.mu.Lock()
	t.entries = append(t.entries, x)
	t.mu.Unlock()
}

// learnTokens adds the tokens of a login or refresh answer to the redactor
// before anything of it is kept.
func (t *Trace) learnTokens(b []byte) {
	raw := json.RawMessage(bytes.TrimSpace(b))
	if !isJSONObject(raw) {
		return
	}
	if _, bare := member(raw, "access_token"); !bare {
		if d, ok := member(raw, "data"); ok {
			raw = d
		}
	}
	var tr tokenResponse
	if json.Unmarshal(raw, &tr) != nil {
		return
	}
	t.mu.Lock()
	red := t.red
	t.mu.Unlock()
	if red != nil {
		red.add(tr.AccessToken, tr.RefreshToken, tr.FrontendToken)
	}
}

func redactHeader(h http.Header, red *redactor) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out[k] = append(out[k], red.redact(v))
		}
	}
	for _, k := range redactedHeaders {
		if _, ok := out[k]; ok {
			out[k] = []string{"[REDACTED]"}
		}
	}
	return out
}

// capText is b as text, at most n bytes, cut on a rune boundary.
func capText(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// The HAR 1.2 document (http://www.softwareishard.com/blog/har-12-spec/).
type (
	harLog struct {
		Log harBody `json:"log"`
	}
	harBody struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Entries []harEntry `json:"entries"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
		Comment         string      `json:"comment,omitempty"`
	}
	harNV struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harRequest struct {
		Method      string       `json:"method"`
		URL         string       `json:"url"`
		HTTPVersion string       `json:"httpVersion"`
		Cookies     []harNV      `json:"cookies"`
		Headers     []harNV      `json:"headers"`
		QueryString []harNV      `json:"queryString"`
		PostData    *harPostData `json:"postData,omitempty"`
		HeadersSize int          `json:"headersSize"`
		BodySize    int          `json:"bodySize"`
	}
	harPostData struct {
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harNV    `json:"cookies"`
		Headers     []harNV    `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
		Comment  string `json:"comment,omitempty"`
	}
	harTimings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
)

func harHeaders(h http.Header) []harNV {
	out := []harNV{}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, harNV{Name: k, Value: v})
		}
	}
	return out
}

// WriteHAR writes the trace as a HAR 1.2 document (what browsers' developer
// tools open), creator named creator.
func (t *Trace) WriteHAR(w io.Writer, creator string) error {
	doc := harLog{Log: harBody{Version: "1.2", Creator: harCreator{Name: "convirza-sync", Version: creator}, Entries: []harEntry{}}}
	for _, x := range t.Exchanges() {
		ms := float64(x.Duration.Microseconds()) / 1000
		e := harEntry{
			StartedDateTime: x.Start.UTC().Format("2006-01-02T15:04:05.000Z"),
			Time:            ms,
			Timings:         harTimings{Send: 0, Wait: ms, Receive: 0},
			Request: harRequest{
				Method: x.Method, URL: x.URL, HTTPVersion: "HTTP/1.1", Cookies: []harNV{},
				Headers: harHeaders(x.RequestHeader), QueryString: []harNV{}, HeadersSize: -1, BodySize: len(x.RequestBody),
			},
			Response: harResponse{
				Status: x.Status, StatusText: http.StatusText(x.Status), HTTPVersion: "HTTP/1.1", Cookies: []harNV{},
				Headers: harHeaders(x.ResponseHeader), HeadersSize: -1, BodySize: x.BodySize,
				Content: harContent{Size: x.BodySize, MimeType: x.ResponseHeader.Get("Content-Type"), Text: x.ResponseBody},
			},
		}
		if x.Status == 0 {
			e.Response.BodySize = -1
			e.Comment = "no answer: " + x.Error
		}
		if x.Truncated {
			e.Response.Content.Comment = fmt.Sprintf("body cut to %d of %d bytes", len(x.ResponseBody), x.BodySize)
		}
		if u, err := url.Parse(x.URL); err == nil {
			for _, kv := range strings.Split(u.RawQuery, "&") {
				if kv == "" {
					continue
				}
				k, v, _ := strings.Cut(kv, "=")
				k, _ = url.QueryUnescape(k)
				v, _ = url.QueryUnescape(v)
				e.Request.QueryString = append(e.Request.QueryString, harNV{Name: k, Value: v})
			}
		}
		if x.RequestBody != "" {
			e.Request.PostData = &harPostData{MimeType: x.RequestHeader.Get("Content-Type"), Text: x.RequestBody}
		}
		doc.Log.Entries = append(doc.Log.Entries, e)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}

// WriteHARFile writes the trace as a HAR 1.2 file at path, created (or
// truncated) with mode 0600: it shows the account's data.
func (t *Trace) WriteHARFile(path, creator string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write HTTP trace: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return fmt.Errorf("write HTTP trace: %w", err)
	}
	werr := t.WriteHAR(f, creator)
	if cerr := f.Close(); werr == nil && cerr != nil {
		werr = fmt.Errorf("write HTTP trace %s: %w", path, cerr)
	}
	return werr
}
