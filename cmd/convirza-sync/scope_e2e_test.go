package main

// The hostile editor of a plan file: each test makes a plan, edits it by
// hand as someone with write access to the file would (and recomputes its
// digest, which is no secret), then applies it. apply must refuse the
// whole plan before its first write: exit 1, and no write in the sandbox's
// call log.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// reseal recomputes a plan file's digest after an edit, without a key. A
// text that is no plan is returned as it is.
func reseal(t *testing.T, text string) string {
	t.Helper()
	p, err := plan.Unmarshal([]byte(text))
	if err != nil {
		return text
	}
	if err := plan.Seal(p, nil); err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The example account (examples/sandbox-state.json): the top group, the
// root r0 the plans are made under (Northwind Northeast), a group outside
// r0 (Hartford, under Southeast) and the users the tests log in as.
const (
	topID        = 1001
	r0           = "001Dn002LgzPdJpIIK"
	r0ID         = 1003
	outsideID    = 1009
	outsideExt   = "001Dn006dqcM8iuIAC"
	benEmail     = "ben.okafor@northwind-dental.example" // admin, in r0
	benID        = 10002
	noahEmail    = "noah.patel@northwind-dental.example" // standard, in Midtown (1010)
	noahID       = 10006
	noahGroupID  = 1010
	topGroupName = "Northwind Dental (Convirza account)"
)

// Exports for each root: r0's (one rename, under r0), the top's (the same
// rename, with its parents), and Midtown's (one create).
const (
	r0Export  = "org_unit_ext_id,org_unit_name,parent_ext_id\n001Dn003cfDCerfIAD,Northwind Back Bay (renamed),001Dn002LgzPdJpIIK\n"
	topExport = "org_unit_ext_id,org_unit_name,parent_ext_id\n001Dn001wjBTde6IAD,Northwind Dental Group,\n" +
		"001Dn002LgzPdJpIIK,Northwind Northeast,001Dn001wjBTde6IAD\n001Dn003cfDCerfIAD,Northwind Back Bay (renamed),001Dn002LgzPdJpIIK\n"
	deskExport = "org_unit_ext_id,org_unit_name,parent_ext_id\nDESK-1,Midtown Front Desk,\n"
)

// addChange appends a change to a plan, numbered after the last one.
func addChange(p *plan.Plan, c plan.Change) {
	c.ID = len(p.Changes) + 1
	p.Changes = append(p.Changes, c)
}

func field(name, before, after string) plan.FieldChange {
	return plan.FieldChange{Field: name, Before: before, After: after}
}

func login(email string) map[string]string {
	return map[string]string{"CONVIRZA_TOKEN": "", "CONVIRZA_EMAIL": email, "CONVIRZA_PASSWORD": convirzatest.Password}
}

// TestE2EHostilePlanEdits plays each plan-file edit of the hardening probe
// against apply: every one is refused whole, with the violation named.
// Before apply enforced the scope itself, each of them was applied (exit 0
// or 3, with writes): the root came from the file, the caller was never
// checked and an empty api_url skipped the URL check.
func TestE2EHostilePlanEdits(t *testing.T) {
	widen := func(p *plan.Plan) {
		p.Account.RootID, p.Account.RootExtID, p.Account.RootName = topID, "", topGroupName
	}
	tests := []struct {
		name     string
		export   string
		env      map[string]string // the credentials of both runs
		planArgs []string          // besides the export
		apply    []string          // besides the plan file
		edit     func(p *plan.Plan)
		rawEdit  func(m map[string]any) // an edit of the JSON, when the typed plan cannot say it
		code     int
		want     []string // in stderr
	}{
		{name: "the plan as made is applied", export: r0Export, planArgs: []string{"--root", r0}, apply: []string{"--root", r0}, code: 0},
		{name: "(a) root_id widened to the account's top", export: r0Export, planArgs: []string{"--root", r0}, apply: []string{"--root", r0},
			edit: widen, code: 1,
			want: []string{"made for root group 1001 (" + topGroupName + "), and apply resolved root group 1003 (" + r0 + ")", "is outside it"}},
		{name: "a plan made under r0, applied without --root", export: r0Export, planArgs: []string{"--root", r0}, code: 1,
			// apply takes its root from its own settings, not from the file:
			// the caller's group (the top) is not the root planned.
			want: []string{"made for root group 1003 (" + r0 + ")", "is below it: give apply the --root the plan was made with"}},
		{name: "(b) a delete of a group outside the root added", export: r0Export, planArgs: []string{"--root", r0}, apply: []string{"--root", r0},
			edit: func(p *plan.Plan) {
				widen(p)
				addChange(p, plan.Change{Action: plan.Delete, Kind: plan.KindGroup, Key: outsideExt, ObjectID: outsideID,
					Name: "Northwind Hartford", Parent: plan.Ref{ID: 1004, ExtID: "001Dn012r4mW3rfIAC"}})
			}, code: 1,
			want: []string{"(delete group " + outsideExt + "): the group 1009 is not inside the root group 1003", "the parent group 1004 is not inside"}},
		{name: "(c) the caller's own role raised to Admin", export: deskExport, env: login(noahEmail),
			edit: func(p *plan.Plan) {
				addChange(p, plan.Change{Action: plan.Update, Kind: plan.KindUser, Key: noahEmail, ObjectID: noahID, Name: noahEmail,
					Parent: plan.Ref{ID: noahGroupID}, Fields: []plan.FieldChange{field(plan.FieldRole, "Standard", "Admin")}})
			}, code: 1,
			want: []string{"(update user " + noahEmail + "): user 10006 is the caller's own user, which apply never writes"}},
		{name: "(c) the caller's own user demoted and moved", export: r0Export, env: login(benEmail),
			edit: func(p *plan.Plan) {
				addChange(p, plan.Change{Action: plan.Update, Kind: plan.KindUser, Key: benEmail, ObjectID: benID, Name: benEmail,
					Parent: plan.Ref{ID: 1006}, Fields: []plan.FieldChange{field(plan.FieldUserGroup, "1003", "1006"), field(plan.FieldRole, "Admin", "ReadOnly")}})
			}, code: 1,
			want: []string{"user 10002 is the caller's own user"}},
		{name: "(c) the plan's caller is another user", export: r0Export, env: login(benEmail),
			edit: func(p *plan.Plan) { p.Account.CallerUserID = noahID }, code: 1,
			want: []string{"credentials of user 10006, and these are the credentials of user 10002"}},
		{name: "(d) a rename of the top group, the root", export: topExport,
			edit: func(p *plan.Plan) {
				addChange(p, plan.Change{Action: plan.Rename, Kind: plan.KindGroup, ObjectID: topID, Name: "Pwned",
					Fields: []plan.FieldChange{field(plan.FieldName, topGroupName, "Pwned")}})
			}, code: 1,
			want: []string{"the root group 1001 is never written"}},
		{name: "(d) a rename of the root r0", export: r0Export, planArgs: []string{"--root", r0}, apply: []string{"--root", r0},
			edit: func(p *plan.Plan) {
				addChange(p, plan.Change{Action: plan.Rename, Kind: plan.KindGroup, Key: r0, ObjectID: r0ID, Name: "Pwned",
					Parent: plan.Ref{ID: 1002, ExtID: "001Dn001wjBTde6IAD"}, Fields: []plan.FieldChange{field(plan.FieldName, "Northwind Northeast", "Pwned")}})
			}, code: 1,
			want: []string{"the root group 1003 is never written"}},
		{name: `(e) "api_url": ""`, export: topExport, edit: func(p *plan.Plan) { p.Account.APIURL = "" }, code: 1,
			want: []string{"the plan names no api_url"}},
		{name: "(e) no api_url key", export: topExport, rawEdit: func(m map[string]any) { delete(m["account"].(map[string]any), "api_url") }, code: 1,
			want: []string{"the plan names no api_url"}},
		{name: "every edit at once: each violation listed", export: r0Export, planArgs: []string{"--root", r0}, apply: []string{"--root", r0},
			edit: func(p *plan.Plan) {
				widen(p)
				p.Account.APIURL = ""
				addChange(p, plan.Change{Action: plan.Delete, Kind: plan.KindGroup, Key: outsideExt, ObjectID: outsideID, Parent: plan.Ref{ID: r0ID}})
				addChange(p, plan.Change{Action: plan.Rename, Kind: plan.KindGroup, ObjectID: topID, Fields: []plan.FieldChange{field(plan.FieldName, topGroupName, "Pwned")}})
			}, code: 1,
			want: []string{"4 violations", "names no api_url", "root group 1001", "the group 1009 is not inside", "the group 1001 is not inside"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t))
			w.srv.SetLoginLimit(-1)
			w.write("g.csv", tt.export)
			args := append([]string{"plan", "--groups", "g.csv", "--out", "p.json"}, tt.planArgs...)
			if r := w.runEnv(tt.env, args...); r.code != 0 {
				t.Fatalf("plan:\n%s", r)
			}
			if len(w.readPlan("p.json").Changes) == 0 {
				t.Fatal("the plan is empty: the test would show nothing")
			}
			text := w.read("p.json")
			if tt.edit != nil {
				p := w.readPlan("p.json")
				tt.edit(p)
				b, err := p.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				text = string(b)
			}
			if tt.rawEdit != nil {
				var m map[string]any
				if err := json.Unmarshal([]byte(text), &m); err != nil {
					t.Fatal(err)
				}
				tt.rawEdit(m)
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				text = string(b)
			}
			w.write("p.json", reseal(t, text))
			m := w.mark()
			r := w.runEnv(tt.env, append([]string{"apply", "p.json", "--results", "r.csv"}, tt.apply...)...)
			if r.code != tt.code {
				t.Fatalf("apply: want exit %d\n%s", tt.code, r)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
				}
			}
			ws := w.writesSince(m)
			switch {
			case tt.code == 0 && len(ws) == 0:
				t.Error("the plan as made wrote nothing: the refusals below would prove nothing")
			case tt.code != 0 && len(ws) != 0:
				t.Errorf("a refused plan made %d writes:\n%s", len(ws), describeCalls(ws))
			}
			if tt.code != 0 && len(w.readResults("r.csv")) != 0 {
				t.Error("the results of a refused plan list changes")
			}
		})
	}
}

