package convirza

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The hostile servers of this file play an API that tries to make the
// client misbehave: send a credential elsewhere, wait for days, or hold
// more than it can.

// catcher is the host a hostile redirect points to. It records every
// request it gets, with its Authorization header and body.
type catcher struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path | Authorization | body"
}

func newCatcher(t *testing.T) *catcher {
	t.Helper()
	c := &catcher{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path+" | "+r.Header.Get("Authorization")+" | "+string(b))
		c.mu.Unlock()
		reply(w, 200, `{"orgUnitId": 7, "access_token": "stolen-access-token-1"}`)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *catcher) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// TestNoRedirects: a redirect is never followed, on the login, on a GET, or
// from https to plain http on the same host name; the error says where it
// pointed, with secrets redacted.
func TestNoRedirects(t *testing.T) {
	const password = "pw-hunter2-9c1f"
	tests := []struct {
		name string
		// serve answers the client's request with the redirect to target.
		status int
		path   string // the path the hostile server redirects
		login  bool   // log in with email and password instead of a token
		tls    bool   // the API is https; the redirect goes to http on 127.0.0.1
		// target is the Location's path and query on the catcher.
		target string
		call   func(ctx context.Context, c *Client) error
		// wantLoc is what the error must show of the Location.
		wantLoc string
	}{
		{name: "307 on POST /oauth/token", status: http.StatusTemporaryRedirect, path: "/oauth/token", login: true,
			target: "/steal", wantLoc: "/steal",
			call: func(ctx context.Context, c *Client) error { return c.Login(ctx) }},
		{name: "302 on a GET", status: http.StatusFound, path: "/v3/groups/7",
			target: "/v3/groups/7?token=leaked-query-secret", wantLoc: "/v3/groups/7?token=REDACTED",
			call: func(ctx context.Context, c *Client) error { _, _, err := c.Groups.Get(ctx, 7); return err }},
		{name: "https to http on the same host name", status: http.StatusMovedPermanently, path: "/v3/groups/7", tls: true,
			target: "/v3/groups/7", wantLoc: "/v3/groups/7",
			call: func(ctx context.Context, c *Client) error { _, _, err := c.Groups.Get(ctx, 7); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evil := newCatcher(t)
			mux := http.NewServeMux()
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, evil.srv.URL+tt.target, tt.status)
			})
			var srv *httptest.Server
			if tt.tls {
				srv = httptest.NewTLSServer(mux)
			} else {
				srv = httptest.NewServer(mux)
			}
			t.Cleanup(srv.Close)
			o := Options{APIURL: srv.URL + "/v3/", AuthURL: srv.URL, Rate: 1000, MaxBackoff: 5 * time.Millisecond}
			if tt.login {
				o.Email, o.Password = "admin@example.com", password
			} else {
				o.Token = testToken
			}
			if tt.tls {
				o.HTTPClient = srv.Client()
			}
			c, err := NewClient(o)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(context.Background(), c)
			if got := evil.requests(); len(got) != 0 {
				// Not printed: they hold the credentials.
				t.Errorf("the redirect was followed: the other host got %d requests", len(got))
			}
			var re *RedirectError
			if !errors.As(err, &re) || !errors.Is(err, ErrRedirect) {
				t.Fatalf("err = %v, want a *RedirectError", err)
			}
			if re.StatusCode != tt.status || re.Location != evil.srv.URL+tt.wantLoc {
				t.Errorf("RedirectError %+v, want status %d and location %s", re, tt.status, evil.srv.URL+tt.wantLoc)
			}
			for _, secret := range []string{password, testToken, "leaked-query-secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %v", err)
				}
			}
			if errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("a redirect is an answer, not an unknown outcome: %v", err)
			}
			if tt.tls && o.HTTPClient.CheckRedirect != nil {
				t.Error("NewClient changed the caller's http.Client")
			}
		})
	}
}
