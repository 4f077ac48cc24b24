package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

const top = convirzatest.DefaultTopGroupID

var rootRef = plan.Ref{ID: top, ExtID: "ACME", Name: "Acme Corp"}

// world is a sandbox over real HTTP, and the API client of it.
type world struct {
	srv    *convirzatest.Server
	client *convirza.Client
	remote Remote
	ids    map[string]int64 // ext id or email -> id of what the test seeded
}

// setup starts a sandbox and a client with a static token. The client's
// rate is high, so that tests run at the sandbox's pace.
func setup(t testing.TB, opts convirzatest.Options, copts convirza.Options) *world {
	t.Helper()
	srv := convirzatest.NewServer(opts)
	t.Cleanup(srv.Close)
	copts.APIURL, copts.AuthURL, copts.Token, copts.HTTPClient = srv.APIURL(), srv.AuthURL(), srv.Token(), srv.Client()
	if copts.Rate == 0 {
		copts.Rate, copts.Burst = 5000, 5000
	}
	c, err := convirza.NewClient(copts)
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, client: c, remote: ClientRemote(c), ids: map[string]int64{}}
}

// group seeds a group under the group with ext id parent ("" = the top).
func (w *world) group(t testing.TB, ext, name, parent string, g convirzatest.Group) int64 {
	t.Helper()
	pid := int64(top)
	if parent != "" {
		pid = w.ids[parent]
	}
	g.ExtID, g.Name = ext, name
	id, err := w.srv.AddGroup(pid, g)
	if err != nil {
		t.Fatal(err)
	}
	w.ids[ext] = id
	return id
}

// user seeds a user in the group with ext id group ("" = the top).
func (w *world) user(t testing.TB, email, group string, u convirzatest.User) int64 {
	t.Helper()
	gid := int64(top)
	if group != "" {
		gid = w.ids[group]
	}
	u.Email = email
	if u.FirstName == "" {
		u.FirstName, u.LastName = "Pat", "Doe"
	}
	id, err := w.srv.AddUser(gid, u)
	if err != nil {
		t.Fatal(err)
	}
	w.ids[email] = id
	return id
}

// ref names a group: by id when it is seeded, else by ext id (one the plan
// creates).
func (w *world) ref(ext string) plan.Ref {
	if ext == "" {
		return rootRef
	}
	if id, ok := w.ids[ext]; ok {
		return plan.Ref{ID: id, ExtID: ext}
	}
	return plan.Ref{ExtID: ext}
}

func idOrEmpty(r plan.Ref) string {
	if r.ID == 0 {
		return ""
	}
	return strconv.FormatInt(r.ID, 10)
}

func sortFields(fs []plan.FieldChange) []plan.FieldChange {
	slices.SortFunc(fs, func(a, b plan.FieldChange) int { return strings.Compare(a.Field, b.Field) })
	return fs
}

func createGroup(ext, name string, parent plan.Ref, extra ...plan.FieldChange) plan.Change {
	fs := append([]plan.FieldChange{
		fc(plan.FieldExtID, "", ext), fc(plan.FieldName, "", name), fc(plan.FieldParent, "", idOrEmpty(parent)),
	}, extra...)
	return plan.Change{Action: plan.Create, Kind: plan.KindGroup, Key: ext, Name: name, Parent: parent, Fields: sortFields(fs)}
}

func createUser(email string, group plan.Ref) plan.Change {
	fs := []plan.FieldChange{
		fc(plan.FieldUsername, "", email), fc(plan.FieldFirstName, "", "New"), fc(plan.FieldLastName, "", "Person"),
		fc(plan.FieldRole, "", "Standard"), fc(plan.FieldUserGroup, "", idOrEmpty(group)),
	}
	return plan.Change{Action: plan.Create, Kind: plan.KindUser, Key: email, Name: email, Parent: group, NewUser: true, Fields: sortFields(fs)}
}

func change(a plan.Action, k plan.Kind, key string, id int64, parent plan.Ref, fs ...plan.FieldChange) plan.Change {
	return plan.Change{Action: a, Kind: k, Key: key, ObjectID: id, Parent: parent, Fields: sortFields(fs)}
}

// newPlan numbers the changes from 1.
func newPlan(cs ...plan.Change) *plan.Plan {
	p := &plan.Plan{Version: plan.Version, Account: plan.Account{RootID: top, RootExtID: "ACME"}, Policy: plan.PolicyUpsert, UsersManaged: true}
	for i := range cs {
		cs[i].ID = i + 1
	}
	p.Changes = cs
	return p
}

