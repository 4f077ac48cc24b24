package convirza_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

const loginEmail = "ops@acme.example"

// startSandbox serves st (DefaultState when nil) on loopback, with the login
// limit off.
func startSandbox(t *testing.T, st *convirzatest.State, opts convirzatest.Options) *convirzatest.Server {
	t.Helper()
	if opts.LoginLimit == 0 {
		opts.LoginLimit = -1
	}
	if st == nil {
		s := convirzatest.DefaultState()
		st = &s
	}
	sb, err := convirzatest.NewFromState(*st, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv: with its static token, or logging in
// as loginEmail when login is set. The rate is high: the tests measure
// calls, not the default pace.
func newClient(t *testing.T, srv *convirzatest.Server, login bool, edit ...func(*convirza.Options)) *convirza.Client {
	t.Helper()
	o := convirza.Options{APIURL: srv.APIURL(), AuthURL: srv.AuthURL() + "/", HTTPClient: srv.Client(),
		Rate: 10000, MaxBackoff: 20 * time.Millisecond}
	if login {
		o.Email, o.Password = loginEmail, convirzatest.Password
	} else {
		o.Token = srv.Token()
	}
	for _, f := range edit {
		f(&o)
	}
	c, err := convirza.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func generated(spec convirzatest.GenSpec) *convirzatest.State {
	st := convirzatest.Generate(spec)
	return &st
}

// v3Calls returns the sandbox's log of /v3 calls.
func v3Calls(srv *convirzatest.Server) []convirzatest.Call {
	var out []convirzatest.Call
	for _, c := range srv.Calls() {
		if strings.HasPrefix(c.Path, "/v3/") {
			out = append(out, c)
		}
	}
	return out
}

func TestSandboxPaging(t *testing.T) {
	srv := startSandbox(t, generated(convirzatest.GenSpec{PerLevel: []int{1200}, Users: 1500, InactiveEvery: 9, InactiveUsersEvery: 13}), convirzatest.Options{})
	c := newClient(t, srv, false)
	ctx := context.Background()
	snap := srv.Snapshot()

	var want, got []int64
	for _, g := range snap.Groups {
		if g.ParentID == snap.TopGroupID {
			want = append(want, g.ID)
		}
	}
	for g, err := range c.Groups.ListChildrenIter(ctx, snap.TopGroupID, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, g.ID)
	}
	slices.Sort(got)
	if diff := gocmp.Diff(want, got); diff != "" || len(got) <= 1000 {
		t.Errorf("%d child groups (-want +got):\n%s", len(got), diff)
	}
	if n := srv.CountCalls(http.MethodGet, "/v3/groups/list"); n != 6 {
		t.Errorf("1200 children took %d calls, want 6", n)
	}

	want, got = nil, nil
	for _, u := range snap.Users {
		want = append(want, u.ID)
	}
	for u, err := range c.Users.ListIter(ctx, &convirza.UserListOptions{OrgUnitID: snap.TopGroupID}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u.ID)
	}
	slices.Sort(got)
	if diff := gocmp.Diff(want, got); diff != "" || len(got) <= 1000 {
		t.Errorf("%d users (-want +got):\n%s", len(got), diff)
	}
	if n := srv.CountCalls(http.MethodGet, "/v3/users/list"); n != 8 {
		t.Errorf("1500 users took %d calls, want 8", n)
	}
	for _, call := range srv.Calls() {
		if call.Path == "/v3/users/list" && !strings.Contains(call.Query, "sort_by=created_on") {
			t.Errorf("user page without the stable sort: %s", call.Query)
		}
	}
}

// expectedTree is the snapshot's tree of live groups, sorted by id.
func expectedTree(st convirzatest.State) []convirza.TreeNode {
	parent := map[int64]int64{}
	for _, g := range st.Groups {
		parent[g.ID] = g.ParentID
	}
	var out []convirza.TreeNode
	for _, g := range st.Groups {
		if g.Status == state.StatusDeleted {
			continue
		}
		lvl := 1
		for p := g.ParentID; p != 0; p = parent[p] {
			lvl++
		}
		out = append(out, convirza.TreeNode{ID: g.ID, ParentID: g.ParentID, Name: g.Name, Level: lvl})
	}
	slices.SortFunc(out, func(a, b convirza.TreeNode) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func TestSandboxShapes(t *testing.T) {
	srv := startSandbox(t, generated(convirzatest.GenSpec{PerLevel: []int{3, 6, 12}, Users: 30, InactiveEvery: 4}), convirzatest.Options{})
	c := newClient(t, srv, false)
	ctx := context.Background()
	snap := srv.Snapshot()
	deleteLeaf(t, srv, snap.Groups[len(snap.Groups)-1].ID)
	snap = srv.Snapshot()
	mid := snap.Groups[5]
	user := snap.Users[3]
	var fetched []*state.CurrentState
	for _, sh := range []convirzatest.Shapes{{}, {NestedTree: true, WrappedGroupDetail: true, WrappedUserDetail: true,
		WrappedIndustries: true, GroupTimestampNames: true}} {
		t.Run(fmt.Sprintf("%+v", sh), func(t *testing.T) {
			srv.SetShapes(sh)
			tree, _, err := c.Groups.Tree(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			if tree[0].ID != snap.TopGroupID {
				t.Errorf("tree starts at %d", tree[0].ID)
			}
			slices.SortFunc(tree, func(a, b convirza.TreeNode) int { return cmp.Compare(a.ID, b.ID) })
			if diff := gocmp.Diff(expectedTree(snap), tree); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}

			g, _, err := c.Groups.Get(ctx, mid.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantG := state.Group{ID: mid.ID, ExtID: mid.ExtID, Name: mid.Name, ParentID: mid.ParentID, TopID: snap.TopGroupID,
				Status: mid.Status, BillingID: mid.BillingID, Address: mid.Address, City: mid.City, State: mid.State,
				Zip: mid.Zip, Phone: mid.Phone, IndustryID: mid.IndustryID, Timezone: mid.Timezone,
				Created: mid.Created, Modified: mid.Modified}
			if diff := gocmp.Diff(wantG, *g, gocmpIgnore("IndustryName")); diff != "" {
				t.Errorf("group (-want +got):\n%s", diff)
			}
			if g.IndustryName == "" {
				t.Error("industry_name missing")
			}

			u, _, err := c.Users.Get(ctx, user.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantU := state.User{ID: user.ID, Email: user.Email, FirstName: user.FirstName, LastName: user.LastName,
				ExtID: user.ExtID, Status: user.Status, Role: user.Role, GroupID: user.GroupID, Created: user.Created}
			if diff := gocmp.Diff(wantU, *u, gocmpIgnore("GroupExtID")); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}

			inds, _, err := c.Industries.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(inds) != len(snap.Industries) || inds[9] != (state.Industry{ID: 10, Name: "Technology"}) {
				t.Errorf("industries %v", inds)
			}

			cs, fs, err := c.FetchState(ctx, convirza.FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if fs.Calls != fs.Formula+fs.ProbeCalls || fs.ProbeCalls > 1 {
				t.Errorf("calls %d, formula %d: %+v", fs.Calls, fs.Formula, fs)
			}
			fetched = append(fetched, cs)
		})
	}
	if len(fetched) == 2 {
		if diff := gocmp.Diff(fetched[0], fetched[1]); diff != "" {
			t.Errorf("FetchState differs between the shapes (-flat +nested):\n%s", diff)
		}
	}
}

// deleteLeaf adds a group under parent and deletes it.
func deleteLeaf(t *testing.T, srv *convirzatest.Server, parent int64) {
	t.Helper()
	id, err := srv.AddGroup(parent, convirzatest.Group{Name: "Gone", ExtID: "GONE"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetGroupStatus(id, state.StatusDeleted); err != nil {
		t.Fatal(err)
	}
}

// gocmpIgnore ignores struct fields by name.
func gocmpIgnore(names ...string) gocmp.Option {
	return gocmp.FilterPath(func(p gocmp.Path) bool {
		sf, ok := p.Last().(gocmp.StructField)
		return ok && slices.Contains(names, sf.Name())
	}, gocmp.Ignore())
}

func TestSandboxWrites(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{Shapes: convirzatest.Shapes{PhoneDashes: true}})
	c := newClient(t, srv, true)
	ctx := context.Background()
	top := srv.TopGroupID()

	var gc convirza.GroupCreate
	for _, f := range [][2]string{{"org_unit_name", "East"}, {"org_unit_ext_id", "E-1"}, {"org_unit_parent_id", fmt.Sprint(top)},
		{"phone_number", "+12125550100"}, {"industry_id", "3"}, {"state", "NY"}} {
		if err := gc.Set(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	id, _, err := c.Groups.Create(ctx, gc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Groups.Create(ctx, convirza.GroupCreate{Name: " east ", ParentID: top})
	var ae *convirza.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusConflict || ae.RequestID == "" || errors.Is(err, convirza.ErrOutcomeUnknown) {
		t.Errorf("sibling clash: %v", err)
	}
	if _, err := c.Groups.Patch(ctx, id, convirza.GroupPatch{City: ptr("New York"), Zip: ptr("")}); err != nil {
		t.Fatal(err)
	}
	g, _, err := c.Groups.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.City != "New York" || g.Phone != "+1-212-555-0100" || g.IndustryID != 3 || g.ParentID != top || g.ExtID != "E-1" {
		t.Errorf("group after patch: %+v", g)
	}
	uid, _, err := c.Users.Create(ctx, convirza.UserCreate{Username: "jane@acme.example", FirstName: "Jane", LastName: "Roe",
		GroupID: id, Role: state.RoleReadOnly, ExtID: "U-1"})
	if err != nil {
		t.Fatal(err)
	}
	var up convirza.UserPatch
	if err := up.Set("role", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := up.Set("user_status", "inactive"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Patch(ctx, uid, up); err != nil {
		t.Fatal(err)
	}
	u, _, err := c.Users.Get(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != state.RoleAdmin || u.Status != state.StatusInactive || u.GroupID != id || u.GroupExtID != "E-1" {
		t.Errorf("user after patch: %+v", u)
	}
	if _, err := c.Users.Delete(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Groups.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if g, _, err := c.Groups.Get(ctx, id); err != nil || g.Status != state.StatusDeleted {
		t.Errorf("deleted group: %+v, %v", g, err)
	}
	if _, err := c.Groups.Delete(ctx, id); !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %v", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.CountCalls(http.MethodPost, "/oauth/revoke-token"); n != 2 {
		t.Errorf("%d revokes, want 2", n)
	}
}

func TestSandboxSingleFlightRefresh(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{})
	c := newClient(t, srv, true)
	ctx := context.Background()
	top := srv.TopGroupID()
	// The token dies after 20 calls: spend them, so that the next 16 calls
	// all get 401 with it, while the refreshed token lives for all 16.
	srv.SetExpireAfter(20)
	for range 20 {
		if _, _, err := c.Groups.Get(ctx, top); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetLatency(100 * time.Millisecond) // the 16 calls overlap for sure
	srv.ResetCalls()
	getConcurrently(ctx, t, c, top, 16)
	var n401, n200 int
	for _, call := range v3Calls(srv) {
		switch call.Status {
		case 401:
			n401++
		case 200:
			n200++
		}
	}
	refreshes := srv.CountCalls(http.MethodPost, "/oauth/refresh-token")
	logins := srv.CountCalls(http.MethodPost, "/oauth/token")
	if refreshes != 1 || logins != 0 || n401 != 16 || n200 != 16 {
		t.Errorf("%d refreshes, %d logins, %d 401s, %d 200s; want 1, 0, 16, 16", refreshes, logins, n401, n200)
	}
	if s := c.Stats(); s.Refreshes != 1 || s.Logins != 1 {
		t.Errorf("stats %+v", s)
	}

	// A call outside the caller's scope: one renewal, then ErrUnauthorized.
	srv.SetLatency(0)
	srv.SetExpireAfter(0)
	sub, err := srv.AddGroup(top, convirzatest.Group{Name: "Scoped", ExtID: "SC"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddUser(sub, convirzatest.User{Email: "scoped@acme.example", FirstName: "S", LastName: "C", Role: state.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	sc := newClient(t, srv, true, func(o *convirza.Options) { o.Email = "scoped@acme.example" })
	srv.ResetCalls()
	_, _, err = sc.Groups.Get(ctx, top)
	if !errors.Is(err, convirza.ErrUnauthorized) || !strings.Contains(err.Error(), "unauthorized: bad credentials or outside your scope") {
		t.Errorf("out of scope: %v", err)
	}
	if n := srv.CountCalls(http.MethodGet, "/v3/groups/"); n != 2 {
		t.Errorf("out of scope: %d GETs, want 2 (the call and its one repeat)", n)
	}
	if caller, ok := sc.Caller(); !ok || caller.OrgUnitID != sub || caller.Email != "scoped@acme.example" {
		t.Errorf("caller %+v", caller)
	}
}

// headerLog records the Retry-After of every 429 the client receives, by
// request id. It observes the real transport; it does not replace it.
type headerLog struct {
	rt         http.RoundTripper
	mu         sync.Mutex
	retryAfter map[string]string
}

func (h *headerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.rt.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		h.mu.Lock()
		h.retryAfter[resp.Header.Get("X-Request-Id")] = resp.Header.Get("Retry-After")
		h.mu.Unlock()
	}
	return resp, err
}

func TestSandboxRetryAfter(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{})
	hl := &headerLog{rt: srv.Client().Transport, retryAfter: map[string]string{}}
	c := newClient(t, srv, false, func(o *convirza.Options) { o.HTTPClient = &http.Client{Transport: hl} })
	ctx := context.Background()
	srv.SetRateLimit(2, 1)
	for range 2 {
		if _, _, err := c.Groups.Get(ctx, srv.TopGroupID()); err != nil {
			t.Fatal(err)
		}
	}
	calls := v3Calls(srv)
	seen := 0
	for i, call := range calls {
		if call.Status != http.StatusTooManyRequests {
			continue
		}
		seen++
		ra, err := time.ParseDuration(hl.retryAfter[call.RequestID] + "s")
		if err != nil || ra <= 0 {
			t.Fatalf("429 %s: Retry-After %q", call.RequestID, hl.retryAfter[call.RequestID])
		}
		if i+1 >= len(calls) {
			t.Fatal("no call after the 429")
		}
		gap := calls[i+1].Time.Sub(call.Time)
		if gap < ra {
			t.Errorf("the next call came %v after a 429 with Retry-After %v", gap, ra)
		}
		t.Logf("429 with Retry-After %v; next call %v later", ra, gap)
	}
	if seen == 0 {
		t.Fatal("the sandbox's limit answered no 429")
	}
	s := c.Stats()
	if s.RateLimited != int64(seen) || s.Retries != int64(seen) || s.Rate >= 10000 {
		t.Errorf("stats after %d 429s: %+v (the rate must have been cut)", seen, s)
	}
}

func TestSandboxPatchRetried5xx(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{Seed: 7})
	c := newClient(t, srv, false, func(o *convirza.Options) { o.MaxRetries = 12; o.MaxBackoff = 2 * time.Millisecond })
	ctx := context.Background()
	id, err := srv.AddGroup(srv.TopGroupID(), convirzatest.Group{Name: "Flaky", ExtID: "F"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFailRate(0.5)
	srv.ResetCalls()
	for i := range 10 {
		if _, err := c.Groups.Patch(ctx, id, convirza.GroupPatch{City: ptr(fmt.Sprintf("City %d", i))}); err != nil {
			t.Fatalf("patch %d: %v", i, err)
		}
	}
	var failed, ok int
	for _, call := range v3Calls(srv) {
		switch {
		case call.Method != http.MethodPatch:
			t.Errorf("unexpected %s %s", call.Method, call.Path)
		case call.Status >= 500:
			failed++
		case call.Status == 200:
			ok++
		}
	}
	if failed == 0 || ok != 10 || c.Stats().Retries != int64(failed) {
		t.Errorf("%d 5xx, %d 200, %d retries", failed, ok, c.Stats().Retries)
	}
	if g, _ := srv.Group(id); g.City != "City 9" {
		t.Errorf("city %q", g.City)
	}
	t.Logf("10 PATCHes met %d injected 5xx and were retried through", failed)
}

func TestSandboxAmbiguousPost(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{})
	c := newClient(t, srv, false)
	ctx := context.Background()
	top := srv.TopGroupID()

	srv.DropNextCreates(1)
	_, _, err := c.Groups.Create(ctx, convirza.GroupCreate{Name: "Dropped", ExtID: "D-1", ParentID: top})
	if !errors.Is(err, convirza.ErrOutcomeUnknown) {
		t.Fatalf("dropped create: %v", err)
	}
	if n := srv.CountCalls(http.MethodPost, "/v3/groups"); n != 1 {
		t.Errorf("the dropped create was sent %d times", n)
	}
	var applied bool
	for _, g := range srv.Snapshot().Groups {
		applied = applied || g.ExtID == "D-1"
	}
	if !applied {
		t.Error("the sandbox did not apply the dropped create")
	}

	srv.SetFailRate(1)
	srv.ResetCalls()
	_, _, err = c.Users.Create(ctx, convirza.UserCreate{Username: "x@acme.example", FirstName: "X", LastName: "Y", GroupID: top, Role: state.RoleStandard})
	var ae *convirza.APIError
	if !errors.Is(err, convirza.ErrOutcomeUnknown) || !errors.As(err, &ae) || ae.StatusCode < 500 {
		t.Errorf("5xx create: %v", err)
	}
	if n := srv.CountCalls(http.MethodPost, "/v3/users"); n != 1 {
		t.Errorf("the 5xx create was sent %d times", n)
	}
	if s := c.Stats(); s.OutcomeUnknown != 2 || s.ByMethod["POST"] != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestSandboxNoSecretInErrors(t *testing.T) {
	srv := startSandbox(t, nil, convirzatest.Options{})
	top := srv.TopGroupID()
	sub, err := srv.AddGroup(top, convirzatest.Group{Name: "Scoped", ExtID: "SC"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddUser(sub, convirzatest.User{Email: "scoped@acme.example", FirstName: "S", LastName: "C", Role: state.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	withLog := func(o *convirza.Options) { o.Logger = &logger; o.MaxRetries = 2 }
	ctx := context.Background()
	// The sandbox's password, "sandbox", is a word of its messages: the
	// wrong password stands for a password here.
	secrets := []string{srv.Token(), "wrong-Password-771"}
	var errs []error
	keep := func(err error) {
		if err == nil {
			t.Errorf("expected an error")
			return
		}
		errs = append(errs, err)
	}

	bad := newClient(t, srv, true, withLog, func(o *convirza.Options) { o.Password = "wrong-Password-771" })
	_, _, err = bad.Groups.Get(ctx, top)
	if !errors.Is(err, convirza.ErrUnauthorized) {
		t.Errorf("bad password: %v", err)
	}
	keep(err)

	sc := newClient(t, srv, true, withLog, func(o *convirza.Options) { o.Email = "scoped@acme.example" })
	if err := sc.Login(ctx); err != nil {
		t.Fatal(err)
	}
	a, r := sc.TokensForTest()
	secrets = append(secrets, a, r)
	_, _, err = sc.Groups.Get(ctx, top) // out of scope: 401, refresh, 401
	keep(err)
	a, r = sc.TokensForTest()
	secrets = append(secrets, a, r)
	_, _, err = sc.Groups.Create(ctx, convirza.GroupCreate{Name: "X", ParentID: sub, IndustryID: 999})
	keep(err)
	srv.SetExpireAfter(1)
	_, _, err = sc.Groups.Get(ctx, 424242) // 404 after a refresh
	keep(err)
	a, r = sc.TokensForTest()
	secrets = append(secrets, a, r)
	srv.SetExpireAfter(0)
	if err := sc.Close(ctx); err != nil {
		t.Fatal(err)
	}

	st := newClient(t, srv, false, withLog, func(o *convirza.Options) { o.Token = "sbx_not-a-real-token-0042" })
	secrets = append(secrets, "sbx_not-a-real-token-0042")
	_, _, err = st.Users.List(ctx, nil)
	keep(err)
	srv.SetFailRate(1)
	_, _, err = newClient(t, srv, false, withLog).Groups.Create(ctx, convirza.GroupCreate{Name: "Y", ParentID: top})
	keep(err)
	srv.SetFailRate(0)
	_, err = convirza.NewClient(convirza.Options{APIURL: "http://convirza.example/v3", Token: srv.Token()})
	keep(err)
	_, err = convirza.NewClient(convirza.Options{APIURL: "https://u:wrong-Password-771@convirza.example/v3", Token: srv.Token()})
	keep(err)

	for _, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("secret %q too short to test", s)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
				t.Errorf("an error carries a secret: %v", err)
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(s)) {
			t.Errorf("the log carries a secret")
		}
		for _, call := range srv.Calls() {
			if strings.Contains(call.Path+"?"+call.Query, s) {
				t.Errorf("a URL carries a secret: %s?%s", call.Path, call.Query)
			}
		}
	}
	if len(errs) != 8 || logs.Len() == 0 {
		t.Errorf("%d errors, %d bytes of log", len(errs), logs.Len())
	}
}

func TestSandboxFetchState(t *testing.T) {
	// A 3-level tree of 5,000 groups (2, 498 and 4,500 per level: the two
	// level-1 groups have 249 children each, so two pages each) and 20,000
	// users. Every 7th group is inactive: its children must be read too.
	spec := convirzatest.GenSpec{PerLevel: []int{2, 498, 4500}, Users: 20000, InactiveEvery: 7, InactiveUsersEvery: 11}
	srv := startSandbox(t, generated(spec), convirzatest.Options{CallLogLimit: -1})
	// A deleted group is not read.
	deleteLeaf(t, srv, srv.Snapshot().Groups[4000].ID)
	snap := srv.Snapshot()
	c := newClient(t, srv, true)
	ctx := context.Background()
	srv.ResetCalls()

	cs, fs, err := c.FetchState(ctx, convirza.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// The state read equals the sandbox's, deleted group aside.
	type gview struct {
		ID, ParentID int64
		ExtID, Name  string
		Status       state.Status
	}
	type uview struct {
		ID, GroupID       int64
		Email, GroupExtID string
		Status            state.Status
		Role              state.Role
	}
	ext := map[int64]string{}
	var wantG, gotG []gview
	for _, g := range snap.Groups {
		ext[g.ID] = g.ExtID
		if g.Status != state.StatusDeleted {
			wantG = append(wantG, gview{g.ID, g.ParentID, g.ExtID, g.Name, g.Status})
		}
	}
	for _, g := range cs.Groups {
		gotG = append(gotG, gview{g.ID, g.ParentID, g.ExtID, g.Name, g.Status})
	}
	if cs.Groups[0].ID != snap.TopGroupID || cs.RootID != snap.TopGroupID || cs.CallerUserID != srv.AdminUserID() {
		t.Errorf("root %d (first group %d), caller %d", cs.RootID, cs.Groups[0].ID, cs.CallerUserID)
	}
	gotG[0].Status = state.StatusActive // the root's status is not read: it is never written
	slices.SortFunc(gotG, func(a, b gview) int { return cmp.Compare(a.ID, b.ID) })
	if diff := gocmp.Diff(wantG, gotG); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	var wantU, gotU []uview
	for _, u := range snap.Users {
		wantU = append(wantU, uview{u.ID, u.GroupID, u.Email, ext[u.GroupID], u.Status, u.Role})
	}
	for _, u := range cs.Users {
		gotU = append(gotU, uview{u.ID, u.GroupID, u.Email, u.GroupExtID, u.Status, u.Role})
	}
	if diff := gocmp.Diff(wantU, gotU); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}

	// The minimum, worked out from the sandbox's data: 1 tree +
	// Σ⌈children/200⌉ over the parents with live children + ⌈users/200⌉.
	kids := map[int64]int{}
	for _, g := range snap.Groups {
		if g.Status != state.StatusDeleted && g.ParentID != 0 {
			kids[g.ParentID]++
		}
	}
	minimum := 1 + (len(snap.Users)+199)/200
	for _, n := range kids {
		minimum += (n + 199) / 200
	}
	logged := len(v3Calls(srv))
	if fs.Formula != minimum || fs.Calls != minimum+fs.ProbeCalls || logged != fs.Calls || fs.ProbeCalls > 1 {
		t.Errorf("calls %d (sandbox log %d), formula %d, minimum %d: %+v", fs.Calls, logged, fs.Formula, minimum, fs)
	}
	t.Logf("FetchState of %d groups and %d users: %d calls (tree %d, group pages %d over %d parents, user pages %d, root %d), formula minimum %d, %v",
		fs.Groups, fs.Users, fs.Calls, fs.TreeCalls, fs.GroupListCalls, fs.ParentsWithChildren, fs.UserListCalls, fs.RootCalls, fs.Formula, fs.Duration.Round(time.Millisecond))
}

func TestSandboxFetchStateRoots(t *testing.T) {
	spec := convirzatest.GenSpec{PerLevel: []int{3, 12, 40}, Users: 450, InactiveEvery: 5}
	srv := startSandbox(t, generated(spec), convirzatest.Options{})
	snap := srv.Snapshot()
	byExt := map[string]convirzatest.Group{}
	for _, g := range snap.Groups {
		byExt[g.ExtID] = g
	}
	l1 := byExt["GEN-000002"] // a level-1 group
	if l1.ParentID != snap.TopGroupID {
		t.Fatalf("GEN-000002 is not on level 1: %+v", l1)
	}
	under := func(root int64) (groups, users int) {
		in := map[int64]bool{root: true}
		for range 4 {
			for _, g := range snap.Groups {
				if in[g.ParentID] {
					in[g.ID] = true
				}
			}
		}
		for _, u := range snap.Users {
			if in[u.GroupID] {
				users++
			}
		}
		return len(in), users
	}
	tests := []struct {
		name       string
		login      bool
		opts       convirza.FetchOptions
		root       int64
		extraCalls int // over the formula
		wantErr    string
	}{
		{"static token: the top of the tree", false, convirza.FetchOptions{}, snap.TopGroupID, 0, ""},
		{"id:N", true, convirza.FetchOptions{Root: fmt.Sprintf("id:%d", l1.ID)}, l1.ID, 0, ""},
		// Finding an ext id lists the top's children first: one page.
		{"ext id on level 1", false, convirza.FetchOptions{Root: "GEN-000002"}, l1.ID, 1, ""},
		// The top's own ext id is in no listing: every level is listed
		// (which the whole tree needs anyway), then the top is read.
		{"ext id of the top", true, convirza.FetchOptions{Root: "ACME"}, snap.TopGroupID, 1, ""},
		{"root details and industries", false, convirza.FetchOptions{RootDetails: true, Industries: true}, snap.TopGroupID, 2, ""},
		{"unknown ext id", false, convirza.FetchOptions{Root: "NOPE"}, 0, 0, "no group under the caller's group has this ext id"},
		{"id out of the tree", false, convirza.FetchOptions{Root: "id:99999"}, 0, 0, "not in the caller's group tree"},
		{"bad id", false, convirza.FetchOptions{Root: "id:x"}, 0, 0, "want id:N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv, tt.login)
			srv.ResetCalls()
			cs, fs, err := c.FetchState(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			groups, users := under(tt.root)
			root, ok := cs.Root()
			if cs.RootID != tt.root || !ok || len(cs.Groups) != groups || len(cs.Users) != users {
				t.Errorf("root %d, %d groups, %d users; want %d, %d, %d", cs.RootID, len(cs.Groups), len(cs.Users), tt.root, groups, users)
			}
			want := map[int64]convirzatest.Group{}
			for _, g := range snap.Groups {
				want[g.ID] = g
			}
			if w := want[tt.root]; root.ExtID != w.ExtID || root.Name != w.Name {
				t.Errorf("root record %+v, want ext id %q and name %q", root, w.ExtID, w.Name)
			}
			if tt.opts.RootDetails && root.Address != want[tt.root].Address {
				t.Errorf("root details missing: %+v", root)
			}
			if tt.opts.Industries != (len(cs.Industries) > 0) {
				t.Errorf("%d industries", len(cs.Industries))
			}
			if logged := len(v3Calls(srv)); fs.Calls != fs.Formula+fs.ProbeCalls+tt.extraCalls || logged != fs.Calls || fs.ProbeCalls > 1 {
				t.Errorf("calls %d (log %d), formula %d + %d: %+v", fs.Calls, logged, fs.Formula, tt.extraCalls, fs)
			}
		})
	}
}

func TestSandboxNoRetryStorm(t *testing.T) {
	// The client's limiter holds the pace even when the caller is in a
	// hurry: 30 calls at 200/s with a burst of 5 take about 125 ms.
	srv := startSandbox(t, nil, convirzatest.Options{})
	c := newClient(t, srv, false, func(o *convirza.Options) { o.Rate, o.Burst = 200, 5 })
	start := time.Now()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, _, err := c.Groups.Get(context.Background(), srv.TopGroupID()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("30 calls at 200/s (burst 5) took only %v", d)
	}
	if s := c.Stats(); s.Calls != 30 || s.ByStatus[200] != 30 {
		t.Errorf("stats %+v", s)
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkFetchState reads the 5,000-group, 20,000-user account of
// TestSandboxFetchState over loopback HTTP (sandbox in-process).
func BenchmarkFetchState(b *testing.B) {
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{2, 498, 4500}, Users: 20000, InactiveEvery: 7})
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{LoginLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := convirza.NewClient(convirza.Options{APIURL: srv.APIURL(), AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
		Token: srv.Token(), Rate: 100000})
	if err != nil {
		b.Fatal(err)
	}
	var fs convirza.FetchStats
	for b.Loop() {
		srv.ResetCalls()
		if _, fs, err = c.FetchState(context.Background(), convirza.FetchOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fs.Calls), "calls/op")
	b.ReportMetric(float64(fs.Formula), "formula/op")
}

// getConcurrently sends n Get calls for group id at the same instant, and
// fails the test for each that errs.
func getConcurrently(ctx context.Context, t *testing.T, c *convirza.Client, id int64, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = c.Groups.Get(ctx, id)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
}

// BenchmarkFetchStateLarge is BenchmarkFetchState at 10k groups and 200k
// users, to profile the fetch where its memory shows (-memprofile,
// -cpuprofile). It keeps the last state alive, as a caller would.
func BenchmarkFetchStateLarge(b *testing.B) {
	if testing.Short() {
		b.Skip("large")
	}
	st := convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{10, 990, 9000}, Users: 200_000, InactiveEvery: 7})
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{LoginLimit: -1, CallLogLimit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := convirza.NewClient(convirza.Options{APIURL: srv.APIURL(), AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
		Token: srv.Token(), Rate: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	var (
		cs   *state.CurrentState
		peak uint64
	)
	for b.Loop() {
		srv.ResetCalls()
		cs = nil
		runtime.GC()
		stop := samplePeakHeap(&peak)
		cs, _, err = c.FetchState(context.Background(), convirza.FetchOptions{})
		stop()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cs.Users)), "users/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	// CONVIRZA_HEAP_PROFILE names a file for a heap profile taken with the
	// last state still held: its inuse figures are what the state keeps.
	if path := os.Getenv("CONVIRZA_HEAP_PROFILE"); path != "" {
		runtime.GC()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(cs)
}

// samplePeakHeap samples the heap's objects (live and not yet swept) every
// millisecond into peak until the returned stop is called.
func samplePeakHeap(peak *uint64) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-done }
}
