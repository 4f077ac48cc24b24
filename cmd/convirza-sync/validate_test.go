package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValidateSaysWhatItLeftUnchecked: a clean validate ends by saying
// what only Convirza can tell (industries, clashes with the groups and
// users already there), in text and in JSON, so that it is not read as a
// clean plan. It makes no call.
func TestValidateSaysWhatItLeftUnchecked(t *testing.T) {
	w := newWorld(t, exampleState(t))
	m := w.mark()
	r := w.run(append([]string{"validate"}, exampleInputs...)...)
	if r.code != 0 {
		t.Fatalf("validate of the example: want exit 0\n%s", r)
	}
	i := strings.Index(r.stdout, "Not checked offline")
	if i < 0 {
		t.Fatalf("validate does not say what it left unchecked:\n%s", r.stdout)
	}
	for _, s := range []string{"industries:", "groups in Convirza:", "name clashes with groups already in Convirza", "users in Convirza:"} {
		if !strings.Contains(r.stdout[i:], s) {
			t.Errorf("the unchecked list lacks %q:\n%s", s, r.stdout[i:])
		}
	}
	r = w.run(append([]string{"validate", "--output", "json"}, exampleInputs...)...)
	var out struct {
		OK        bool `json:"ok"`
		Unchecked []struct {
			Check, Detail string
		} `json:"not_checked_offline"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("validate --output json: %v\n%s", err, r.stdout)
	}
	var checks []string
	for _, u := range out.Unchecked {
		checks = append(checks, u.Check)
	}
	if !out.OK || !strings.Contains(strings.Join(checks, ","), "industries,groups in Convirza,users in Convirza") {
		t.Errorf("validate --output json: ok %v, not_checked_offline %v", out.OK, checks)
	}
	if n := len(w.callsSince(m)); n != 0 {
		t.Errorf("validate made %d API calls", n)
	}
}
