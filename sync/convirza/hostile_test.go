package convirza

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
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

// waitLog replaces the client's sleeps: it records every wait, sleeps the
// short ones, and fails one longer than max at once (a test that would
// otherwise sleep for days fails instead).
type waitLog struct {
	max time.Duration
	mu  sync.Mutex
	ds  []time.Duration
}

func (w *waitLog) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.ds = append(w.ds, d)
	w.mu.Unlock()
	if d > w.max {
		return fmt.Errorf("asked to wait %v, past the %v cap", d, w.max)
	}
	return sleep(ctx, d)
}

func (w *waitLog) waits() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.ds...)
}

// TestBoundedWaits: a Retry-After (or X-RateLimit-Reset) of days is cut to
// the wait budget on a 5xx; on a 429 the call that cannot afford it gives up
// without closing the shared gate, so the other calls proceed; the rate is
// still cut.
func TestBoundedWaits(t *testing.T) {
	const budget = 40 * time.Millisecond
	far := strconv.FormatInt(time.Now().Add(1_000_000*time.Second).Unix(), 10)
	tests := []struct {
		name     string
		status   int // of every answer on /v3/groups/7 before the 200s
		failures int // how many answers are status, then 200 (0: all)
		header   map[string]string
		wantErr  string // "" for success
		// wantWaits are the waits of the call on /v3/groups/7.
		wantWaits []time.Duration
		wantRate  bool // the rate was cut
	}{
		{name: "503 with Retry-After: 1000000 waits the budget, then retries", status: 503, failures: 1,
			header: map[string]string{"Retry-After": "1000000"}, wantWaits: []time.Duration{budget}},
		{name: "429 with Retry-After: 1000000 gives up at once, gate left open", status: 429,
			header:  map[string]string{"Retry-After": "1000000"},
			wantErr: "not retried: the wait asked for (277h46m40s) is longer than the 40ms", wantRate: true},
		{name: "429 with X-RateLimit-Reset 1000000 s away: backoff within the budget", status: 429,
			header: map[string]string{"X-RateLimit-Reset": far}, wantErr: "gave up after 1 retries on 429",
			wantWaits: []time.Duration{budget}, wantRate: true},
		{name: "429s past the budget: the call that gives up leaves the gate as it was", status: 429,
			header: map[string]string{"Retry-After": "0.03"}, wantErr: "gave up after 1 retries on 429",
			wantWaits: []time.Duration{30 * time.Millisecond}, wantRate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t, func(o *Options) { o.MaxRetries = 2; o.MaxRateLimitWait = budget })
			wl := &waitLog{max: budget}
			c.sleep, c.lim.sleep = wl.sleep, wl.sleep
			var n atomic.Int64
			mux.HandleFunc("/v3/groups/7", func(w http.ResponseWriter, r *http.Request) {
				if i := n.Add(1); tt.failures == 0 || i <= int64(tt.failures) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					reply(w, tt.status, "")
					return
				}
				reply(w, 200, `{"org_unit_id": 7}`)
			})
			mux.HandleFunc("/v3/groups/8", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, `{"org_unit_id": 8}`) })
			ctx := context.Background()
			_, _, err := c.Groups.Get(ctx, 7)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantWaits, wl.waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if cut := c.lim.current() < 1000; cut != tt.wantRate {
				t.Errorf("rate %v after the call; want it cut: %v", c.lim.current(), tt.wantRate)
			}
			c.lim.mu.Lock()
			gate := time.Until(c.lim.notBefore)
			c.lim.mu.Unlock()
			if gate > 0 {
				t.Errorf("the shared gate is still closed for %v after the call ended", gate)
			}
			// The others proceed, without waiting.
			before := len(wl.waits())
			var g errgroup.Group
			for range 4 {
				g.Go(func() error { _, _, err := c.Groups.Get(ctx, 8); return err })
			}
			if err := g.Wait(); err != nil {
				t.Errorf("another call after it: %v", err)
			}
			if extra := wl.waits()[before:]; len(extra) > 0 {
				t.Errorf("the other calls waited %v", extra)
			}
		})
	}
}

