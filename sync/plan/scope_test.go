package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

const scopeAPI = "https://platform-api.convirza.com/v3"

// scopeFixture is the stale fixture made for scopeAPI, with a caller (user
// 10009, in the root group) and a group outside the root: 2001, a sibling
// of the root that the state read under the root does not hold.
func scopeFixture() (*Plan, *state.CurrentState) {
	p, c := staleFixture()
	p.Account.APIURL = scopeAPI
	p.Account.CallerUserID = 10009
	c.CallerUserID = 10009
	c.Users = append(c.Users, state.User{ID: 10009, Email: "me@acme.example", Role: state.RoleStandard, GroupID: 1001, Status: state.StatusActive})
	return p, c
}

// violations renders violations as "change rule", for diffs.
func violations(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d %s", v.ChangeID, v.Rule))
	}
	return out
}

func TestCheckScope(t *testing.T) {
	rootRef := Ref{ID: 1001, ExtID: "ACME"}
	add := func(c Change) func(p *Plan, _ *state.CurrentState) {
		return func(p *Plan, _ *state.CurrentState) {
			c.ID = len(p.Changes) + 1
			p.Changes = append(p.Changes, c)
		}
	}
	tests := []struct {
		name string
		edit func(p *Plan, c *state.CurrentState)
		api  string // the configured API URL; scopeAPI when ""
		want []string
	}{
		{"the plan as made", nil, "", nil},
		{"the configured URL with a trailing slash", nil, scopeAPI + "/", nil},
		{"api_url empty", func(p *Plan, _ *state.CurrentState) { p.Account.APIURL = "" }, "", []string{"0 api-url"}},
		{"api_url blank", func(p *Plan, _ *state.CurrentState) { p.Account.APIURL = " / " }, "", []string{"0 api-url"}},
		{"another api_url", func(p *Plan, _ *state.CurrentState) { p.Account.APIURL = "http://127.0.0.1:9/v3" }, "", []string{"0 api-url"}},
		{"root_id widened to the account's top", func(p *Plan, _ *state.CurrentState) { p.Account.RootID = 1 }, "", []string{"0 root"}},
		{"root_id narrowed below the root", func(p *Plan, _ *state.CurrentState) { p.Account.RootID = 1002 }, "", []string{"0 root"}},
		{"another caller", func(p *Plan, _ *state.CurrentState) { p.Account.CallerUserID = 10001 }, "",
			// The plan's caller is protected too: change 5 writes 10001.
			[]string{"0 caller", "5 caller-written"}},
		{"a static token: the plan's caller is still protected", func(p *Plan, c *state.CurrentState) {
			c.CallerUserID = 0
			p.Account.CallerUserID = 10001
		}, "", []string{"5 caller-written"}},
		{"a delete of a group outside the root", add(Change{Action: Delete, Kind: KindGroup, Key: "OUT", ObjectID: 2001, Parent: Ref{ID: 1}}), "",
			[]string{"10 outside-root", "10 outside-root"}},
		{"the caller's role raised to Admin", add(Change{Action: Update, Kind: KindUser, Key: "me@acme.example", ObjectID: 10009, Parent: rootRef,
			Fields: []FieldChange{fc(FieldRole, "Standard", "Admin")}}), "", []string{"10 caller-written"}},
		{"the caller deactivated", add(Change{Action: Deactivate, Kind: KindUser, Key: "me@acme.example", ObjectID: 10009, Parent: rootRef}), "",
			[]string{"10 caller-written"}},
		{"a user outside the root", add(Change{Action: Update, Kind: KindUser, Key: "x@else.example", ObjectID: 20001, Parent: rootRef,
			Fields: []FieldChange{fc(FieldRole, "Standard", "Admin")}}), "", []string{"10 outside-root"}},
		{"a rename of the root", add(Change{Action: Rename, Kind: KindGroup, Key: "ACME", ObjectID: 1001, Parent: Ref{ID: 1},
			Fields: []FieldChange{fc(FieldName, "Acme", "Pwned")}}), "", []string{"10 root-written", "10 outside-root"}},
		{"a move out of the root", add(Change{Action: Move, Kind: KindGroup, Key: "E1", ObjectID: 1002, Parent: Ref{ID: 2001},
			Fields: []FieldChange{fc(FieldParent, "1001", "2001")}}), "", []string{"10 outside-root"}},
		{"a move whose field leaves the root, its ref does not", add(Change{Action: Move, Kind: KindGroup, Key: "E1", ObjectID: 1002, Parent: rootRef,
			Fields: []FieldChange{fc(FieldParent, "1003", "2001")}}), "", []string{"10 outside-root"}},
		{"a user moved out of the root", add(Change{Action: Update, Kind: KindUser, Key: "jo@acme.example", ObjectID: 10001, Parent: rootRef,
			Fields: []FieldChange{fc(FieldUserGroup, "1001", "2001")}}), "", []string{"10 outside-root"}},
		{"a group create outside the root", add(Change{Action: Create, Kind: KindGroup, Key: "X", Parent: Ref{ID: 2001},
			Fields: []FieldChange{fc(FieldExtID, "", "X"), fc(FieldName, "", "X"), fc(FieldParent, "", "2001")}}), "", []string{"10 outside-root"}},
		{"a user create outside the root", add(Change{Action: Create, Kind: KindUser, Key: "x@acme.example", Parent: Ref{ID: 2001},
			Fields: []FieldChange{fc(FieldUserGroup, "", "2001"), fc(FieldUsername, "", "x@acme.example")}}), "", []string{"10 outside-root"}},
		{"a parent id that is no id", add(Change{Action: Move, Kind: KindGroup, Key: "E1", ObjectID: 1002, Parent: rootRef,
			Fields: []FieldChange{fc(FieldParent, "1003", "-1")}}), "", []string{"10 outside-root"}},
		{"a change without an id of nothing the plan creates", add(Change{Action: Update, Kind: KindGroup, Key: "E9", Parent: rootRef,
			Fields: []FieldChange{fc(FieldCity, "", "X")}}), "", []string{"10 outside-root"}},
		{"a parent ref by ext id of nothing the plan creates", add(Change{Action: Create, Kind: KindGroup, Key: "Y", Parent: Ref{ExtID: "ELSEWHERE"},
			Fields: []FieldChange{fc(FieldExtID, "", "Y"), fc(FieldName, "", "Y")}}), "", []string{"10 outside-root"}},
		{"a group create that names no parent", add(Change{Action: Create, Kind: KindGroup, Key: "Z",
			Fields: []FieldChange{fc(FieldExtID, "", "Z"), fc(FieldName, "", "Z")}}), "", []string{"10 outside-root"}},
		{"a user create that names no group", add(Change{Action: Create, Kind: KindUser, Key: "z@acme.example",
			Fields: []FieldChange{fc(FieldUsername, "", "z@acme.example")}}), "", []string{"10 outside-root"}},
		{"a group create that sets another top and billing account", add(Change{Action: Create, Kind: KindGroup, Key: "Z", Parent: rootRef,
			Fields: []FieldChange{fc("billing_id", "", "1"), fc(FieldExtID, "", "Z"), fc(FieldName, "", "Z"), fc("top_ou_id", "", "1")}}), "",
			[]string{"10 field", "10 field"}},
		{"a user's role_id, which no before-value guards", add(Change{Action: Update, Kind: KindUser, Key: "jo@acme.example", ObjectID: 10001, Parent: rootRef,
			Fields: []FieldChange{fc("role_id", "", "1")}}), "", []string{"10 field"}},
		{"an unknown kind", add(Change{Action: Delete, Kind: "account", Key: "A", ObjectID: 1}), "", []string{"10 outside-root"}},
		{"every violation at once, in order", func(p *Plan, c *state.CurrentState) {
			p.Account.APIURL = ""
			p.Account.RootID = 1
			add(Change{Action: Delete, Kind: KindGroup, Key: "OUT", ObjectID: 2001, Parent: Ref{ID: 1}})(p, c)
			add(Change{Action: Update, Kind: KindUser, Key: "me@acme.example", ObjectID: 10009, Parent: rootRef, Fields: []FieldChange{fc(FieldRole, "Standard", "Admin")}})(p, c)
			add(Change{Action: Rename, Kind: KindGroup, Key: "ACME", ObjectID: 1001, Parent: rootRef, Fields: []FieldChange{fc(FieldName, "Acme", "Pwned")}})(p, c)
		}, "", []string{"0 api-url", "0 root", "10 outside-root", "10 outside-root", "11 caller-written", "12 root-written"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := scopeFixture()
			if tt.edit != nil {
				tt.edit(p, c)
			}
			api := tt.api
			if api == "" {
				api = scopeAPI
			}
			got := CheckScope(p, c, api)
			if diff := cmp.Diff(tt.want, violations(got)); diff != "" {
				t.Errorf("violations (-want +got):\n%s\n%v", diff, got)
			}
			for _, v := range got {
				if v.Message == "" || v.String() == "" {
					t.Errorf("a violation says nothing: %#v", v)
				}
			}
		})
	}
}

