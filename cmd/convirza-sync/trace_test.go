package main

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// TestTraceHTTP: a demo-sized sync with --trace-http writes a HAR 1.2 file,
// mode 0600, that encoding/json loads, that holds every call of the
// sandbox's log (auth calls included) with its status, and no secret: no
// token the sandbox issued, no password, no Authorization value.
func TestTraceHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	w := newWorld(t, exampleState(t))
	w.env["CONVIRZA_TOKEN"] = ""
	w.env["CONVIRZA_EMAIL"] = "ops@example.com"
	w.env["CONVIRZA_PASSWORD"] = convirzatest.Password
	m := w.mark()
	r := w.run(append([]string{"sync", "--trace-http", "trace.har"}, exampleInputs...)...)
	if r.code != 0 {
		t.Fatalf("sync:\n%s", r)
	}
	calls := w.callsSince(m)
	fi, err := os.Stat(w.path("trace.har"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("trace.har has mode %v, want 0600", fi.Mode().Perm())
	}
	raw := w.read("trace.har")
	var har struct {
		Log struct {
			Version string `json:"version"`
			Creator struct{ Name string }
			Entries []struct {
				StartedDateTime string
				Request         struct {
					Method, URL string
					Headers     []struct{ Name, Value string }
					PostData    *struct{ Text string }
				}
				Response *struct {
					Status  int
					Content struct{ Text string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(raw), &har); err != nil {
		t.Fatalf("the HAR does not load: %v", err)
	}
	if har.Log.Version != "1.2" || har.Log.Creator.Name == "" || len(har.Log.Entries) == 0 {
		t.Fatalf("not a HAR 1.2 log: version %q, creator %q, %d entries", har.Log.Version, har.Log.Creator.Name, len(har.Log.Entries))
	}
	// Every call the sandbox logged is in the HAR, as often, with its status.
	type key struct {
		method, path, query string
		status              int
	}
	inHAR := map[key]int{}
	for i, e := range har.Log.Entries {
		if e.Response == nil || e.StartedDateTime == "" {
			t.Errorf("entry %d lacks response or startedDateTime", i)
			continue
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil {
			t.Errorf("entry %d: url %q: %v", i, e.Request.URL, err)
			continue
		}
		q, _ := url.ParseQuery(u.RawQuery)
		inHAR[key{e.Request.Method, u.Path, q.Encode(), e.Response.Status}]++
		for _, h := range e.Request.Headers {
			if strings.EqualFold(h.Name, "Authorization") && h.Value != "[REDACTED]" {
				t.Errorf("entry %d: Authorization %q", i, h.Value)
			}
		}
		if e.Request.PostData != nil && strings.Contains(e.Request.PostData.Text, `"password"`) &&
			!strings.Contains(e.Request.PostData.Text, `"password":"[REDACTED]"`) {
			t.Errorf("entry %d: the login body shows the password: %s", i, e.Request.PostData.Text)
		}
	}
	for _, c := range calls {
		q, _ := url.ParseQuery(c.Query)
		k := key{c.Method, c.Path, q.Encode(), c.Status}
		if inHAR[k] == 0 {
			t.Errorf("call %s %s?%s (%d) is not in the HAR", c.Method, c.Path, c.Query, c.Status)
			continue
		}
		inHAR[k]--
	}
	if len(har.Log.Entries) != len(calls) {
		t.Errorf("%d HAR entries for %d calls", len(har.Log.Entries), len(calls))
	}
	if m := tokenPattern.FindString(raw); m != "" {
		t.Errorf("the HAR shows a token")
	}
	if !strings.Contains(raw, "/oauth/token") || !strings.Contains(raw, "/oauth/revoke-token") {
		t.Errorf("the HAR lacks the auth calls")
	}
	t.Logf("HAR: %d entries, %d bytes, for %d sandbox calls", len(har.Log.Entries), len(raw), len(calls))
}
