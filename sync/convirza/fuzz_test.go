package convirza

// Fuzz targets for the decoding of responses: each feeds arbitrary bytes, as
// the body of an answer with a fuzzed status, through the very path a call
// takes (Client.do, send, the envelope, the service's decoder), using an
// http.RoundTripper that answers without a network. The invariant: no
// panic; an error is a typed one (*APIError, *RateLimitError or
// *MalformedResponseError) that names the method, the path and the status
// and carries no secret; a success is a value that means something (ids
// that are not 0, a tree without repeated nodes).
//
//	go test ./sync/convirza -run '^$' -fuzz '^FuzzDecodeTree$' -fuzztime 20s

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// fuzzStatuses are the statuses a fuzz input picks from by index.
var fuzzStatuses = []int{200, 201, 204, 299, 302, 400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504}

// The secrets of the fuzz clients; no error may show them.
const (
	fuzzToken    = "tok-fuzz-5b2c9e1f7a"
	fuzzPassword = "pw-fuzz-8d31c0a4e6"
)

// fuzzAnswer answers every request with one status, header and body.
type fuzzAnswer struct {
	status int
	header string // sent as Retry-After and X-Request-Id when not empty
	body   []byte
}

func (a *fuzzAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if a.header != "" {
		h["Retry-After"] = []string{a.header}
		h["X-Request-Id"] = []string{a.header}
	}
	return &http.Response{
		Status: strconv.Itoa(a.status) + " " + http.StatusText(a.status), StatusCode: a.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: r,
	}, nil
}

