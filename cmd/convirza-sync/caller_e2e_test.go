package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// tokenOf logs in to the sandbox as email and returns the access token, as
// a user would keep it in CONVIRZA_TOKEN.
func tokenOf(t *testing.T, w *world, email string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": convirzatest.Password})
	resp, err := http.Post(strings.TrimRight(w.srv.AuthURL(), "/")+"/oauth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	tok := env.Data.AccessToken
	if tok == "" {
		tok = env.AccessToken
	}
	if tok == "" {
		t.Fatalf("login as %s: no access token (status %d)", email, resp.StatusCode)
	}
	w.secrets = append(w.secrets, tok)
	return tok
}

// TestE2EStaticTokenCallerNeverWritten: with a static token (no login, so
// no user in the answer), the caller is found through the profile, and an
// export that demotes the caller's own user writes nothing to it. Before
// the profile was read, the caller was unknown with a token and was
// demoted.
func TestE2EStaticTokenCallerNeverWritten(t *testing.T) {
	w := newWorld(t, exampleState(t))
	tok := tokenOf(t, w, benEmail)
	w.write("users.csv", "email,first_name,last_name,role,group_ext_id\n"+benEmail+",Ben,Okafor,readonly,"+r0+"\n")
	m := w.mark()
	r := w.runEnv(map[string]string{"CONVIRZA_TOKEN": tok}, "sync", "--users", "users.csv", "--root", r0)
	for _, c := range w.writesSince(m) {
		if strings.Contains(c.Path, "/users/") {
			t.Errorf("the caller's own user was written: %s", describeCalls([]convirzatest.Call{c}))
		}
	}
	if !strings.Contains(r.stdout, "never written") {
		t.Errorf("the plan does not show the caller's change as refused\n%s", r)
	}
	if u, ok := w.srv.Sandbox.User(benID); !ok || u.Role != "admin" {
		t.Errorf("Ben's role is %q after the sync, want admin", u.Role)
	}
}
