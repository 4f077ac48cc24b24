package convirzatest

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEnvelopeOnEveryAnswer(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	seen := map[string]bool{}
	cases := []struct {
		name   string
		call   func() *resp
		status int
	}{
		{"ok", func() *resp { return c.get("/v3/groups/list", nil) }, 200},
		{"login", func() *resp {
			return c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@b.example", "password": Password})
		}, 200},
		{"wrong password", func() *resp {
			return c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@b.example", "password": "nope"})
		}, 401},
		{"no bearer", func() *resp { return c.with("").get("/v3/groups/list", nil) }, 401},
		{"unknown id", func() *resp { return c.get("/v3/groups/999999", nil) }, 404},
		{"bad limit", func() *resp { return c.get("/v3/groups/list?limit=0", nil) }, 400},
		{"no such endpoint", func() *resp { return c.get("/v3/nothing", nil) }, 404},
		{"wrong method", func() *resp { return c.do(http.MethodPut, "/v3/groups/1001", map[string]any{"city": "x"}) }, 405},
		{"not v3", func() *resp { return c.get("/elsewhere", nil) }, 404},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				r := tt.call()
				if r.Status != tt.status || r.Env.Code != tt.status {
					t.Fatalf("status %d, code %d, want %d (%s)", r.Status, r.Env.Code, tt.status, r.Env.Message)
				}
				if r.Env.Message == "" {
					t.Error("empty message")
				}
				if !uuidRE.MatchString(r.Env.RequestID) {
					t.Errorf("request_id %q is not a UUID", r.Env.RequestID)
				}
				if h := r.Header.Get("X-Request-Id"); h != r.Env.RequestID {
					t.Errorf("X-Request-Id %q, body %q", h, r.Env.RequestID)
				}
				if seen[r.Env.RequestID] {
					t.Errorf("request_id %q repeated", r.Env.RequestID)
				}
				seen[r.Env.RequestID] = true
				ts, err := time.Parse(time.RFC3339Nano, r.Env.Timestamp)
				if err != nil || ts.Location() != time.UTC || time.Since(ts) > time.Minute {
					t.Errorf("timestamp %q: %v", r.Env.Timestamp, err)
				}
			}
		})
	}
	// The call log carries the same request ids.
	for _, call := range srv.Calls() {
		if !seen[call.RequestID] {
			t.Errorf("call %s %s has request id %q that no answer carried", call.Method, call.Path, call.RequestID)
		}
	}
}