// fuzzClient returns a client whose every call gets the answer, with a
// static token (or email and password with login), no retries and no
// rate limit to speak of.
func fuzzClient(t *testing.T, a *fuzzAnswer, login bool) *Client {
	t.Helper()
	o := Options{APIURL: "http://127.0.0.1:9/v3", AuthURL: "http://127.0.0.1:9", Rate: 1e9, MaxRetries: -1,
		MaxBackoff: time.Millisecond, HTTPClient: &http.Client{Transport: a}}
	if login {
		o.Email, o.Password = "fuzz@example.com", fuzzPassword
	} else {
		o.Token = fuzzToken
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fuzzInput turns the fuzz arguments into an answer.
func fuzzInput(status uint8, body []byte, header string) *fuzzAnswer {
	return &fuzzAnswer{status: fuzzStatuses[int(status)%len(fuzzStatuses)], header: header, body: body}
}

// checkTypedError: err is a typed error naming method, path and status,
// and shows no secret.
func checkTypedError(t *testing.T, err error, method, path string, status int) {
	t.Helper()
	msg := err.Error()
	for _, s := range []string{fuzzToken, fuzzPassword} {
		if strings.Contains(msg, s) {
			t.Fatalf("the error shows a secret: %s", msg)
		}
	}
	var (
		ae *APIError
		me *MalformedResponseError
	)
	switch {
	case errors.As(err, &me):
		if me.Method != method || !strings.HasPrefix(me.Path, path) || me.StatusCode != status {
			t.Fatalf("a *MalformedResponseError names %s %s %d, want %s %s %d: %s", me.Method, me.Path, me.StatusCode, method, path, status, msg)
		}
	case errors.As(err, &ae):
		if ae.Method != method || !strings.HasPrefix(ae.Path, path) || ae.StatusCode != status {
			t.Fatalf("an *APIError names %s %s %d, want %s %s %d: %s", ae.Method, ae.Path, ae.StatusCode, method, path, status, msg)
		}
		if ae.Message == "" && http.StatusText(ae.StatusCode) != "" {
			t.Fatalf("an *APIError without a message: %#v", ae)
		}
		if status == http.StatusTooManyRequests {
			var rl *RateLimitError
			if !errors.As(err, &rl) {
				t.Fatalf("a 429 is not a *RateLimitError: %s", msg)
			}
		}
	default:
		t.Fatalf("an untyped error: %T %s", err, msg)
	}
	if !strings.Contains(msg, method+" "+path) || !strings.Contains(msg, strconv.Itoa(status)) {
		t.Fatalf("the error does not name %s %s %d: %s", method, path, status, msg)
	}
}

// checkNoSuccess: a status that is not 2xx never decodes into a value.
func checkNoSuccess(t *testing.T, status int, what string) {
	t.Helper()
	if status < 200 || status >= 300 {
		t.Fatalf("status %d decoded into %s", status, what)
	}
}

func envelopeOf(data string) []byte {
	return []byte(`{"code":200,"message":"Success","data":` + data + `,"request_id":"5e0c8a1e-8f8e-4e6a-9a55-0c3f2f9f6d11","timestamp":"2026-01-20T12:34:56.789Z"}`)
}

// sandboxBodies returns the bodies the sandbox answers for paths, in both
// response shapes, as seeds.
func sandboxBodies(f *testing.F, paths ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, sh := range []convirzatest.Shapes{{}, {NestedTree: true, WrappedGroupDetail: true, WrappedUserDetail: true,
		WrappedIndustries: true, GroupTimestampNames: true, PhoneDashes: true}} {
		sb, err := convirzatest.NewFromState(convirzatest.Generate(convirzatest.GenSpec{Depth: 2, Fanout: 3, Users: 4, InactiveEvery: 4}),
			convirzatest.Options{Shapes: sh})
		if err != nil {
			f.Fatal(err)
		}
		srv, err := convirzatest.StartServer(sb, "")
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			req, err := http.NewRequest(http.MethodGet, srv.APIURL()+p, nil)
			if err != nil {
				f.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+srv.Token())
			resp, err := srv.Client().Do(req)
			if err != nil {
				f.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				f.Fatalf("sandbox GET %s: %d %v", p, resp.StatusCode, err)
			}
			out = append(out, b)
		}
		srv.Close()
	}
	return out
}

// addCommonSeeds adds the bodies every target should see: error envelopes,
// proxy pages, broken JSON.
func addCommonSeeds(f *testing.F) {
	for _, s := range []struct {
		status uint8
		body   string
		header string
	}{
		{5, `{"code":400,"message":"org_unit_name is required","errors":[{"field":"org_unit_name","message":"required"}],"request_id":"r-400"}`, ""},
		{5, `{"code":400,"message":"bad","errors":{"zip":"invalid","state":"unknown"}}`, ""},
		{5, `{"code":400,"message":"bad","errors":["one","two",3,{"field":7}]}`, ""},
		{6, `{"code":401,"message":"unauthorized: access token expired"}`, ""},
		{9, `{"code":409,"message":"an org unit named \"East\" already exists under 1001"}`, ""},
		{12, `{"code":429,"message":"rate limit exceeded"}`, "1"},
		{12, `{"code":429,"message":"rate limit exceeded"}`, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{13, `{"code":500,"message":"Internal Server Error (injected by the sandbox)"}`, ""},
		{14, `<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`, ""},
		{0, `<html>maintenance</html>`, ""},
		{0, ``, ""},
		{0, `{"code":200,"message":"Success","request_id":"r1"}`, ""},
		{0, `{"code":200,"data":null}`, ""},
		{0, `{"code":403,"message":"forbidden","data":{}}`, ""},
		{0, `{"code":200,"data":{"org_unit_id":1`, ""},
		{0, `[1,2,3]`, ""},
		{0, `"just a string"`, ""},
		{4, `<html>moved</html>`, ""},
		{0, `{"code":"200","message":12,"request_id":{"x":1},"data":{}}`, "req-h"},
	} {
		f.Add(s.status, []byte(s.body), s.header)
	}
}

func FuzzDecodeGroups(f *testing.F) {
	addCommonSeeds(f)
	for _, b := range sandboxBodies(f, "/groups/list?org_unit_id=1001&limit=200&offset=0", "/groups/1002") {
		f.Add(uint8(0), b, "")
	}
	for _, d := range []string{
		`{"groups":[{"org_unit_id":"1002","org_unit_name":"East","org_unit_parent_id":"1001","zip":10001,"group_created":"2025-01-15 10:30:00"}],"total":"1"}`,
		`[{"org_unit_id":1002.0,"org_unit_name":"East"}]`,
		`{"groups":[{"org_unit_id":0}],"total":1}`,
		`{"groups":null,"total":5}`,
		`{"total":0}`,
		`{"total":-7,"groups":[]}`,
		`{"group":{"org_unit_id":9,"parent_org_unit_id":3,"status":"INACTIVE"}}`,
		`{"org_unit_id":9007199254740993,"org_unit_name":{"a":1}}`,
		`{"org_unit_id":"1e3","org_unit_created":1700000000000,"group_modified":-5}`,
	} {
		f.Add(uint8(0), envelopeOf(d), "")
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		ctx := context.Background()

		groups, resp, err := fuzzClient(t, a, false).Groups.ListChildren(ctx, 1001, nil)
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/groups/list", a.status)
		} else {
			checkNoSuccess(t, a.status, "a group list")
			for i, g := range groups {
				if g.ID == 0 {
					t.Fatalf("group %d of the page has id 0: %+v", i, g)
				}
			}
			if resp == nil || resp.NextOffset < 0 {
				t.Fatalf("response %+v", resp)
			}
		}

		g, _, err := fuzzClient(t, a, false).Groups.Get(ctx, 1002)
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/groups/1002", a.status)
			if g != nil {
				t.Fatalf("a group came back with the error: %+v", g)
			}
		} else {
			checkNoSuccess(t, a.status, "a group")
			if g == nil || g.ID == 0 {
				t.Fatalf("group %+v", g)
			}
		}
	})
}