// TestCheckScopeMessages: each violation names what it is about, so that a
// refusal can be acted on.
func TestCheckScopeMessages(t *testing.T) {
	p, c := scopeFixture()
	p.Account.APIURL = ""
	p.Account.RootID = 1
	p.Changes = append(p.Changes,
		Change{ID: 10, Action: Delete, Kind: KindGroup, Key: "OUT", ObjectID: 2001, Parent: Ref{ID: 1001}},
		Change{ID: 11, Action: Deactivate, Kind: KindUser, Key: "me@acme.example", ObjectID: 10009, Parent: Ref{ID: 1001}},
		Change{ID: 12, Action: Rename, Kind: KindGroup, Key: "ACME", ObjectID: 1001, Parent: Ref{ID: 1001}, Fields: []FieldChange{fc(FieldName, "Acme", "Pwned")}},
	)
	var got []string
	for _, v := range CheckScope(p, c, scopeAPI) {
		got = append(got, v.String())
	}
	want := []string{
		"plan: the plan names no api_url; apply writes only to the API a plan names (" + scopeAPI + " here)",
		"plan: the plan was made for root group 1, and apply resolved root group 1001 (ACME) from its credentials and --root, so root group 1 is outside it: give apply the --root the plan was made with",
		"change 10 (delete group OUT): the group 2001 is not inside the root group 1001 (ACME) (outside it, or gone)",
		"change 11 (deactivate user me@acme.example): user 10009 is the caller's own user, which apply never writes",
		"change 12 (rename group ACME): the root group 1001 is never written",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// TestPropertyScope: every plan Calculate makes is inside the scope of the
// state it was made from, its caller's own user included: CheckScope
// refuses none of them.
func TestPropertyScope(t *testing.T) {
	r := rand.New(rand.NewPCG(*propSeed, 13))
	runs := max(*propRuns/2, 50)
	changes := 0
	for run := range runs {
		sc := genScenario(r, 30)
		sc.opts.Account.APIURL = scopeAPI
		p, err := Calculate(sc.des, sc.cur, sc.opts)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		changes += len(p.Changes)
		if vs := CheckScope(p, sc.cur, scopeAPI); len(vs) != 0 {
			t.Fatalf("run %d: a plan out of its own scope: %v\n%v", run, vs, summary(p))
		}
	}
	if changes < runs {
		t.Errorf("the generator is too weak: %d changes in %d runs", changes, runs)
	}
}
