package convirzatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	srv, c := setup(t, Options{RateLimit: 2, RateBurst: 2})
	r1 := c.get("/v3/groups/list", nil).must(t, 200, nil)
	if r1.Header.Get("X-RateLimit-Limit") != "2" || r1.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("headers on success: limit %q remaining %q", r1.Header.Get("X-RateLimit-Limit"), r1.Header.Get("X-RateLimit-Remaining"))
	}
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	r := c.get("/v3/groups/list", nil).must(t, 429, nil)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("X-RateLimit-Remaining %q", r.Header.Get("X-RateLimit-Remaining"))
	}
	reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || reset < time.Now().Unix() || reset > time.Now().Add(3*time.Second).Unix() {
		t.Errorf("X-RateLimit-Reset %q", r.Header.Get("X-RateLimit-Reset"))
	}
	if r.Env.RequestID == "" {
		t.Error("429 without request_id")
	}
	// A refused write is not made.
	c.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": "X", "org_unit_parent_id": srv.TopGroupID()}).must(t, 429, nil)
	if n := len(srv.Snapshot().Groups); n != 1 {
		t.Errorf("%d groups after a 429 create", n)
	}
	// Auth calls are outside the bucket.
	c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@acme.example", "password": Password}).must(t, 200, nil)
	// Waiting as told is enough.
	time.Sleep(time.Duration(ra) * time.Second)
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	srv.SetRateLimit(0, 0)
	for range 10 {
		c.get("/v3/groups/list", nil).must(t, 200, nil)
	}
}

func TestFailRateMakesNoWrite(t *testing.T) {
	srv, c := setup(t, Options{FailRate: 1, Seed: 7})
	top := srv.TopGroupID()
	before := srv.Snapshot()
	statuses := map[int]bool{}
	for i := range 40 {
		r := c.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": fmt.Sprintf("G%d", i), "org_unit_parent_id": top})
		if r.Status < 500 || r.Env.Code != r.Status || r.Env.RequestID == "" {
			t.Fatalf("status %d code %d", r.Status, r.Env.Code)
		}
		statuses[r.Status] = true
		c.do(http.MethodPatch, path("/v3/groups/%d", top), map[string]any{"city": "X"})
		c.do(http.MethodDelete, path("/v3/groups/%d", top), nil)
	}
	for _, s := range []int{500, 502, 503, 504} {
		if !statuses[s] {
			t.Errorf("status %d never injected", s)
		}
	}
	after := srv.Snapshot()
	if len(after.Groups) != len(before.Groups) || after.Groups[0].City != before.Groups[0].City {
		t.Error("a failed call wrote")
	}
	for _, w := range srv.Writes() {
		if w.Applied() {
			t.Errorf("write %s %s counted as applied", w.Method, w.Path)
		}
	}
	// A share: about half fail.
	srv.SetFailRate(0.5)
	fails := 0
	for range 200 {
		if c.get("/v3/industry", nil).Status >= 500 {
			fails++
		}
	}
	if fails < 60 || fails > 140 {
		t.Errorf("%d of 200 failed at FailRate 0.5", fails)
	}
	srv.SetFailRate(0)
	c.get("/v3/industry", nil).must(t, 200, nil)
}