func FuzzDecodeUsers(f *testing.F) {
	addCommonSeeds(f)
	for _, b := range sandboxBodies(f, "/users/list?org_unit_id=1001&limit=200&offset=0", "/users/10001") {
		f.Add(uint8(0), b, "")
	}
	for _, d := range []string{
		`{"users":[{"ct_user_id":10001,"first_name":"John","email":"john@example.com","role":"Standard User","group":{"x":1},"group_org_unit_id":"70035","user_created":"2026-03-29T12:00:00.000Z"}],"total":1}`,
		`{"users":[{"user_id":"7","username":"u@x.example","user_status":"Inactive","ct_user_ou_id":12,"role_id":"3"}]}`,
		`{"users":[{"first_name":"no id"}],"total":1}`,
		`{"user":{"ct_user_id":"7","email":"a@b.example","role":"ReadOnly"}}`,
		`{"ct_user_id":7,"role":2,"parent_group":[1],"account":null}`,
		`[{"ct_user_id":true}]`,
	} {
		f.Add(uint8(0), envelopeOf(d), "")
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		ctx := context.Background()

		users, resp, err := fuzzClient(t, a, false).Users.List(ctx, &UserListOptions{OrgUnitID: 1001})
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/users/list", a.status)
		} else {
			checkNoSuccess(t, a.status, "a user list")
			for i, u := range users {
				if u.ID == 0 {
					t.Fatalf("user %d of the page has id 0: %+v", i, u)
				}
			}
			if resp == nil || resp.NextOffset < 0 {
				t.Fatalf("response %+v", resp)
			}
		}

		u, _, err := fuzzClient(t, a, false).Users.Get(ctx, 10001)
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/users/10001", a.status)
			if u != nil {
				t.Fatalf("a user came back with the error: %+v", u)
			}
		} else {
			checkNoSuccess(t, a.status, "a user")
			if u == nil || u.ID == 0 {
				t.Fatalf("user %+v", u)
			}
		}
	})
}