// TestBoundedListings: what FetchState holds is bounded, whatever the
// server sends: a page is at most what its rows may take, a listing ends,
// the pages together fit a byte budget, and no field is huge. The hostile
// pages are streamed, so neither side allocates more than a few MiB.
func TestBoundedListings(t *testing.T) {
	row := func(id int, email string) string {
		return fmt.Sprintf(`{"ct_user_id":%d,"email":%q,"group_org_unit_id":1,"group_external_id":"TOP","role":"Admin"}`, id, email)
	}
	type page struct {
		rows  int    // full pages unless the listing ends
		total string // the "total" member, "" for none
		pad   int    // bytes of white space after the rows
		field int    // when > 0, the first row's email is this long
	}
	tests := []struct {
		name      string
		edit      func(*Options)
		page      func(offset int) page
		wantErr   string
		wantCalls int // user listing calls
	}{
		{name: "pages of 8 MiB, each under the 64 MiB body cap",
			page:    func(int) page { return page{rows: 200, total: "2000", pad: 8 << 20} },
			wantErr: fmt.Sprintf("body larger than %d bytes", listPageOverhead+PageSize*MaxObjectBytes), wantCalls: 1},
		{name: "an endless listing: no total, every page full",
			edit:    func(o *Options) { o.MaxListingRows = 1000 },
			page:    func(int) page { return page{rows: 200} },
			wantErr: "the listing has no end: it goes on past the 1000 rows", wantCalls: 5},
		{name: "an endless listing: a total of 1e9, every page full",
			page:    func(int) page { return page{rows: 200, total: "1000000000"} },
			wantErr: "a total of 1000000000 rows, more than the 1000000 a listing may hold", wantCalls: 1},
		{name: "pages that together pass the byte budget",
			edit:    func(o *Options) { o.MaxFetchBytes = 64 << 10 },
			page:    func(int) page { return page{rows: 200, total: "2000"} },
			wantErr: "the listings hold more than 65536 bytes", wantCalls: 4},
		{name: "a field of 100 KiB",
			page:    func(int) page { return page{rows: 1, total: "1", field: 100 << 10} },
			wantErr: fmt.Sprintf("a field longer than %d bytes", MaxFieldBytes), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := func(*Options) {}
			if tt.edit != nil {
				edit = tt.edit
			}
			c, mux, _ := setup(t, edit)
			mux.HandleFunc("/v3/groups/tree", func(w http.ResponseWriter, r *http.Request) {
				reply(w, 200, `{"groups":[{"org_unit_id":1,"text":"Top","code":"1"}]}`)
			})
			mux.HandleFunc("/v3/users/list", func(w http.ResponseWriter, r *http.Request) {
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				p := tt.page(off)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"code":200,"message":"ok","data":{"users":[`)
				for i := range p.rows {
					email := fmt.Sprintf("u%d@x.example", off+i)
					if i == 0 && p.field > 0 {
						email = strings.Repeat("a", p.field) + "@x.example"
					}
					if i > 0 {
						io.WriteString(w, ",")
					}
					io.WriteString(w, row(1+off+i, email))
				}
				blank := strings.Repeat(" ", 64<<10)
				for n := 0; n < p.pad; n += len(blank) {
					if _, err := io.WriteString(w, blank); err != nil {
						return // the client stopped reading
					}
				}
				io.WriteString(w, "]")
				if p.total != "" {
					io.WriteString(w, `,"total":`+p.total)
				}
				io.WriteString(w, `}}`)
			})
			// Before the limits, the endless listings never ended.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// One request at a time, so that the calls made are the same each run.
			_, fs, err := c.FetchState(ctx, FetchOptions{Concurrency: 1})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if fs.UserListCalls != tt.wantCalls {
				t.Errorf("%d user listing calls, want %d", fs.UserListCalls, tt.wantCalls)
			}
		})
	}
}

// BenchmarkHasLongString: the field-length check over a full page of
// users, as send runs it on every success body.
func BenchmarkHasLongString(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"code":200,"data":{"users":[`)
	for i := range PageSize {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"ct_user_id":%d,"first_name":"Ann","last_name":"O\"Neil","email":"u%d@x.example","group_org_unit_id":1,"group_external_id":"TOP","role":"Admin","phone_number":"+1 555 0100"}`, i+1, i)
	}
	sb.WriteString(`],"total":200}}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if hasLongString(body, MaxFieldBytes) {
			b.Fatal("a long string in a normal page")
		}
	}
}

// TestBoundedIterators: the listing iterators (apply's look-ups after an
// ambiguous create) end on a server whose pages never end, as FetchState's
// listings do.
func TestBoundedIterators(t *testing.T) {
	c, mux, _ := setup(t, func(o *Options) { o.MaxListingRows = 1000 })
	calls := 0
	full := func(w http.ResponseWriter, r *http.Request, member, row string) {
		calls++
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var b strings.Builder
		for i := range PageSize {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, row, 1+off+i, 1+off+i)
		}
		reply(w, 200, `{"`+member+`":[`+b.String()+`]}`)
	}
	mux.HandleFunc("/v3/users/list", func(w http.ResponseWriter, r *http.Request) {
		full(w, r, "users", `{"ct_user_id":%d,"email":"u%d@x.example","group_org_unit_id":1}`)
	})
	mux.HandleFunc("/v3/groups/list", func(w http.ResponseWriter, r *http.Request) {
		full(w, r, "groups", `{"org_unit_id":%d,"org_unit_name":"G%d","org_unit_parent_id":1}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for name, seq := range map[string]func() error{
		"users": func() error {
			for _, err := range c.Users.ListIter(ctx, &UserListOptions{OrgUnitID: 1}) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"child groups": func() error {
			for _, err := range c.Groups.ListChildrenIter(ctx, 1, nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	} {
		calls = 0
		err := seq()
		if err == nil || !strings.Contains(err.Error(), "the listing has no end") {
			t.Errorf("%s: err = %v, want the listing to end", name, err)
		}
		if calls != 6 { // 5 full pages of 200 reach the ceiling; the 6th passes it
			t.Errorf("%s: %d listing calls, want 6", name, calls)
		}
	}
}