func TestAmbiguousCreate(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	srv.DropNextCreates(1)
	// A refused create does not use the drop up.
	c.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_parent_id": top}).must(t, 400, nil)
	// Neither do other writes.
	c.do(http.MethodPatch, path("/v3/groups/%d", top), map[string]any{"city": "Boston"}).must(t, 200, nil)

	body := []byte(`{"org_unit_name": "Dropped", "org_unit_ext_id": "D-1", "org_unit_parent_id": 1001}`)
	_, err := c.raw(context.Background(), http.MethodPost, "/v3/groups", body)
	if err == nil {
		t.Fatal("the client got an answer to a dropped create")
	}
	// The write was applied all the same.
	found := false
	for _, g := range srv.Snapshot().Groups {
		if g.ExtID == "D-1" {
			found = true
		}
	}
	if !found {
		t.Fatal("the dropped create was not applied")
	}
	calls := srv.Writes()
	last := calls[len(calls)-1]
	if !last.Dropped || last.Status != 0 || !last.Applied() || last.Path != "/v3/groups" {
		t.Errorf("log of the dropped call: %+v", last)
	}
	// A retry of the same create is now a name clash: the client must look first.
	c.do(http.MethodPost, "/v3/groups", body).must(t, 409, nil)
	// The next create is answered normally.
	c.createGroup(top, "Fine", nil)

	// Users too, and by share.
	srv.SetAmbiguousRate(1)
	_, err = c.raw(context.Background(), http.MethodPost, "/v3/users",
		[]byte(`{"username": "d@acme.example", "first_name": "D", "last_name": "U", "ct_user_ou_id": 1001, "role": "Standard"}`))
	if err == nil {
		t.Fatal("the client got an answer to a dropped user create")
	}
	if n := len(srv.Snapshot().Users); n != 1 {
		t.Errorf("%d users after the dropped create", n)
	}
	srv.SetAmbiguousRate(0)
	c.createUser(top, "e@acme.example", nil)
}