// outcome is the part of a result that tests compare exactly.
type outcome struct {
	Change  int
	Outcome plan.Outcome
	Status  int
	Message string
}

func outcomes(rs []plan.Result) []outcome {
	out := make([]outcome, len(rs))
	for i, r := range rs {
		out[i] = outcome{r.Change, r.Outcome, r.HTTPStatus, r.Message}
	}
	return out
}

// live lists the groups and users that are not deleted, keyed for
// comparison: groups by ext id (or id) with their parent's ext id.
type liveGroup struct {
	ID                               int64
	Name, Parent, Status             string
	Address, City, State, Zip, Phone string
	IndustryID                       int64
}

type liveUser struct {
	ID                      int64
	First, Last, Ext, Group string
	Role                    state.Role
	Status                  state.Status
}

func live(st convirzatest.State) (map[string]liveGroup, map[string]liveUser) {
	ext := map[int64]string{}
	for _, g := range st.Groups {
		ext[g.ID] = g.ExtID
		if g.ExtID == "" {
			ext[g.ID] = "id:" + strconv.FormatInt(g.ID, 10)
		}
	}
	groups := map[string]liveGroup{}
	for _, g := range st.Groups {
		if g.Status == state.StatusDeleted {
			continue
		}
		groups[ext[g.ID]] = liveGroup{g.ID, g.Name, ext[g.ParentID], string(g.Status), g.Address, g.City, g.State, g.Zip, g.Phone, g.IndustryID}
	}
	users := map[string]liveUser{}
	for _, u := range st.Users {
		if u.Status == state.StatusDeleted {
			continue
		}
		users[strings.ToLower(u.Email)] = liveUser{u.ID, u.FirstName, u.LastName, u.ExtID, ext[u.GroupID], u.Role, u.Status}
	}
	return groups, users
}

// checkNoDuplicates: no ext id twice, no sibling name twice, no email twice
// among what is not deleted.
func checkNoDuplicates(t *testing.T, st convirzatest.State) {
	t.Helper()
	for _, d := range st.Duplicates() {
		t.Error(d)
	}
}

// checkParentsFirst: every create's parent (a group's org_unit_parent_id, a
// user's ct_user_ou_id) existed before the create was sent.
func checkParentsFirst(t *testing.T, w *world) {
	t.Helper()
	created := map[int64]convirzatest.Group{}
	for _, g := range w.srv.Snapshot().Groups {
		created[g.ID] = g
	}
	n := 0
	for _, c := range w.srv.Writes() {
		if c.Method != "POST" {
			continue
		}
		field := plan.FieldParent
		if c.Path == "/v3/users" {
			field = plan.FieldUserGroup
		}
		var body map[string]json.Number
		dec := json.NewDecoder(bytes.NewReader(c.Body))
		dec.UseNumber()
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("POST %s body %s: %v", c.Path, c.Body, err)
		}
		body = map[string]json.Number{}
		if v, ok := raw[field].(json.Number); ok {
			body[field] = v
		}
		pid, err := body[field].Int64()
		if err != nil {
			t.Errorf("POST %s body %s: %s is not a number", c.Path, c.Body, field)
			continue
		}
		p, ok := created[pid]
		switch {
		case !ok:
			t.Errorf("POST %s at %v: parent %d does not exist", c.Path, c.Time, pid)
		case !p.Created.Before(c.Time):
			t.Errorf("POST %s at %v: parent %d was created at %v, not before", c.Path, c.Time, pid, p.Created)
		}
		n++
	}
	if n == 0 {
		t.Error("no create was sent")
	}
}