func TestLogin(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	uid := c.createUser(east, "Jane.Roe@Acme.example", map[string]any{"role": "Admin"})
	inactive := c.createUser(east, "gone@acme.example", map[string]any{"user_status": "inactive"})
	_ = inactive

	t.Run("synthetic admin", func(t *testing.T) {
		d := c.login("ops@acme.example")
		if d.TokenType != "Bearer" || d.AccessToken == "" || d.RefreshToken == "" || d.FrontendToken == "" {
			t.Fatalf("token fields missing: %+v", d.User)
		}
		want := struct {
			UserID    int64
			Email     string
			RoleID    int
			OrgUnitID int64
		}{srv.AdminUserID(), "ops@acme.example", 1, top}
		got := struct {
			UserID    int64
			Email     string
			RoleID    int
			OrgUnitID int64
		}{d.User.UserID, d.User.Email, d.User.RoleID, d.User.OrgUnitID}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		exp, err := time.Parse(time.RFC3339, d.ExpiresIn)
		if err != nil || !strings.HasSuffix(d.ExpiresIn, "Z") {
			t.Fatalf("expires_in %q is not an ISO-8601 UTC timestamp: %v", d.ExpiresIn, err)
		}
		if got := time.Until(exp); got < 7*24*time.Hour-time.Minute || got > 7*24*time.Hour+time.Minute {
			t.Errorf("access token lives %v, want 7 days", got)
		}
		rexp, err := time.Parse(time.RFC3339, d.RefreshExpiresIn)
		if err != nil {
			t.Fatalf("refresh_expires_in %q: %v", d.RefreshExpiresIn, err)
		}
		if got := time.Until(rexp); got < 180*24*time.Hour-time.Minute || got > 180*24*time.Hour+time.Minute {
			t.Errorf("refresh token lives %v, want 180 days", got)
		}
		c.with(d.AccessToken).get("/v3/groups/list", nil).must(t, 200, nil)
		// The frontend token is not an API token.
		c.with(d.FrontendToken).get("/v3/groups/list", nil).must(t, 401, nil)
	})
	t.Run("existing user, any case", func(t *testing.T) {
		d := c.login("jane.roe@ACME.example")
		if d.User.UserID != uid || d.User.OrgUnitID != east || d.User.RoleID != 1 {
			t.Errorf("user %+v, want id %d in %d", d.User, uid, east)
		}
	})
	t.Run("inactive user logs in as the synthetic admin", func(t *testing.T) {
		d := c.login("gone@acme.example")
		if d.User.UserID != srv.AdminUserID() || d.User.OrgUnitID != top {
			t.Errorf("user %+v", d.User)
		}
	})
	bad := []struct {
		name   string
		body   any
		status int
	}{
		{"wrong password", map[string]string{"email": "a@acme.example", "password": "Sandbox"}, 401},
		{"not an email", map[string]string{"email": "admin", "password": Password}, 401},
		{"no password", map[string]string{"email": "a@acme.example"}, 400},
		{"no email", map[string]string{"password": Password}, 400},
		{"form encoded", "email=a%40acme.example&password=sandbox", 400},
		{"malformed", `{"email": "a@acme.example", "password": "sandbox"`, 400},
		{"number password", map[string]any{"email": "a@acme.example", "password": 7}, 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodPost, "/oauth/token", tt.body)
			r.must(t, tt.status, nil)
			if r.Env.Data != nil && string(r.Env.Data) != "null" {
				t.Errorf("error carries data %s", r.Env.Data)
			}
		})
	}
	t.Run("GET is refused", func(t *testing.T) {
		c.do(http.MethodGet, "/oauth/token", nil).must(t, 405, nil)
	})
}

func TestLoginLimit(t *testing.T) {
	srv, c := setup(t, Options{})
	for i := range DefaultLoginLimit {
		// Failed logins count too.
		pw := Password
		if i%2 == 1 {
			pw = "wrong"
		}
		r := c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@acme.example", "password": pw})
		if r.Status == 429 {
			t.Fatalf("login %d refused by the limit", i+1)
		}
	}
	r := c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@acme.example", "password": Password})
	r.must(t, 429, nil)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	// The limit is on logins only: API calls and refreshes go on.
	c.get("/v3/groups/list", nil).must(t, 200, nil)

	srv.SetLoginLimit(-1)
	for range 15 {
		c.login("a@acme.example")
	}
	srv.SetLoginLimit(3)
	for range 3 {
		c.login("a@acme.example")
	}
	c.do(http.MethodPost, "/oauth/token", map[string]string{"email": "a@acme.example", "password": Password}).must(t, 429, nil)
}

func TestRefreshIsSingleUse(t *testing.T) {
	_, c := setup(t, Options{LoginLimit: -1})
	d := c.login("ops@acme.example")
	var n loginData
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": d.RefreshToken}).must(t, 200, &n)
	if n.AccessToken == d.AccessToken || n.RefreshToken == d.RefreshToken {
		t.Fatal("refresh returned the old tokens")
	}
	if n.User.UserID != d.User.UserID || n.User.OrgUnitID != d.User.OrgUnitID {
		t.Errorf("refresh changed the user: %+v -> %+v", d.User, n.User)
	}
	if _, err := time.Parse(time.RFC3339, n.ExpiresIn); err != nil {
		t.Errorf("expires_in %q: %v", n.ExpiresIn, err)
	}
	c.with(n.AccessToken).get("/v3/groups/list", nil).must(t, 200, nil)
	// The old access token died with the refresh.
	c.with(d.AccessToken).get("/v3/groups/list", nil).must(t, 401, nil)
	// The old refresh token works once only.
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": d.RefreshToken}).must(t, 401, nil)
	// The new pair is intact after the refused reuse.
	c.with(n.AccessToken).get("/v3/groups/list", nil).must(t, 200, nil)
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": "rt_unknown"}).must(t, 401, nil)
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{}).must(t, 400, nil)
	// An access token is not a refresh token.
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": n.AccessToken}).must(t, 401, nil)
}

