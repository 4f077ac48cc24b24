package convirzatest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestListUsersAcrossSubgroups(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	boston := c.createGroup(east, "Boston", nil)
	west := c.createGroup(top, "West", nil)
	same := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	add := func(g int64, email, first, last string, role state.Role, status state.Status, created time.Time) int64 {
		id, err := srv.AddUser(g, User{Email: email, FirstName: first, LastName: last, Role: role, Status: status, Created: created})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	u1 := add(top, "zed@acme.example", "Zed", "Top", state.RoleAdmin, "", same)
	u2 := add(east, "amy@acme.example", "Amy", "East", state.RoleStandard, "", same)
	u3 := add(boston, "bob@acme.example", "Bob", "Boston", state.RoleReadOnly, "", same.Add(-time.Hour))
	u4 := add(boston, "cat@acme.example", "Cat", "Boston", state.RoleStandard, state.StatusInactive, same.Add(time.Hour))
	u5 := add(west, "dan@acme.example", "Dan", "West", state.RoleStandard, state.StatusDeleted, same)
	u6 := add(west, "eve@acme.example", "Eve", "West", state.RoleStandard, "", same)

	ids := func(q url.Values) []int64 {
		t.Helper()
		var p usersPage
		c.get("/v3/users/list", q).must(t, 200, &p)
		out := []int64{}
		for _, u := range p.Users {
			out = append(out, u.ID)
		}
		if q.Get("limit") == "" && p.Total != len(out) {
			t.Errorf("%s: total %d for %d rows", q.Encode(), p.Total, len(out))
		}
		return out
	}
	org := func(id int64) string { return strconv.FormatInt(id, 10) }
	cases := []struct {
		name string
		q    url.Values
		want []int64
	}{
		// created_on desc by default; ties broken by id, in the same direction.
		{"default", nil, []int64{u4, u6, u2, u1, u3}},
		{"created asc", url.Values{"sort_by": {"created_on"}, "sort_order": {"asc"}}, []int64{u3, u1, u2, u6, u4}},
		{"subtree of East", url.Values{"org_unit_id": {org(east)}, "sort_order": {"asc"}}, []int64{u3, u2, u4}},
		{"subtree of Boston", url.Values{"org_unit_id": {org(boston)}}, []int64{u4, u3}},
		{"deleted only", url.Values{"user_status": {"deleted"}}, []int64{u5}},
		{"inactive only", url.Values{"user_status": {"inactive"}}, []int64{u4}},
		{"active only", url.Values{"user_status": {"active"}, "sort_order": {"asc"}}, []int64{u3, u1, u2, u6}},
		{"by name asc", url.Values{"sort_by": {"name"}, "sort_order": {"asc"}}, []int64{u2, u3, u4, u6, u1}},
		{"by email desc", url.Values{"sort_by": {"email"}}, []int64{u1, u6, u4, u3, u2}},
		{"email partial, any case", url.Values{"email": {"AMY@"}}, []int64{u2}},
		{"name partial", url.Values{"name": {"boston"}, "sort_order": {"asc"}}, []int64{u3, u4}},
		{"full name", url.Values{"name": {"eve west"}}, []int64{u6}},
		{"role_id 3", url.Values{"role_id": {"3"}}, []int64{u3}},
		{"role_id 1", url.Values{"role_id": {"1"}}, []int64{u1}},
		{"paged", url.Values{"limit": {"2"}, "offset": {"1"}}, []int64{u6, u2}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids(tt.q)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []url.Values{
		{"limit": {"0"}}, {"limit": {"201"}}, {"offset": {"-1"}}, {"sort_by": {"age"}},
		{"sort_order": {"up"}}, {"user_status": {"gone"}}, {"role_id": {"4"}}, {"org_unit_id": {"-3"}},
	} {
		c.get("/v3/users/list", bad).must(t, 400, nil)
	}
	c.get("/v3/users/list", url.Values{"org_unit_id": {"999999"}}).must(t, 404, nil)

	t.Run("user shape", func(t *testing.T) {
		var u map[string]any
		c.get(path("/v3/users/%d", u3), nil).must(t, 200, &u)
		want := map[string]any{
			"ct_user_id": float64(u3), "first_name": "Bob", "last_name": "Boston", "email": "bob@acme.example",
			"user_ext_id": nil, "status": "active", "agent_ring_to": nil, "agent_id": nil,
			"group": "Boston", "group_org_unit_id": float64(boston), "group_external_id": nil,
			"account": "Acme Corp", "account_org_unit_id": float64(top), "account_external_id": "ACME",
			"parent_group": "East", "parent_group_org_unit_id": float64(east), "parent_group_external_id": nil,
			"role": "Read-Only User", "access_audio": "No", "assign_scorecard": false, "timezone": nil,
			"user_created": "2025-06-01T11:00:00.000Z",
		}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		c.get("/v3/users/999999", nil).must(t, 404, nil)
	})
}

func TestListUsersPagingStable(t *testing.T) {
	st := Generate(GenSpec{PerLevel: []int{10, 40}, Users: 1150})
	// Many users share one creation time: ties must still page cleanly.
	for i := range st.Users {
		st.Users[i].Created = st.Users[i/100*100].Created
	}
	sb, err := NewFromState(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c := &tc{t: t, srv: srv, token: srv.Token(), hc: srv.Client()}
	for _, order := range []string{"asc", "desc"} {
		seen := map[int64]bool{}
		var last *time.Time
		for offset := 0; offset < 1150; offset += 200 {
			var p usersPage
			c.get("/v3/users/list", url.Values{"sort_by": {"created_on"}, "sort_order": {order}, "limit": {"200"}, "offset": {strconv.Itoa(offset)}}).must(t, 200, &p)
			if p.Total != 1150 {
				t.Fatalf("total %d", p.Total)
			}
			for _, u := range p.Users {
				if seen[u.ID] {
					t.Fatalf("%s: user %d on two pages", order, u.ID)
				}
				seen[u.ID] = true
				ts, err := time.Parse(time.RFC3339, u.Created)
				if err != nil {
					t.Fatal(err)
				}
				if last != nil && (order == "asc" && ts.Before(*last) || order == "desc" && ts.After(*last)) {
					t.Fatalf("%s: out of order at user %d", order, u.ID)
				}
				last = &ts
			}
		}
		if len(seen) != 1150 {
			t.Errorf("%s: %d users seen, want 1150", order, len(seen))
		}
	}
}

func TestCreateUserRules(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	paused := c.createGroup(top, "Paused", nil)
	if err := srv.SetGroupStatus(paused, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	gone := c.createUser(east, "gone@acme.example", nil)
	c.do(http.MethodDelete, path("/v3/users/%d", gone), nil).must(t, 200, nil)
	c.createUser(east, "Taken@Acme.example", nil)
	base := func(kv ...any) map[string]any {
		m := map[string]any{"username": "new@acme.example", "first_name": "New", "last_name": "User", "ct_user_ou_id": east, "role": "Standard"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"minimal", base(), 200, ""},
		{"role_id", base("username", "r3@acme.example", "role", nil, "role_id", 3), 200, ""},
		{"role and role_id agree", base("username", "r1@acme.example", "role", "Admin", "role_id", 1), 200, ""},
		{"every field", base("username", "full@acme.example", "user_ext_id", "E-9", "user_status", "inactive",
			"timezone", "America/Denver", "aliases", []string{"fully"}, "agent_ring_to", "+14255551234",
			"agent_code", "AGT-9", "score_call", true, "access_audio", "Yes"), 200, ""},
		{"deleted user's email is free", base("username", "GONE@acme.example"), 200, ""},
		{"email taken, any case", base("username", "taken@ACME.example"), 409, "username"},
		{"no username", base("username", nil), 400, "username"},
		{"bad email", base("username", "not-an-email"), 400, "username"},
		{"display name in email", base("username", "Bob <bob@acme.example>"), 400, "username"},
		{"spaces around email", base("username", " sp@acme.example "), 400, "username"},
		{"no first name", base("username", "a1@acme.example", "first_name", nil), 400, "first_name"},
		{"blank last name", base("username", "a2@acme.example", "last_name", "  "), 400, "last_name"},
		{"no group", base("username", "a3@acme.example", "ct_user_ou_id", nil), 400, "ct_user_ou_id"},
		{"unknown group", base("username", "a4@acme.example", "ct_user_ou_id", 999999), 400, "ct_user_ou_id"},
		{"inactive group", base("username", "a5@acme.example", "ct_user_ou_id", paused), 400, "ct_user_ou_id"},
		{"no role", base("username", "a6@acme.example", "role", nil), 400, "role"},
		{"display role", base("username", "a7@acme.example", "role", "Standard User"), 400, "role"},
		{"lower-case role", base("username", "a8@acme.example", "role", "admin"), 400, "role"},
		{"role_id 4", base("username", "a9@acme.example", "role", nil, "role_id", 4), 400, "role_id"},
		{"role and role_id disagree", base("username", "b1@acme.example", "role", "Admin", "role_id", 2), 400, "role_id"},
		{"status deleted", base("username", "b2@acme.example", "user_status", "deleted"), 400, "user_status"},
		{"email field is unknown", base("username", "b3@acme.example", "email", "b3@acme.example"), 400, "email"},
		{"unknown field", base("username", "b4@acme.example", "nickname", "x"), 400, "nickname"},
		{"score_call as string", base("username", "b5@acme.example", "score_call", "yes"), 400, "score_call"},
		{"malformed", `{"username": "x@acme.example"`, 400, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Snapshot().Users)
			r := c.do(http.MethodPost, "/v3/users", tt.body).must(t, tt.status, nil)
			after := len(srv.Snapshot().Users)
			if tt.status == 200 && after != before+1 || tt.status != 200 && after != before {
				t.Errorf("users %d -> %d", before, after)
			}
			if tt.field != "" && (len(r.Env.Errors) == 0 || r.Env.Errors[0].Field != tt.field) {
				t.Errorf("errors %+v, want field %q", r.Env.Errors, tt.field)
			}
		})
	}
	t.Run("stored as sent", func(t *testing.T) {
		var p usersPage
		c.get("/v3/users/list", url.Values{"email": {"full@"}, "user_status": {"inactive"}}).must(t, 200, &p)
		if len(p.Users) != 1 {
			t.Fatalf("%d users", len(p.Users))
		}
		u, _ := srv.User(p.Users[0].ID)
		want := User{ID: u.ID, Email: "full@acme.example", FirstName: "New", LastName: "User", ExtID: "E-9",
			Status: state.StatusInactive, Role: state.RoleStandard, GroupID: east, Created: u.Created,
			Timezone: "America/Denver", Aliases: []string{"fully"}, AgentRingTo: "+14255551234", AgentCode: "AGT-9",
			ScoreCall: true, AccessAudio: true}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
	})
}

func TestPatchAndDeleteUserRules(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	west := c.createGroup(top, "West", nil)
	paused := c.createGroup(top, "Paused", nil)
	if err := srv.SetGroupStatus(paused, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	u := c.createUser(east, "u@acme.example", nil)
	c.createUser(east, "other@acme.example", nil)
	gone := c.createUser(east, "gone@acme.example", nil)
	c.do(http.MethodDelete, path("/v3/users/%d", gone), nil).must(t, 200, nil)

	cases := []struct {
		name   string
		id     int64
		body   any
		status int
	}{
		{"empty", u, map[string]any{}, 400},
		{"unknown field", u, map[string]any{"email": "x@acme.example"}, 400},
		{"deleted user", gone, map[string]any{"first_name": "Back"}, 400},
		{"unknown user", 999999, map[string]any{"first_name": "X"}, 404},
		{"username clash", u, map[string]any{"username": "OTHER@acme.example"}, 409},
		{"username of a deleted user is free", u, map[string]any{"username": "gone@acme.example"}, 200},
		{"username, own, other case", u, map[string]any{"username": "GONE@acme.example"}, 200},
		{"bad username", u, map[string]any{"username": "nope"}, 400},
		{"move to inactive group", u, map[string]any{"ct_user_ou_id": paused}, 400},
		{"move", u, map[string]any{"ct_user_ou_id": west}, 200},
		{"deactivate", u, map[string]any{"user_status": "inactive"}, 200},
		{"reactivate", u, map[string]any{"user_status": "active"}, 200},
		{"status deleted", u, map[string]any{"user_status": "deleted"}, 400},
		{"role", u, map[string]any{"role": "ReadOnly"}, 200},
		{"bad role", u, map[string]any{"role": "Read-Only User"}, 400},
		{"blank first name", u, map[string]any{"first_name": ""}, 400},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Snapshot()
			var out struct {
				UserID int64 `json:"userId"`
			}
			c.do(http.MethodPatch, path("/v3/users/%d", tt.id), tt.body).must(t, tt.status, &out)
			if tt.status != 200 {
				if diff := cmp.Diff(before, srv.Snapshot()); diff != "" {
					t.Errorf("a refused PATCH changed the state:\n%s", diff)
				}
			} else if out.UserID != tt.id {
				t.Errorf("userId %d", out.UserID)
			}
		})
	}
	got, _ := srv.User(u)
	if got.GroupID != west || got.Role != state.RoleReadOnly || got.Email != "GONE@acme.example" || got.Status != state.StatusActive {
		t.Errorf("user after patches: %+v", got)
	}
	// The moved user lists under West only.
	var p usersPage
	c.get("/v3/users/list", url.Values{"org_unit_id": {strconv.FormatInt(west, 10)}}).must(t, 200, &p)
	if p.Total != 1 || p.Users[0].ID != u {
		t.Errorf("West's users: %+v", p)
	}
	c.do(http.MethodDelete, path("/v3/users/%d", u), nil).must(t, 200, nil)
	c.do(http.MethodDelete, path("/v3/users/%d", u), nil).must(t, 404, nil)
	c.do(http.MethodDelete, "/v3/users/999999", nil).must(t, 404, nil)
	var d map[string]any
	c.get(path("/v3/users/%d", u), nil).must(t, 200, &d)
	if d["status"] != "deleted" {
		t.Errorf("deleted user reads %v", d["status"])
	}
	// Its email is free again.
	c.createUser(east, "gone@acme.example", nil)
}
