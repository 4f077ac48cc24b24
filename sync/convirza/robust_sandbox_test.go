package convirza_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// TestSandboxSecondExpiry: tokens die after 15 calls while 32 calls are in
// flight, so the token a renewal brings dies before every call that waited
// for it has used it. Such a call used to fail with ErrUnauthorized; it now
// renews again (the refused token was newer than the one it renewed from,
// and other requests carried it).
func TestSandboxSecondExpiry(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{})
	srv.SetLoginLimit(-1)
	c := newClient(t, srv, true)
	ctx := context.Background()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	top := srv.TopGroupID()
	srv.SetExpireAfter(15)
	srv.SetLatency(20 * time.Millisecond) // the 32 calls overlap for sure
	srv.ResetCalls()
	const calls = 32
	getConcurrently(ctx, t, c, top, calls)
	var n401, n200 int
	for _, call := range v3Calls(srv) {
		switch call.Status {
		case http.StatusUnauthorized:
			n401++
		case http.StatusOK:
			n200++
		}
	}
	// The first token serves 15 calls and refuses 17; one refresh; the
	// second serves 15 of those and refuses 2; one more refresh; the third
	// serves the last 2.
	refreshes := srv.CountCalls(http.MethodPost, "/oauth/refresh-token")
	logins := srv.CountCalls(http.MethodPost, "/oauth/token")
	if n200 != calls || n401 != 19 || refreshes != 2 || logins != 0 {
		t.Errorf("%d 200s, %d 401s, %d refreshes, %d logins; want %d, 19, 2, 0", n200, n401, refreshes, logins, calls)
	}
}

// noRetryAfter drops the Retry-After header of every answer, leaving the
// sandbox's X-RateLimit-* headers, and counts the 429s it passes on.
type noRetryAfter struct {
	http.ResponseWriter
	n429 *atomic.Int64
}

func (w noRetryAfter) WriteHeader(code int) {
	w.Header().Del("Retry-After")
	if code == http.StatusTooManyRequests {
		w.n429.Add(1)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w noRetryAfter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSandbox429WithoutRetryAfter: a server at 20 requests a second whose
// 429s carry no Retry-After, and a client set to 1,000 a second. 200
// concurrent PATCHes used to fail after 4 quick retries; they now wait for
// X-RateLimit-Reset and retry on a 429 budget of their own, and all succeed.
func TestSandbox429WithoutRetryAfter(t *testing.T) {
	sb := convirzatest.New(convirzatest.Options{LoginLimit: -1, RateLimit: 40})
	var n429 atomic.Int64
	h := sb.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(noRetryAfter{ResponseWriter: w, n429: &n429}, r)
	}))
	t.Cleanup(ts.Close)
	c, err := convirza.NewClient(convirza.Options{APIURL: ts.URL + "/v3", AuthURL: ts.URL, HTTPClient: ts.Client(),
		Token: sb.Token(), Rate: 1000, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 10 {
		id, err := sb.AddGroup(sb.TopGroupID(), convirzatest.Group{Name: fmt.Sprintf("G%d", i), ExtID: fmt.Sprintf("G-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	sb.ResetCalls()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const patches = 200
	var wg sync.WaitGroup
	errs := make([]error, patches)
	for i := range patches {
		wg.Go(func() {
			_, errs[i] = c.Groups.Patch(ctx, ids[i%len(ids)], convirza.GroupPatch{City: ptr(fmt.Sprintf("City %d", i))})
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed++; failed <= 3 {
				t.Errorf("PATCH %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d PATCHes failed", failed, patches)
	}
	var ok, limited int
	for _, call := range sb.Calls() {
		switch {
		case call.Method != http.MethodPatch:
		case call.Status == http.StatusOK:
			ok++
		case call.Status == http.StatusTooManyRequests:
			limited++
		}
	}
	s := c.Stats()
	t.Logf("%d PATCHes: %d answered 200, %d answered 429; client rate now %.1f/s", patches, ok, limited, s.Rate)
	if ok != patches || limited == 0 || int64(limited) != n429.Load() || s.RateLimited != int64(limited) {
		t.Errorf("%d 200s, %d 429s (%d without Retry-After, %d seen by the client); want %d 200s and some 429s",
			ok, limited, n429.Load(), s.RateLimited, patches)
	}
}