func TestRevokeIsIdempotent(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	d := c.login("ops@acme.example")
	revoke := func(tok, typ string) *resp {
		return c.do(http.MethodPost, "/oauth/revoke-token", map[string]string{"token": tok, "token_type": typ})
	}
	revoke(d.AccessToken, "access").must(t, 200, nil)
	c.with(d.AccessToken).get("/v3/groups/list", nil).must(t, 401, nil)
	revoke(d.AccessToken, "access").must(t, 200, nil)
	revoke("at_never_issued", "access").must(t, 200, nil)
	revoke(d.RefreshToken, "refresh").must(t, 200, nil)
	revoke(d.RefreshToken, "refresh").must(t, 200, nil)
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": d.RefreshToken}).must(t, 401, nil)
	revoke(d.RefreshToken, "bearer").must(t, 400, nil)
	c.do(http.MethodPost, "/oauth/revoke-token", map[string]string{"token_type": "access"}).must(t, 400, nil)

	// The static token is an access token like any other.
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	revoke(srv.Token(), "access").must(t, 200, nil)
	c.get("/v3/groups/list", nil).must(t, 401, nil)
}

func TestBearerRequired(t *testing.T) {
	srv, c := setup(t, Options{})
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic " + srv.Token(), "Bearer nope", srv.Token()} {
		req, _ := http.NewRequest(http.MethodGet, srv.APIURL()+"/groups/list", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		hr, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		hr.Body.Close()
		if hr.StatusCode != 401 {
			t.Errorf("Authorization %q: status %d, want 401", strings.Replace(h, srv.Token(), "<token>", 1), hr.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.APIURL()+"/groups/list", nil)
	req.Header.Set("Authorization", "bearer "+srv.Token())
	hr, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 200 {
		t.Errorf("lower-case scheme: status %d", hr.StatusCode)
	}
}

func TestScope(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	west := c.createGroup(top, "West", nil)
	boston := c.createGroup(east, "Boston", nil)
	seattle := c.createGroup(west, "Seattle", nil)
	c.createUser(east, "east.admin@acme.example", map[string]any{"role": "Admin"})
	westUser := c.createUser(seattle, "w@acme.example", nil)
	eastUser := c.createUser(boston, "b@acme.example", nil)

	d := c.login("east.admin@acme.example")
	e := c.with(d.AccessToken)
	if d.User.OrgUnitID != east {
		t.Fatalf("scope %d, want %d", d.User.OrgUnitID, east)
	}
	cases := []struct {
		name   string
		call   func() *resp
		status int
	}{
		{"own group", func() *resp { return e.get(path("/v3/groups/%d", east), nil) }, 200},
		{"below", func() *resp { return e.get(path("/v3/groups/%d", boston), nil) }, 200},
		{"parent", func() *resp { return e.get(path("/v3/groups/%d", top), nil) }, 401},
		{"sibling", func() *resp { return e.get(path("/v3/groups/%d", west), nil) }, 401},
		{"cousin", func() *resp { return e.get(path("/v3/groups/%d", seattle), nil) }, 401},
		{"list top", func() *resp { return e.get(path("/v3/groups/list?org_unit_id=%d", top), nil) }, 401},
		{"org-list top", func() *resp { return e.get(path("/v3/groups/org-list/?org_unit_id=%d", top), nil) }, 401},
		{"users of top", func() *resp { return e.get(path("/v3/users/list?org_unit_id=%d", top), nil) }, 401},
		{"user outside", func() *resp { return e.get(path("/v3/users/%d", westUser), nil) }, 401},
		{"user inside", func() *resp { return e.get(path("/v3/users/%d", eastUser), nil) }, 200},
		{"create under sibling", func() *resp {
			return e.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": "X", "org_unit_parent_id": west})
		}, 401},
		{"move out", func() *resp {
			return e.do(http.MethodPatch, path("/v3/groups/%d", boston), map[string]any{"org_unit_parent_id": west})
		}, 401},
		{"move own group", func() *resp {
			return e.do(http.MethodPatch, path("/v3/groups/%d", east), map[string]any{"org_unit_parent_id": west})
		}, 400},
		{"delete own group", func() *resp { return e.do(http.MethodDelete, path("/v3/groups/%d", east), nil) }, 400},
		{"user into sibling", func() *resp {
			return e.do(http.MethodPatch, path("/v3/users/%d", eastUser), map[string]any{"ct_user_ou_id": seattle})
		}, 401},
		{"patch user outside", func() *resp {
			return e.do(http.MethodPatch, path("/v3/users/%d", westUser), map[string]any{"first_name": "X"})
		}, 401},
		{"unknown group is 404", func() *resp { return e.get("/v3/groups/424242", nil) }, 404},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.call()
			r.must(t, tt.status, nil)
			if tt.status == 401 && r.Env.Message != "unauthorized" {
				t.Errorf("message %q, want \"unauthorized\"", r.Env.Message)
			}
		})
	}
	t.Run("defaults follow the scope", func(t *testing.T) {
		var ol struct {
			OrgUnits []int64 `json:"orgUnits"`
		}
		e.get("/v3/groups/org-list/", nil).must(t, 200, &ol)
		if diff := cmp.Diff([]int64{east, boston}, ol.OrgUnits); diff != "" {
			t.Errorf("org-list (-want +got):\n%s", diff)
		}
		var tr struct {
			Groups []flatNode `json:"groups"`
		}
		e.get("/v3/groups/tree?active=false", nil).must(t, 200, &tr)
		want := []flatNode{{ID: east, Text: "East", Code: "1", Level: 1}, {ID: boston, Text: "Boston", Code: "1.1", Level: 2}}
		if diff := cmp.Diff(want, tr.Groups); diff != "" {
			t.Errorf("tree (-want +got):\n%s", diff)
		}
		var up usersPage
		e.get("/v3/users/list", nil).must(t, 200, &up)
		if up.Total != 2 {
			t.Errorf("users in scope: %d, want 2", up.Total)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1, ExpireAfter: 2})
	d := c.login("ops@acme.example")
	a := c.with(d.AccessToken)
	a.get("/v3/groups/list", nil).must(t, 200, nil)
	a.get("/v3/industry", nil).must(t, 200, nil)
	r := a.get("/v3/groups/list", nil).must(t, 401, nil)
	if !strings.Contains(r.Env.Message, "expired") {
		t.Errorf("message %q", r.Env.Message)
	}
	a.get("/v3/groups/list", nil).must(t, 401, nil) // until refreshed
	var n loginData
	c.do(http.MethodPost, "/oauth/refresh-token", map[string]string{"refresh_token": d.RefreshToken}).must(t, 200, &n)
	b := c.with(n.AccessToken)
	b.get("/v3/groups/list", nil).must(t, 200, nil)
	b.get("/v3/groups/list", nil).must(t, 200, nil)
	b.get("/v3/groups/list", nil).must(t, 401, nil)

	// The static token expires too when asked, and has no refresh.
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	c.get("/v3/groups/list", nil).must(t, 200, nil)
	c.get("/v3/groups/list", nil).must(t, 401, nil)
	srv.SetExpireAfter(0)
	c.get("/v3/groups/list", nil).must(t, 200, nil)
}

func TestCallerCannotRemoveItself(t *testing.T) {
	srv, c := setup(t, Options{LoginLimit: -1})
	uid := c.createUser(srv.TopGroupID(), "me@acme.example", map[string]any{"role": "Admin"})
	me := c.with(c.login("me@acme.example").AccessToken)
	me.do(http.MethodPatch, path("/v3/users/%d", uid), map[string]any{"user_status": "inactive"}).must(t, 400, nil)
	me.do(http.MethodPatch, path("/v3/users/%d", uid), map[string]any{"role": "Standard"}).must(t, 400, nil)
	me.do(http.MethodDelete, path("/v3/users/%d", uid), nil).must(t, 400, nil)
	me.do(http.MethodPatch, path("/v3/users/%d", uid), map[string]any{"first_name": "Me"}).must(t, 200, nil)
	// Another admin may.
	c.do(http.MethodPatch, path("/v3/users/%d", uid), map[string]any{"user_status": "inactive"}).must(t, 200, nil)
	if u, _ := srv.User(uid); u.Status != state.StatusInactive || u.FirstName != "Me" {
		t.Errorf("user %+v", u)
	}
}