// checkPatchBodies: every PATCH body holds exactly the fields of a change
// to that object (user_status added for a deactivation or reactivation),
// with its After values; created groups are named by their new ids.
func checkPatchBodies(t *testing.T, w *world, p *plan.Plan, res *Results) {
	t.Helper()
	created := map[string]int64{}
	for i, r := range res.Results[:len(p.Changes)] {
		if c := &p.Changes[i]; c.Action == plan.Create && r.ObjectID != 0 {
			created[c.Key] = r.ObjectID
		}
	}
	want := map[string][]map[string]string{} // path -> the bodies changes would send
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.Create || c.Action == plan.Delete {
			continue
		}
		b := map[string]string{}
		for _, f := range c.Fields {
			v := f.After
			if (f.Field == plan.FieldParent || f.Field == plan.FieldUserGroup) && v == "" {
				v = strconv.FormatInt(created[c.Parent.ExtID], 10)
			}
			b[f.Field] = v
		}
		if _, ok := b[plan.FieldUserStatus]; !ok {
			switch c.Action {
			case plan.Deactivate:
				b[plan.FieldUserStatus] = "inactive"
			case plan.Reactivate:
				b[plan.FieldUserStatus] = "active"
			}
		}
		id := c.ObjectID
		if id == 0 {
			id = created[c.Key]
		}
		path := fmt.Sprintf("/v3/%ss/%d", c.Kind, id)
		want[path] = append(want[path], b)
	}
	n := 0
	for _, call := range w.srv.Writes() {
		if call.Method != "PATCH" {
			continue
		}
		n++
		dec := json.NewDecoder(bytes.NewReader(call.Body))
		dec.UseNumber()
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("PATCH %s body %s: %v", call.Path, call.Body, err)
		}
		got := map[string]string{}
		for k, v := range raw {
			got[k] = fmt.Sprint(v)
		}
		if got[plan.FieldRole] != "" {
			r, _ := state.ParseRole(got[plan.FieldRole])
			got[plan.FieldRole] = r.APIName()
		}
		if !slices.ContainsFunc(want[call.Path], func(b map[string]string) bool { return cmp.Equal(b, got) }) {
			t.Errorf("PATCH %s body %s: no change sends exactly that; want one of %v", call.Path, call.Body, want[call.Path])
		}
	}
	if n == 0 {
		t.Error("no PATCH was sent")
	}
}

