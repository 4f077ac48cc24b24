package convirzatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// respEnvelope is the envelope as a test reads it.
type respEnvelope struct {
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	Errors    []fieldError    `json:"errors"`
	RequestID string          `json:"request_id"`
	Timestamp string          `json:"timestamp"`
}

// resp is one answer: the status, the headers and the decoded envelope.
type resp struct {
	Status int
	Header http.Header
	Env    respEnvelope
}

// tc is a raw HTTP client for one sandbox server: no client package, just
// net/http.
type tc struct {
	t     testing.TB
	srv   *Server
	token string
	hc    *http.Client
}

func setup(t testing.TB, opts Options) (*Server, *tc) {
	t.Helper()
	srv := NewServer(opts)
	t.Cleanup(srv.Close)
	return srv, &tc{t: t, srv: srv, token: srv.Token(), hc: srv.Client()}
}

// with returns a copy of the client that sends another bearer token.
func (c *tc) with(token string) *tc {
	cp := *c
	cp.token = token
	return &cp
}

// raw sends a request with a raw body and returns the answer or the transport error.
func (c *tc) raw(ctx context.Context, method, path string, body []byte) (*resp, error) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" && strings.HasPrefix(path, "/v3") {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	hr, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, err
	}
	r := &resp{Status: hr.StatusCode, Header: hr.Header}
	if err := json.Unmarshal(b, &r.Env); err != nil {
		return nil, fmt.Errorf("%s %s: answer is not an envelope: %w: %s", method, path, err, b)
	}
	return r, nil
}

// do sends body (marshalled unless it is []byte or nil) and fails the test
// on a transport error.
func (c *tc) do(method, path string, body any) *resp {
	c.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
	}
	r, err := c.raw(context.Background(), method, path, b)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (c *tc) get(path string, q url.Values) *resp {
	c.t.Helper()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.do(http.MethodGet, path, nil)
}

// must checks the status and decodes data into v (when v is not nil).
func (r *resp) must(t testing.TB, status int, v any) *resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d (%s), want %d", r.Status, r.Env.Message, status)
	}
	if v != nil {
		if err := json.Unmarshal(r.Env.Data, v); err != nil {
			t.Fatalf("decode data: %v: %s", err, r.Env.Data)
		}
	}
	return r
}

// createGroup creates a group through the API and returns its id.
func (c *tc) createGroup(parent int64, name string, extra map[string]any) int64 {
	c.t.Helper()
	body := map[string]any{"org_unit_name": name, "org_unit_parent_id": parent}
	for k, v := range extra {
		body[k] = v
	}
	var out struct {
		OrgUnitID int64 `json:"orgUnitId"`
	}
	c.do(http.MethodPost, "/v3/groups", body).must(c.t, http.StatusOK, &out)
	if out.OrgUnitID == 0 {
		c.t.Fatal("create group: no orgUnitId")
	}
	return out.OrgUnitID
}

// createUser creates a user through the API and returns its id.
func (c *tc) createUser(group int64, email string, extra map[string]any) int64 {
	c.t.Helper()
	body := map[string]any{"username": email, "first_name": "Test", "last_name": "User", "ct_user_ou_id": group, "role": "Standard"}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	var out struct {
		UserID int64 `json:"userId"`
	}
	c.do(http.MethodPost, "/v3/users", body).must(c.t, http.StatusOK, &out)
	if out.UserID == 0 {
		c.t.Fatal("create user: no userId")
	}
	return out.UserID
}

type loginData struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        string `json:"expires_in"`
	RefreshExpiresIn string `json:"refresh_expires_in"`
	FrontendToken    string `json:"frontend_token"`
	User             struct {
		UserID    int64  `json:"user_id"`
		Email     string `json:"email"`
		RoleID    int    `json:"role_id"`
		OrgUnitID int64  `json:"org_unit_id"`
	} `json:"user"`
}

func (c *tc) login(email string) loginData {
	c.t.Helper()
	var d loginData
	c.do(http.MethodPost, "/oauth/token", map[string]string{"email": email, "password": Password}).must(c.t, http.StatusOK, &d)
	return d
}

// groupIDs lists the ids of a page of groups.
type groupsPage struct {
	Groups []struct {
		ID     int64  `json:"org_unit_id"`
		Name   string `json:"org_unit_name"`
		Status string `json:"org_unit_status"`
	} `json:"groups"`
	Total int `json:"total"`
}

type usersPage struct {
	Users []struct {
		ID      int64  `json:"ct_user_id"`
		Email   string `json:"email"`
		Status  string `json:"status"`
		Role    string `json:"role"`
		GroupID int64  `json:"group_org_unit_id"`
		Created string `json:"user_created"`
	} `json:"users"`
	Total int `json:"total"`
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