var mdDigest = regexp.MustCompile("Plan digest `(sha256:[0-9a-f]{64})`")

// TestE2EPlanBinding: a plan is bound to what was reviewed. Its reports
// show its digest; apply --approve (or CONVIRZA_SYNC_APPROVE) refuses any
// other plan; with CONVIRZA_SYNC_PLAN_KEY, plan --out signs the file and
// apply refuses one unsigned, badly signed, or signed when no key is set.
// The key shows nowhere.
func TestE2EPlanBinding(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.write("g.csv", topExport)
	const key, otherKey = "6f1c0a3e9b2d4c7f8e5a1b0c3d2e4f6a", "another key that is long enough"
	w.secrets = append(w.secrets, key, otherKey)
	// Outside the world's directory, whose every file is searched for the
	// key after each run.
	keyFile := filepath.Join(t.TempDir(), "plan.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	withKey := map[string]string{"CONVIRZA_SYNC_PLAN_KEY": key}

	r := w.run("plan", "--groups", "g.csv", "--out", "plain.json", "--report", "plan.md,plan.txt,plan.csv,plan.html,plan.json")
	if r.code != 0 {
		t.Fatalf("plan:\n%s", r)
	}
	plain := w.readPlan("plain.json")
	digest, err := plan.Digest(plain)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Digest != digest || plain.Signature != "" {
		t.Fatalf("the plan file carries digest %q and signature %q, want %q and none", plain.Digest, plain.Signature, digest)
	}
	for _, out := range []string{r.stdout, w.read("plan.md"), w.read("plan.txt"), w.read("plan.csv"), w.read("plan.html"), w.read("plan.json")} {
		if !strings.Contains(out, digest) {
			t.Errorf("a report does not show the digest %s:\n%s", digest, clip(out))
		}
	}
	if !strings.HasPrefix(w.read("plan.csv"), "# plan digest "+digest+"\nline,kind,key,") {
		t.Errorf("the plan CSV does not start with its digest comment:\n%s", clip(w.read("plan.csv")))
	}

	r = w.runEnv(map[string]string{"CONVIRZA_SYNC_PLAN_KEY_FILE": keyFile}, "plan", "--groups", "g.csv", "--out", "signed.json", "--report", "signed.md")
	if r.code != 0 {
		t.Fatalf("plan with a key:\n%s", r)
	}
	if !strings.Contains(r.stderr, "CONVIRZA_SYNC_PLAN_KEY_FILE "+keyFile+" is readable by every user") {
		t.Errorf("no warning about a key file every user may read:\n%s", r.stderr)
	}
	signed := w.readPlan("signed.json")
	if !strings.HasPrefix(signed.Signature, plan.SignaturePrefix) || signed.Digest != digest {
		t.Errorf("the signed plan: digest %q (want %q), signature %q", signed.Digest, digest, signed.Signature)
	}
	approved := mdDigest.FindStringSubmatch(w.read("signed.md"))
	if approved == nil {
		t.Fatalf("plan.md shows no digest:\n%s", w.read("signed.md"))
	}

	// Signed, then edited: its digest recomputed, its signature kept.
	tampered := w.readPlan("signed.json")
	tampered.Changes[0].Fields[0].After = "Pwned"
	if tampered.Digest, err = plan.Digest(tampered); err != nil {
		t.Fatal(err)
	}
	b, err := tampered.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w.write("tampered.json", string(b))

	refusals := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"digest mismatch with --approve", nil, []string{"plain.json", "--approve", "sha256:" + strings.Repeat("0", 64)}, "--approve: the plan is not the one approved"},
		{"the approved digest in the environment, another plan", map[string]string{"CONVIRZA_SYNC_APPROVE": "sha256:" + strings.Repeat("f", 64)}, []string{"plain.json"},
			"CONVIRZA_SYNC_APPROVE: the plan is not the one approved"},
		{"unsigned, a key set", withKey, []string{"plain.json"}, "the plan is not signed, and a plan key is set"},
		{"signed with another key", map[string]string{"CONVIRZA_SYNC_PLAN_KEY": otherKey}, []string{"signed.json"}, "signature does not verify"},
		{"signed, then edited and its digest recomputed", withKey, []string{"tampered.json"}, "signature does not verify"},
		{"signed, no key set", nil, []string{"signed.json"}, "the plan is signed, and no plan key is set"},
		{"a key too short", map[string]string{"CONVIRZA_SYNC_PLAN_KEY": "k3y"}, []string{"signed.json"}, "shorter than 16 bytes"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			m := w.mark()
			r := w.runEnv(tt.env, append([]string{"apply"}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("apply: want exit 1\n%s", r)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
			if strings.Contains(r.stderr, "k3y") {
				t.Error("stderr shows the key")
			}
			// Refused offline: not one call, let alone a write.
			if cs := w.callsSince(m); len(cs) != 0 {
				t.Errorf("a refused plan made %d calls:\n%s", len(cs), describeCalls(cs))
			}
		})
	}

	// The one reviewed, signed and approved is applied.
	m := w.mark()
	r = w.runEnv(map[string]string{"CONVIRZA_SYNC_PLAN_KEY_FILE": keyFile, "CONVIRZA_SYNC_APPROVE": approved[1]}, "apply", "signed.json", "--undo", "undo.json")
	if r.code != 0 {
		t.Fatalf("apply of the approved, signed plan:\n%s", r)
	}
	if len(w.writesSince(m)) == 0 {
		t.Error("the approved plan wrote nothing")
	}
	// Its undo plan is signed with the same key, and applies.
	if u := w.readPlan("undo.json"); !strings.HasPrefix(u.Signature, plan.SignaturePrefix) {
		t.Errorf("the undo plan is not signed: %q", u.Signature)
	}
	if r := w.runEnv(withKey, "apply", "undo.json"); r.code != 0 {
		t.Errorf("apply of the signed undo plan:\n%s", r)
	}
}

// TestE2EApplyBoundedPlanFile: apply reads no device as a plan (a file that
// never ends), and says so before any call.
func TestE2EApplyBoundedPlanFile(t *testing.T) {
	w := newWorld(t, exampleState(t))
	m := w.mark()
	r := w.run("apply", "/dev/zero")
	if r.code != 1 || !strings.Contains(r.stderr, "not a file") {
		t.Errorf("apply /dev/zero: want exit 1 and \"not a file\"\n%s", r)
	}
	if calls := w.callsSince(m); len(calls) > 0 {
		t.Errorf("apply /dev/zero made %d calls", len(calls))
	}
}