// TestApplySandbox runs plans against the sandbox and checks the outcome of
// every change, and the call log.
func TestApplySandbox(t *testing.T) {
	t.Run("creates parent first, patches exactly the fields", func(t *testing.T) {
		w := setup(t, convirzatest.Options{Latency: 2e6}, convirza.Options{})
		w.group(t, "E1", "East", "", convirzatest.Group{City: "Boston", Phone: "+16175550100"})
		w.group(t, "W1", "West", "", convirzatest.Group{})
		w.group(t, "A", "Alpha", "", convirzatest.Group{})
		w.group(t, "B", "Beta", "", convirzatest.Group{})
		w.user(t, "gone@acme.example", "E1", convirzatest.User{})
		w.user(t, "back@acme.example", "E1", convirzatest.User{Status: state.StatusInactive, FirstName: "Bo", LastName: "Doe"})
		p := newPlan(
			createGroup("N1", "North", w.ref("")),
			createGroup("N11", "North One", w.ref("N1"), fc(plan.FieldCity, "", "Albany")),
			createGroup("N111", "North One One", w.ref("N11")),
			createGroup("N12", "North Two", w.ref("N1")),
			createGroup("S1", "South", w.ref("E1"), fc(plan.FieldIndustryID, "", "3")),
			createUser("new1@acme.example", w.ref("N111")),
			createUser("new2@acme.example", w.ref("E1")),
			change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""), fc(plan.FieldCity, "Boston", "Cambridge"), fc(plan.FieldIndustryID, "", "7")),
			change(plan.Move, plan.KindGroup, "W1", w.ids["W1"], w.ref("N12"), fc(plan.FieldParent, strconv.Itoa(top), "")),
			change(plan.Rename, plan.KindGroup, "A", w.ids["A"], w.ref(""), fc(plan.FieldName, "Alpha", "Alpha (renaming)")),
			change(plan.Rename, plan.KindGroup, "B", w.ids["B"], w.ref(""), fc(plan.FieldName, "Beta", "Alpha")),
			change(plan.Rename, plan.KindGroup, "A", w.ids["A"], w.ref(""), fc(plan.FieldName, "Alpha (renaming)", "Beta")),
			change(plan.Deactivate, plan.KindUser, "gone@acme.example", w.ids["gone@acme.example"], w.ref("E1")),
			change(plan.Reactivate, plan.KindUser, "back@acme.example", w.ids["back@acme.example"], w.ref("E1"), fc(plan.FieldFirstName, "Bo", "Bob")),
			change(plan.Move, plan.KindUser, "new2@acme.example", 0, w.ref("S1"), fc(plan.FieldUserGroup, strconv.FormatInt(w.ids["E1"], 10), "")),
		)
		p.Changes[10].After = []int{10}
		p.Changes[11].After = []int{11}
		var seen []plan.Result
		res, err := Apply(context.Background(), p, w.remote, Options{Rate: 5000, OnResult: func(r plan.Result) { seen = append(seen, r) }})
		if err != nil {
			t.Fatal(err)
		}
		var want []outcome
		for _, c := range p.Changes {
			want = append(want, outcome{Change: c.ID, Outcome: plan.Outcome(c.Action.Outcome())})
		}
		if diff := cmp.Diff(want, outcomes(res.Results)); diff != "" {
			t.Fatalf("outcomes (-want +got):\n%s", diff)
		}
		if c := res.Concurrency; !c.Auto || c.Samples < len(p.Changes) || c.MaxInFlight < 2 || c.Limit < MinAutoConcurrency || c.Limit > MaxAutoConcurrency {
			t.Errorf("concurrency %+v: want the automatic limit, fed by every call's latency", c)
		}
		if len(seen) != len(p.Changes) {
			t.Errorf("OnResult was called %d times, want %d", len(seen), len(p.Changes))
		}
		checkParentsFirst(t, w)
		checkPatchBodies(t, w, p, res)
		if got, want := res.Writes, len(p.Changes); got != want || len(w.srv.Writes()) != want {
			t.Errorf("writes = %d (call log %d), want %d", got, len(w.srv.Writes()), want)
		}

		groups, users := live(w.srv.Snapshot())
		type placed struct{ Name, Parent, City string }
		gotPlaces := map[string]placed{}
		for k, g := range groups {
			gotPlaces[k] = placed{g.Name, g.Parent, g.City}
		}
		wantPlaces := map[string]placed{
			"ACME": {"Acme Corp", "", "Boston"},
			"E1":   {"East", "ACME", "Cambridge"}, "W1": {"West", "N12", ""},
			"A": {"Beta", "ACME", ""}, "B": {"Alpha", "ACME", ""},
			"N1": {"North", "ACME", ""}, "N11": {"North One", "N1", "Albany"}, "N111": {"North One One", "N11", ""},
			"N12": {"North Two", "N1", ""}, "S1": {"South", "E1", ""},
		}
		if diff := cmp.Diff(wantPlaces, gotPlaces); diff != "" {
			t.Errorf("groups (-want +got):\n%s", diff)
		}
		wantUsers := map[string]string{"gone@acme.example": "inactive E1", "back@acme.example": "active E1 Bob",
			"new1@acme.example": "active N111", "new2@acme.example": "active S1"}
		for email, want := range wantUsers {
			u := users[email]
			got := string(u.Status) + " " + u.Group
			if strings.HasSuffix(want, "Bob") {
				got += " " + u.First
			}
			if got != want {
				t.Errorf("user %s = %q, want %q", email, got, want)
			}
		}
	})

	t.Run("a failed change blocks its dependents only", func(t *testing.T) {
		w := setup(t, convirzatest.Options{}, convirza.Options{})
		w.group(t, "TAKEN", "Taken", "", convirzatest.Group{})
		w.group(t, "E1", "East", "", convirzatest.Group{City: "Boston"})
		p := newPlan(
			createGroup("X", "taken ", w.ref("")), // a sibling's name: 409, and no group X to take
			createGroup("X1", "X One", w.ref("X")),
			createUser("x@acme.example", w.ref("X1")),
			createGroup("Y", "Y", w.ref("")),
			change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""), fc(plan.FieldCity, "Boston", "Salem")),
			createGroup("Y1", "Y One", w.ref("Y")),
		)
		p.Changes[4].After = []int{2} // waits on a blocked change
		res, err := Apply(context.Background(), p, w.remote, Options{Concurrency: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Results[0].RequestID == "" {
			t.Error("the failed change has no request_id")
		}
		want := []outcome{
			{1, plan.OutcomeFailed, 409, `org_unit_name "taken " is already used by a sibling under org unit 1001`},
			{2, plan.OutcomeBlocked, 0, "waits on change 1 (create group X), which failed"},
			{3, plan.OutcomeBlocked, 0, "waits on change 2 (create group X1), which was blocked"},
			{4, plan.OutcomeCreated, 0, ""},
			{5, plan.OutcomeBlocked, 0, "waits on change 2 (create group X1), which was blocked"},
			{6, plan.OutcomeCreated, 0, ""},
		}
		if diff := cmp.Diff(want, outcomes(res.Results)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if got := len(w.srv.Writes()); got != 3 {
			t.Errorf("writes in the call log = %d, want 3 (X refused, Y, Y1)", got)
		}
	})

	t.Run("409 on create: the group with that ext id is taken", func(t *testing.T) {
		w := setup(t, convirzatest.Options{}, convirza.Options{})
		w.group(t, "P", "Parent", "", convirzatest.Group{})
		id := w.group(t, "DONE", "Done Already", "P", convirzatest.Group{})
		p := newPlan(
			createGroup("DONE", "Done Already", w.ref("P")), // made by an earlier run
			createGroup("DONE1", "Below", plan.Ref{ExtID: "DONE"}),
		)
		res, err := Apply(context.Background(), p, w.remote, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []outcome{
			{1, plan.OutcomeCreated, 0, "already there; found by ext id"},
			{2, plan.OutcomeCreated, 0, ""},
		}
		if diff := cmp.Diff(want, outcomes(res.Results)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if res.Results[0].ObjectID != id {
			t.Errorf("taken id = %d, want %d", res.Results[0].ObjectID, id)
		}
		groups, _ := live(w.srv.Snapshot())
		if groups["DONE1"].Parent != "DONE" {
			t.Errorf("DONE1 sits under %q, want DONE", groups["DONE1"].Parent)
		}
		checkNoDuplicates(t, w.srv.Snapshot())
	})

	t.Run("ambiguous creates make nothing twice", func(t *testing.T) {
		w := setup(t, convirzatest.Options{AmbiguousRate: 0.3, Seed: 7}, convirza.Options{})
		w.srv.DropNextCreates(3)
		var cs []plan.Change
		for i := range 8 {
			ext := fmt.Sprintf("G%d", i)
			cs = append(cs, createGroup(ext, "Group "+ext, w.ref("")))
			for j := range 3 {
				cs = append(cs, createGroup(fmt.Sprintf("%s-%d", ext, j), fmt.Sprintf("Child %d", j), plan.Ref{ExtID: ext}))
			}
			cs = append(cs, createUser(fmt.Sprintf("u%d@acme.example", i), plan.Ref{ExtID: ext}))
		}
		p := newPlan(cs...)
		res, err := Apply(context.Background(), p, w.remote, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Results {
			if r.Outcome != plan.OutcomeCreated {
				t.Errorf("change %d: %s %s", r.Change, r.Outcome, r.Message)
			}
		}
		dropped := 0
		for _, c := range w.srv.Writes() {
			if c.Dropped {
				dropped++
			}
		}
		if dropped < 3 || res.Lookups < dropped {
			t.Errorf("dropped creates = %d, look-ups = %d: want at least 3 dropped, each looked up", dropped, res.Lookups)
		}
		st := w.srv.Snapshot()
		checkNoDuplicates(t, st)
		checkParentsFirst(t, w)
		groups, users := live(st)
		if len(groups) != 1+32 || len(users) != 8 {
			t.Errorf("%d groups and %d users, want 33 and 8", len(groups), len(users))
		}
	})

	t.Run("refused plans make no call", func(t *testing.T) {
		w := setup(t, convirzatest.Options{}, convirza.Options{})
		good := func() *plan.Plan { return newPlan(createGroup("N", "N", w.ref(""))) }
		tests := []struct {
			name string
			p    func() *plan.Plan
			want string
		}{
			{"version", func() *plan.Plan { p := good(); p.Version = 2; return p }, "apply: plan refused: plan version 2, this build applies version 1"},
			{"gate", func() *plan.Plan {
				p := good()
				p.Gates = []plan.Gate{{Name: "max-deletes", Tripped: true, Message: "12 deletes, 5 allowed"}}
				return p
			}, "apply: plan refused: a safety gate blocks it (max-deletes: 12 deletes, 5 allowed)"},
			{"cycle", func() *plan.Plan {
				p := good()
				p.Changes = append(p.Changes, createGroup("M", "M", w.ref("")))
				p.Changes[1].ID, p.Changes[0].After, p.Changes[1].After = 2, []int{2}, []int{1}
				return p
			}, "apply: plan refused: change 1 is part of a dependency cycle"},
		}
		for _, tt := range tests {
			res, err := Apply(context.Background(), tt.p(), w.remote, Options{})
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrRefused) || res != nil {
				t.Errorf("%s: Apply = %v, %v; want nil, %q", tt.name, res, err, tt.want)
			}
		}
		if n := len(w.srv.Calls()); n != 0 {
			t.Errorf("%d calls made, want none", n)
		}
	})
}

// desired is what a test wants Convirza to hold; replan is the planner's
// part the convergence test needs: create what is missing, parents first.
type desired struct {
	groups [][3]string // ext id, name, parent ext id ("" = the top)
	users  [][2]string // email, group ext id
}

func replan(st convirzatest.State, d desired) *plan.Plan {
	byExt := map[string]int64{}
	for _, g := range st.Groups {
		if g.Status != state.StatusDeleted && g.ExtID != "" {
			byExt[g.ExtID] = g.ID
		}
	}
	emails := map[string]bool{}
	for _, u := range st.Users {
		if u.Status != state.StatusDeleted {
			emails[strings.ToLower(u.Email)] = true
		}
	}
	ref := func(ext string) plan.Ref {
		if ext == "" {
			return rootRef
		}
		return plan.Ref{ID: byExt[ext], ExtID: ext}
	}
	var cs []plan.Change
	for _, g := range d.groups {
		if byExt[g[0]] == 0 {
			cs = append(cs, createGroup(g[0], g[1], ref(g[2])))
		}
	}
	for _, u := range d.users {
		if !emails[u[0]] {
			cs = append(cs, createUser(u[0], ref(u[1])))
		}
	}
	return newPlan(cs...)
}

// TestApplyConvergesUnderFaults: with 25% of the calls answered 5xx, a
// first run leaves some changes failed or blocked; a fresh plan of what is
// still missing, applied once more, finishes the job, with no duplicate.
// One change at a time keeps the sandbox's seeded faults reproducible.
func TestApplyConvergesUnderFaults(t *testing.T) {
	w := setup(t, convirzatest.Options{FailRate: 0.25, Seed: 1}, convirza.Options{MaxRetries: 1, MaxBackoff: 1e6})
	var d desired
	for i := range 12 {
		ext := fmt.Sprintf("R%02d", i)
		d.groups = append(d.groups, [3]string{ext, "Region " + ext, ""})
		for j := range 3 {
			d.groups = append(d.groups, [3]string{fmt.Sprintf("%s-%d", ext, j), fmt.Sprintf("Office %d", j), ext})
		}
		d.users = append(d.users, [2]string{fmt.Sprintf("m%02d@acme.example", i), ext + "-0"})
	}
	p1 := replan(w.srv.Snapshot(), d)
	res1, err := Apply(context.Background(), p1, w.remote, Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	c1 := res1.Counts()
	t.Logf("first run: %v", c1)
	if c1[plan.OutcomeFailed] == 0 || c1[plan.OutcomeCreated] == 0 {
		t.Fatalf("first run: %v; want some created and some failed (pick another seed)", c1)
	}
	for _, r := range res1.Results {
		if r.Outcome == plan.OutcomeFailed && (r.HTTPStatus < 500 || r.RequestID == "") {
			t.Errorf("failed change %d: status %d, request_id %q: want a 5xx with its request_id", r.Change, r.HTTPStatus, r.RequestID)
		}
	}
	resent := 0
	for _, r := range res1.Results {
		if r.Outcome == plan.OutcomeCreated && r.Message == "sent again after an unknown outcome" {
			resent++
		}
	}
	if resent == 0 || res1.Lookups < resent {
		t.Errorf("first run: %d creates sent again after a look-up (%d look-ups); want some", resent, res1.Lookups)
	}
	p2 := replan(w.srv.Snapshot(), d)
	if got, want := len(p2.Changes), c1[plan.OutcomeFailed]+c1[plan.OutcomeBlocked]; got != want {
		t.Errorf("second plan has %d changes, want the %d failed or blocked", got, want)
	}
	res2, err := Apply(context.Background(), p2, w.remote, Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c2 := res2.Counts(); c2[plan.OutcomeCreated] != len(p2.Changes) {
		t.Errorf("second run: %v, want all %d created", c2, len(p2.Changes))
	}
	st := w.srv.Snapshot()
	if p3 := replan(st, d); len(p3.Changes) != 0 {
		t.Errorf("a third plan still has %d changes", len(p3.Changes))
	}
	checkNoDuplicates(t, st)
}

// TestApplyStopsEarly: a cancelled context or a lost authorization stops
// starting work; what was in flight finishes and is reported; the rest is
// skipped; Apply returns the results and the error.
func TestApplyStopsEarly(t *testing.T) {
	updates := func(t *testing.T, w *world, n int) *plan.Plan {
		var cs []plan.Change
		for i := range n {
			ext := fmt.Sprintf("U%02d", i)
			w.group(t, ext, "Unit "+ext, "", convirzatest.Group{City: "Boston"})
			cs = append(cs, change(plan.Update, plan.KindGroup, ext, w.ids[ext], w.ref(""), fc(plan.FieldCity, "Boston", "Lowell")))
		}
		return newPlan(cs...)
	}
	t.Run("cancelled", func(t *testing.T) {
		w := setup(t, convirzatest.Options{Latency: 20e6}, convirza.Options{})
		p := updates(t, w, 40)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		res, err := Apply(ctx, p, w.remote, Options{Concurrency: 4, OnResult: func(plan.Result) {
			if n++; n == 8 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Apply error = %v, want context.Canceled", err)
		}
		c := res.Counts()
		if c[plan.OutcomeUpdated] < 8 || c[plan.OutcomeUpdated]+c[plan.OutcomeSkipped] != 40 || c[plan.OutcomeSkipped] == 0 {
			t.Errorf("outcomes %v: want at least 8 updated, the rest (some) skipped", c)
		}
		// In-flight calls finished: every write sent was applied and reported.
		applied := 0
		for _, call := range w.srv.Writes() {
			if call.Applied() {
				applied++
			}
		}
		if applied != c[plan.OutcomeUpdated] || res.Writes != applied {
			t.Errorf("applied writes %d, reported updated %d, counted %d: want equal", applied, c[plan.OutcomeUpdated], res.Writes)
		}
		for _, r := range res.Results {
			if r.Outcome == plan.OutcomeSkipped && r.Message != "not started: the run was interrupted" {
				t.Errorf("skipped change %d says %q", r.Change, r.Message)
			}
		}
	})
	t.Run("grace runs out", func(t *testing.T) {
		w := setup(t, convirzatest.Options{Latency: 5 * time.Second}, convirza.Options{})
		p := updates(t, w, 6)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		res, err := Apply(ctx, p, w.remote, Options{Concurrency: 2, Grace: 100 * time.Millisecond})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Apply error = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Apply took %v after a 100 ms grace", d)
		}
		want := []plan.Outcome{plan.OutcomeFailed, plan.OutcomeFailed, plan.OutcomeSkipped, plan.OutcomeSkipped, plan.OutcomeSkipped, plan.OutcomeSkipped}
		var got []plan.Outcome
		for _, r := range res.Results {
			got = append(got, r.Outcome)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		for _, r := range res.Results[:2] {
			if !strings.HasPrefix(r.Message, "cut off when the grace period after the interrupt ran out: ") {
				t.Errorf("change %d cut off says %q", r.Change, r.Message)
			}
		}
	})
	t.Run("authorization lost", func(t *testing.T) {
		w := setup(t, convirzatest.Options{}, convirza.Options{})
		p := updates(t, w, 30)
		w.srv.SetExpireAfter(10)
		res, err := Apply(context.Background(), p, w.remote, Options{Concurrency: 2})
		if !errors.Is(err, convirza.ErrUnauthorized) {
			t.Fatalf("Apply error = %v, want ErrUnauthorized", err)
		}
		c := res.Counts()
		if c[plan.OutcomeUpdated] != 10 || c[plan.OutcomeFailed] < 1 || c[plan.OutcomeFailed] > 2 || c[plan.OutcomeSkipped] != 30-10-c[plan.OutcomeFailed] {
			t.Errorf("outcomes %v: want 10 updated, 1 or 2 failed (those in flight), the rest skipped", c)
		}
		for _, r := range res.Results {
			if r.Outcome == plan.OutcomeFailed && r.HTTPStatus != 401 {
				t.Errorf("failed change %d: status %d, want 401", r.Change, r.HTTPStatus)
			}
		}
		if n := w.srv.CountCalls("PATCH", "/v3/"); n > 12 {
			t.Errorf("%d PATCHes sent, want at most 12: work must stop at the first 401", n)
		}
	})
}

// TestUndoRestores: apply a plan, then its undo plan: Convirza holds what
// it held before, but for the group the plan deleted.
// It runs under both delete semantics.
func TestUndoRestores(t *testing.T) {
	for _, ds := range semantics {
		t.Run(string(ds), func(t *testing.T) { testUndoRestores(t, ds) })
	}
}

func testUndoRestores(t *testing.T, ds convirzatest.DeleteSemantics) {
	w := setup(t, convirzatest.Options{DeleteSemantics: ds}, convirza.Options{})
	w.group(t, "E1", "East", "", convirzatest.Group{City: "Boston", Phone: "+16175550100"})
	w.group(t, "W1", "West", "", convirzatest.Group{})
	w.group(t, "A", "Alpha", "", convirzatest.Group{})
	w.group(t, "B", "Beta", "", convirzatest.Group{})
	w.group(t, "OLD", "Old", "", convirzatest.Group{})
	w.user(t, "gone@acme.example", "E1", convirzatest.User{})
	w.user(t, "back@acme.example", "E1", convirzatest.User{Status: state.StatusInactive, FirstName: "Bo", LastName: "Doe"})
	w.user(t, "mover@acme.example", "W1", convirzatest.User{})
	legacy := w.group(t, "", "Legacy", "", convirzatest.Group{City: "Lynn"})
	before := w.srv.Snapshot()

	p := newPlan(
		createGroup("N1", "North", w.ref("")),
		createGroup("N2", "North 2", w.ref("N1")),
		createUser("new@acme.example", w.ref("N2")),
		change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""), fc(plan.FieldCity, "Boston", "Cambridge"), fc(plan.FieldPhone, "+16175550100", "")),
		change(plan.Move, plan.KindGroup, "W1", w.ids["W1"], w.ref("N1"), fc(plan.FieldParent, strconv.Itoa(top), "")),
		change(plan.Rename, plan.KindGroup, "A", w.ids["A"], w.ref(""), fc(plan.FieldName, "Alpha", "Alpha (renaming)")),
		change(plan.Rename, plan.KindGroup, "B", w.ids["B"], w.ref(""), fc(plan.FieldName, "Beta", "Alpha")),
		change(plan.Rename, plan.KindGroup, "A", w.ids["A"], w.ref(""), fc(plan.FieldName, "Alpha (renaming)", "Beta")),
		change(plan.Deactivate, plan.KindUser, "gone@acme.example", w.ids["gone@acme.example"], w.ref("E1")),
		change(plan.Reactivate, plan.KindUser, "back@acme.example", w.ids["back@acme.example"], w.ref("E1"), fc(plan.FieldFirstName, "Bo", "Bob")),
		change(plan.Move, plan.KindUser, "mover@acme.example", w.ids["mover@acme.example"], w.ref("N2"), fc(plan.FieldUserGroup, strconv.FormatInt(w.ids["W1"], 10), "")),
		change(plan.Delete, plan.KindGroup, "OLD", w.ids["OLD"], w.ref("")),
		change(plan.Adopt, plan.KindGroup, "LEG", legacy, w.ref(""), fc(plan.FieldExtID, "", "LEG"), fc(plan.FieldCity, "Lynn", "Salem")),
	)
	p.Changes[4].FromParent = &rootRef
	p.Changes[6].After = []int{6}
	p.Changes[7].After = []int{7}
	p.Changes[10].FromParent = &plan.Ref{ID: w.ids["W1"], ExtID: "W1"}
	ctx := context.Background()
	res, err := Apply(ctx, p, w.remote, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c[plan.OutcomeFailed]+c[plan.OutcomeBlocked]+c[plan.OutcomeSkipped] != 0 {
		t.Fatalf("apply: %v", outcomes(res.Results))
	}

	u := plan.Undo(p, res.Results)
	if len(u.Refused) != 1 || u.Refused[0].Key != "OLD" || u.Refused[0].Reason != plan.ReasonNoUndoDelete {
		t.Errorf("undo refused = %+v, want the delete of OLD", u.Refused)
	}
	cur, _, err := w.client.FetchState(ctx, convirza.FetchOptions{Root: "id:1001"})
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.CheckStale(u, cur); len(d) != 0 {
		t.Fatalf("the undo plan is stale right after the apply: %v", d)
	}
	if d := plan.CheckStale(p, cur); len(d) == 0 {
		t.Error("the applied plan is not stale after it was applied")
	}
	w.srv.ResetCalls()
	ures, err := Apply(ctx, u, w.remote, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ures.Results {
		if !r.Outcome.Done() {
			t.Errorf("undo change %d: %s %s", r.Change, r.Outcome, r.Message)
		}
	}
	checkPatchBodies(t, w, u, ures)

	wantGroups, wantUsers := live(before)
	delete(wantGroups, "OLD") // a delete cannot be undone
	gotGroups, gotUsers := live(w.srv.Snapshot())
	if diff := cmp.Diff(wantGroups, gotGroups); diff != "" {
		t.Errorf("groups after undo (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(wantUsers, gotUsers); diff != "" {
		t.Errorf("users after undo (-before +after):\n%s", diff)
	}
}