func FuzzDecodeTree(f *testing.F) {
	addCommonSeeds(f)
	for _, b := range sandboxBodies(f, "/groups/tree?active=false", "/groups/org-list/?org_unit_id=1001") {
		f.Add(uint8(0), b, "")
	}
	for _, d := range []string{
		`{"groups":[{"org_unit_id":1001,"text":"Acme","code":"1","group_level":1},{"org_unit_id":1002,"text":"East","code":"1.1"},{"org_unit_id":1004,"text":"Boston","code":"1.1.1"}]}`,
		`{"groups":[{"org_unit_id":1002,"text":"East","code":"4.2"},{"org_unit_id":1004,"text":"Boston","code":"4.2.1"}]}`,
		`{"groups":[{"org_unit_id":1001,"text":"Acme","coded_level":"1","children":[{"org_unit_id":1002,"org_unit_name":"East","org_unit_parent_id":1001,"coded_level":2,"children":[]}]}]}`,
		`[{"id":1001,"name":"Acme","children":[{"id":1002,"name":"East","children":[{"id":1004}]}]}]`,
		`{"org_unit_id":1001,"text":"Acme","children":[{"org_unit_id":1002}]}`,
		`{"tree":[{"org_unit_id":1,"code":"1"},{"org_unit_id":1,"code":"1.1"}]}`,
		`{"nodes":[{"org_unit_id":1,"code":"1"},{"org_unit_id":2,"code":"1"}]}`,
		`{"groups":[{"org_unit_id":1,"coded_level":"1.2.3"},{"org_unit_id":2,"level":-4,"parent_id":1}]}`,
		`{"groups":[{"org_unit_id":1,"org_unit_parent_id":2},{"org_unit_id":2,"org_unit_parent_id":1}]}`,
		`{"orgUnits":[1001,"1002",1003.0]}`,
		`{"org_units":[0]}`,
		`[1001,null,"x"]`,
	} {
		f.Add(uint8(0), envelopeOf(d), "")
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		ctx := context.Background()

		nodes, _, err := fuzzClient(t, a, false).Groups.Tree(ctx, false)
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/groups/tree", a.status)
		} else {
			checkNoSuccess(t, a.status, "a tree")
			seen := map[int64]bool{}
			for i, n := range nodes {
				if n.ID == 0 || seen[n.ID] {
					t.Fatalf("node %d: id %d is 0 or seen before: %+v", i, n.ID, nodes)
				}
				seen[n.ID] = true
				// Level is not checked: it is taken as the server says
				// (group_level -1 stays -1) and nothing downstream reads it.
			}
			// FetchState's index of it must answer without looping.
			idx := newTreeIndex(nodes)
			for _, top := range idx.tops() {
				idx.parentsUnder(top)
			}
		}

		ids, _, err := fuzzClient(t, a, false).Groups.OrgList(ctx, 1001)
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/groups/org-list/", a.status)
		} else {
			checkNoSuccess(t, a.status, "an org list")
			for i, id := range ids {
				if id == 0 {
					t.Fatalf("org unit %d of the list is 0: %v", i, ids)
				}
			}
		}
	})
}

func FuzzDecodeIndustries(f *testing.F) {
	addCommonSeeds(f)
	for _, b := range sandboxBodies(f, "/industry") {
		f.Add(uint8(0), b, "")
	}
	for _, d := range []string{
		`[{"industry_id":1,"industry_name":"Automotive"},{"industry_id":"10","industry_name":"Technology"}]`,
		`{"industries":[{"industry_id":1,"industry_name":"Automotive"},{"id":10,"name":"Technology"}]}`,
		`{"industry":[{"name":"no id"}]}`,
		`{"industries":{"1":"Automotive"}}`,
		`[]`,
	} {
		f.Add(uint8(0), envelopeOf(d), "")
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		list, _, err := fuzzClient(t, a, false).Industries.List(context.Background())
		if err != nil {
			checkTypedError(t, err, http.MethodGet, "/v3/industry", a.status)
			return
		}
		checkNoSuccess(t, a.status, "industries")
		for i, in := range list {
			if in.ID == 0 {
				t.Fatalf("industry %d has id 0: %+v", i, list)
			}
		}
	})
}