func TestLatencyHonoursContext(t *testing.T) {
	srv, c := setup(t, Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("answered in %v with 30ms latency", el)
	}
	srv.SetLatency(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := c.raw(ctx, http.MethodPost, "/v3/groups", []byte(`{"org_unit_name": "Slow", "org_unit_parent_id": 1001}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a deadline", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the client waited %v", el)
	}
	// The handler gave up too: no write, and the call is logged without a status.
	waitFor(t, "the abandoned call in the log", func() bool { return srv.CountCalls(http.MethodPost, "/v3/groups") == 1 })
	if w := srv.Writes(); len(w) != 1 || w[0].Status != 0 || w[0].Applied() {
		t.Errorf("abandoned write: %+v", w)
	}
	if n := len(srv.Snapshot().Groups); n != 1 {
		t.Errorf("%d groups after an abandoned create", n)
	}
	srv.SetLatency(0)
}

func TestBodyLimit(t *testing.T) {
	srv, c := setup(t, Options{})
	big := append([]byte(`{"org_unit_name": "`), bytes.Repeat([]byte("x"), MaxBodyBytes)...)
	big = append(big, []byte(`", "org_unit_parent_id": 1001}`)...)
	c.do(http.MethodPost, "/v3/groups", big).must(t, 413, nil)
	// Chunked, with no Content-Length.
	req, _ := http.NewRequest(http.MethodPost, srv.APIURL()+"/groups", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.Header.Set("Authorization", "Bearer "+srv.Token())
	hr, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 413 {
		t.Errorf("chunked: status %d", hr.StatusCode)
	}
	if n := len(srv.Snapshot().Groups); n != 1 {
		t.Errorf("%d groups", n)
	}
}

func TestCallLog(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	d := c.login("ops@acme.example")
	var n loginData
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": d.RefreshToken}).must(t, 200, &n)
	c.do(http.MethodPost, "/oauth/revoke-token", map[string]string{"token": n.AccessToken, "token_type": "access"}).must(t, 200, nil)
	c.do(http.MethodPost, "/oauth/token", `{"email": "a@acme.example", "password": "sandbox"`).must(t, 400, nil) // malformed
	c.do(http.MethodPost, "/oauth/token", map[string]any{"email": "a@acme.example", "password": "hunter2hunter2", "nested": map[string]string{"access_token": "at_nested_secret"}}).must(t, 401, nil)
	c.get("/v3/groups/list?org_unit_id=1001&access_token="+srv.Token(), nil).must(t, 200, nil)
	gid := c.createGroup(srv.TopGroupID(), "East", nil)
	c.do(http.MethodPatch, path("/v3/groups/%d", gid), map[string]any{"city": "Salem"}).must(t, 200, nil)
	c.do(http.MethodDelete, path("/v3/groups/%d", gid), nil).must(t, 200, nil)
	c.do(http.MethodDelete, path("/v3/groups/%d", gid), nil).must(t, 404, nil)

	calls := srv.Calls()
	secrets := []string{Password, "hunter2hunter2", "at_nested_secret", srv.Token(), d.AccessToken, d.RefreshToken, n.AccessToken, n.RefreshToken}
	for _, call := range calls {
		text := string(call.Body) + " " + call.Query + " " + call.Path
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("call %s %s leaks a secret: %s", call.Method, call.Path, text)
			}
		}
		if call.RequestID == "" || call.Time.IsZero() || call.Duration <= 0 {
			t.Errorf("call %s %s: %+v", call.Method, call.Path, call)
		}
	}
	if !strings.Contains(string(calls[0].Body), `"email":"ops@acme.example"`) || !strings.Contains(string(calls[0].Body), `"password":"[REDACTED]"`) {
		t.Errorf("login body %s", calls[0].Body)
	}
	if !strings.Contains(string(calls[2].Body), `"token_type":"access"`) {
		t.Errorf("revoke body lost token_type: %s", calls[2].Body)
	}
	if string(calls[3].Body) != Redacted {
		t.Errorf("malformed login body kept: %s", calls[3].Body)
	}
	if !strings.Contains(calls[5].Query, "org_unit_id=1001") {
		t.Errorf("query %q", calls[5].Query)
	}
	// Bodies without secrets are kept byte for byte.
	if got := string(calls[7].Body); got != `{"city":"Salem"}` {
		t.Errorf("patch body %q", got)
	}
	if got := srv.CountCalls(http.MethodPost, "/oauth/"); got != 5 {
		t.Errorf("CountCalls(POST, /oauth/) = %d", got)
	}
	// list, PATCH and two DELETEs; the POST to /v3/groups has no trailing slash.
	if got := srv.CountCalls("", "/v3/groups/"); got != 4 {
		t.Errorf("CountCalls(any, /v3/groups/) = %d", got)
	}
	var kinds []string
	for _, w := range srv.Writes() {
		kinds = append(kinds, fmt.Sprintf("%s %d %v", w.Method, w.Status, w.Applied()))
	}
	want := "POST 200 true|PATCH 200 true|DELETE 200 true|DELETE 404 false"
	if got := strings.Join(kinds, "|"); got != want {
		t.Errorf("writes %q, want %q", got, want)
	}
	srv.ResetCalls()
	if len(srv.Calls()) != 0 {
		t.Error("ResetCalls kept calls")
	}
}

func TestCallLogLimit(t *testing.T) {
	srv, c := setup(t, Options{CallLogLimit: 8})
	for range 30 {
		c.get("/v3/industry", nil)
	}
	if n := len(srv.Calls()); n > 8 || n < 6 {
		t.Errorf("%d calls kept with a limit of 8", n)
	}
}

// TestConcurrentCreates races creates of the same names: exactly one of each
// name wins, whatever the interleaving.
func TestConcurrentCreates(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	const names, tries = 8, 6
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	for i := range names * tries {
		wg.Go(func() {
			name := fmt.Sprintf("Branch %d", i%names)
			if i%2 == 1 {
				name = strings.ToUpper(name)
			}
			r := c.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": name, "org_unit_parent_id": top})
			if r.Status == 200 {
				mu.Lock()
				wins[strings.ToLower(name)]++
				mu.Unlock()
			} else if r.Status != 409 {
				t.Errorf("status %d", r.Status)
			}
			c.get("/v3/groups/tree", nil)
			c.get("/v3/users/list", nil)
		})
	}
	wg.Wait()
	if len(wins) != names {
		t.Errorf("%d names created, want %d", len(wins), names)
	}
	for n, w := range wins {
		if w != 1 {
			t.Errorf("%s created %d times", n, w)
		}
	}
	if n := len(srv.Snapshot().Groups); n != names+1 {
		t.Errorf("%d groups", n)
	}
}