// FuzzDecodeWrites: the answers of creates (a new id, or an error that says
// whether the outcome is known), PATCH and DELETE (an envelope that may
// carry no data, or an error).
func FuzzDecodeWrites(f *testing.F) {
	addCommonSeeds(f)
	for _, d := range []string{
		`{"orgUnitId":1042}`, `{"orgUnitId":"1042"}`, `{"org_unit_id":1042.0}`, `{"id":0}`, `{"orgUnitId":-3}`,
		`{"userId":10042}`, `{"userId":null,"id":"10042"}`, `{}`, `[]`, `17`,
	} {
		f.Add(uint8(0), envelopeOf(d), "")
	}
	f.Add(uint8(0), []byte(`{"code":200,"message":"Success"}`), "")
	f.Add(uint8(2), []byte(``), "")
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		ctx := context.Background()

		check := func(id int64, err error, path string) {
			t.Helper()
			if err != nil {
				checkTypedError(t, err, http.MethodPost, path, a.status)
				// A 2xx whose new id cannot be read, and a 5xx, leave the
				// outcome unknown; a 4xx does not.
				var ae *APIError
				switch {
				case a.status >= 200 && a.status < 300 && !errors.As(err, &ae):
					if !errors.Is(err, ErrOutcomeUnknown) {
						t.Fatalf("a 2xx create without a usable id is not ErrOutcomeUnknown: %v", err)
					}
				case a.status >= 500 && !errors.Is(err, ErrOutcomeUnknown):
					t.Fatalf("a %d to a create is not ErrOutcomeUnknown: %v", a.status, err)
				case a.status >= 400 && a.status < 500 && errors.Is(err, ErrOutcomeUnknown):
					t.Fatalf("a %d is ErrOutcomeUnknown: %v", a.status, err)
				}
				return
			}
			checkNoSuccess(t, a.status, "a new id")
			if id <= 0 {
				t.Fatalf("created id %d", id)
			}
		}
		id, _, err := fuzzClient(t, a, false).Groups.Create(ctx, GroupCreate{Name: "East", ParentID: 1001})
		check(id, err, "/v3/groups")
		id, _, err = fuzzClient(t, a, false).Users.Create(ctx, UserCreate{Username: "a@b.example", GroupID: 1001, Role: state.RoleStandard})
		check(id, err, "/v3/users")

		name := "West"
		if _, err := fuzzClient(t, a, false).Groups.Patch(ctx, 1002, GroupPatch{Name: &name}); err != nil {
			checkTypedError(t, err, http.MethodPatch, "/v3/groups/1002", a.status)
		} else {
			checkNoSuccess(t, a.status, "a patch")
		}
		if _, err := fuzzClient(t, a, false).Users.Delete(ctx, 10001); err != nil {
			checkTypedError(t, err, http.MethodDelete, "/v3/users/10001", a.status)
		} else {
			checkNoSuccess(t, a.status, "a delete")
		}
	})
}

// FuzzDecodeToken: the answer of a login, bare or in the envelope.
func FuzzDecodeToken(f *testing.F) {
	addCommonSeeds(f)
	tok := `{"access_token":"at_0123456789abcdef","refresh_token":"rt_fedcba9876543210","token_type":"Bearer",` +
		`"expires_in":"2026-02-01T00:00:00.000Z","refresh_expires_in":"2026-08-01T00:00:00.000Z",` +
		`"user":{"user_id":1,"email":"fuzz@example.com","role_id":1,"org_unit_id":1001}}`
	f.Add(uint8(0), envelopeOf(tok), "")
	f.Add(uint8(0), []byte(tok), "")
	f.Add(uint8(0), envelopeOf(`{"access_token":"at_x1234","expires_in":3600,"user":{"user_id":"1","org_unit_id":"1001"}}`), "")
	f.Add(uint8(0), envelopeOf(`{"access_token":""}`), "")
	f.Add(uint8(0), envelopeOf(`{"access_token":{"nested":"at_secretvalue"}}`), "")
	f.Add(uint8(6), []byte(`{"code":401,"message":"unauthorized: invalid email or password"}`), "")
	f.Fuzz(func(t *testing.T, status uint8, body []byte, header string) {
		a := fuzzInput(status, body, header)
		c := fuzzClient(t, a, true)
		err := c.Login(context.Background())
		if err != nil {
			checkTypedError(t, err, http.MethodPost, "/oauth/token", a.status)
			if access, _ := c.TokensForTest(); access != "" {
				t.Fatal("a failed login left an access token")
			}
			return
		}
		checkNoSuccess(t, a.status, "tokens")
		if access, _ := c.TokensForTest(); access == "" {
			t.Fatal("a login succeeded without an access token")
		}
	})
}
