package doctor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/doctor"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The names of the checks, in the order a report lists them.
var checkOrder = []string{doctor.CheckAuth, doctor.CheckRoot, doctor.CheckTree, doctor.CheckPageSize,
	doctor.CheckListGroups, doctor.CheckIndustries, doctor.CheckSpellings, doctor.CheckExtIDs, doctor.CheckSiblings,
	doctor.CheckAdoption, doctor.CheckRateLimit, doctor.CheckLatency, doctor.CheckClock}

// notReached is the detail of a check that an earlier failure kept from
// running.
const notReached = "not reached: an earlier check failed"

// fixture is the account most tests run against: the top group 1001
// ("Acme Corp", ext id "ACME"), three children 1002-1004 and six
// grandchildren 1005-1010 dealt round-robin over them (two each), every
// group with an ext id (GEN-000001...); ten users 10001-10010
// (user000001@example.com...), the 7th read-only and the others standard.
func fixture() convirzatest.State {
	return convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{3, 6}, Users: 10})
}

// plainStatuses is what doctor says of the fixture under the default
// dialect: every check holds but rate-limit, since the sandbox sends no
// X-RateLimit-* header while its rate limit is off.
var plainStatuses = map[string]doctor.Status{
	doctor.CheckAuth: doctor.OK, doctor.CheckRoot: doctor.OK, doctor.CheckTree: doctor.OK,
	doctor.CheckPageSize: doctor.OK, doctor.CheckListGroups: doctor.OK, doctor.CheckIndustries: doctor.OK,
	doctor.CheckSpellings: doctor.OK, doctor.CheckExtIDs: doctor.OK, doctor.CheckSiblings: doctor.OK,
	doctor.CheckAdoption: doctor.OK, doctor.CheckRateLimit: doctor.Unknown, doctor.CheckLatency: doctor.OK,
	doctor.CheckClock: doctor.OK,
}

// startSandbox serves st with opts on loopback, with the login limit off.
func startSandbox(t *testing.T, st convirzatest.State, opts convirzatest.Options) *convirzatest.Server {
	t.Helper()
	if opts.LoginLimit == 0 {
		opts.LoginLimit = -1
	}
	sb, err := convirzatest.NewFromState(st, opts)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// creds are how the client authenticates: a login when email is set, else
// token, else the sandbox's static token.
type creds struct{ email, password, token string }

func login(email string) creds { return creds{email: email, password: convirzatest.Password} }

// runDoctor builds a client of srv the way the CLI does (its Options.Trace
// is the trace handed to Run), runs doctor with dopts and returns the report.
func runDoctor(t *testing.T, srv *convirzatest.Server, cr creds, dopts doctor.Options, edit ...func(*convirza.Options)) doctor.Report {
	t.Helper()
	tr := convirza.NewTrace(1 << 20)
	o := convirza.Options{APIURL: srv.APIURL(), AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
		Rate: 10000, MaxBackoff: 10 * time.Millisecond, Trace: tr}
	switch {
	case cr.email != "":
		o.Email, o.Password = cr.email, cr.password
	case cr.token != "":
		o.Token = cr.token
	default:
		o.Token = srv.Token()
	}
	for _, f := range edit {
		f(&o)
	}
	c, err := convirza.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) }) // runs before srv.Close
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep := doctor.Run(ctx, c, tr, dopts)
	var names []string
	for _, ch := range rep.Checks {
		names = append(names, ch.Name)
	}
	if d := cmp.Diff(checkOrder, names); d != "" {
		t.Fatalf("the report's checks (-want +got):\n%s", d)
	}
	return rep
}

func mustCheck(rep doctor.Report, name string) doctor.Check {
	c, _ := rep.Check(name)
	return c
}

func statuses(rep doctor.Report) map[string]doctor.Status {
	m := map[string]doctor.Status{}
	for _, c := range rep.Checks {
		m[c.Name] = c.Status
	}
	return m
}

// wantDetail fails unless the named check's detail holds every word.
func wantDetail(t *testing.T, rep doctor.Report, name string, words ...string) {
	t.Helper()
	c, ok := rep.Check(name)
	if !ok {
		t.Fatalf("no %s check", name)
	}
	for _, w := range words {
		if !strings.Contains(c.Detail, w) {
			t.Errorf("%s detail %q lacks %q", name, c.Detail, w)
		}
	}
}

// readOnly fails on any call doctor sent that is not a GET, bar the login
// (POST /oauth/token): no write to /v3, and no other auth call either
// (doctor does not revoke; the CLI's session does, after it). It returns the
// calls.
func readOnly(t *testing.T, srv *convirzatest.Server) []convirzatest.Call {
	t.Helper()
	calls := srv.Calls()
	for _, c := range calls {
		if c.Method != http.MethodGet && (c.Method != http.MethodPost || c.Path != "/oauth/token") {
			t.Errorf("doctor sent %s %s", c.Method, c.Path)
		}
	}
	if ws := srv.Writes(); len(ws) != 0 {
		t.Errorf("the sandbox logged %d writes", len(ws))
	}
	return calls
}

func describe(calls []convirzatest.Call) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString("  " + c.Method + " " + c.Path + "?" + c.Query + "\n")
	}
	return b.String()
}

// outputs renders the report both ways, and checks the JSON reads back
// as the same report.
func outputs(t *testing.T, rep doctor.Report) (text, js string) {
	t.Helper()
	var tb, jb bytes.Buffer
	if err := rep.WriteText(&tb); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	var back doctor.Report
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil {
		t.Fatalf("WriteJSON: %v\n%s", err, jb.String())
	}
	if d := cmp.Diff(rep, back); d != "" {
		t.Errorf("WriteJSON does not read back as the report (-want +got):\n%s", d)
	}
	return tb.String(), jb.String()
}

// TestPlainSandbox: against the fixture under the default dialect every
// check holds but rate-limit (no header to read), nothing differs, doctor
// sends GETs only (and the login), and the number of calls is fixed.
func TestPlainSandbox(t *testing.T) {
	tests := []struct {
		name string
		cr   creds
		// calls: 1 GET /auth/profile (auth); the 8 calls of FetchState
		// (the root check's "read in 8 calls": /industry, /groups/tree, the
		// List Groups probe GET /groups answered 405 (it is tried since
		// 1 page of the 10-node tree is fewer than the 4 child listings),
		// /groups/list of each of the 4 parents 1001-1004, and 1 page of
		// /users/list); GET /groups/1001 (root); /groups/list of 1001 with
		// limit 200 (page-size: the largest parent); GET /groups
		// (list-groups) = 12. A login adds POST /oauth/token.
		calls int
		auth  []string
	}{
		{"static token", creds{}, 12, []string{"static token", `role "Admin"`, "admin: may write"}},
		{"login", login("ops@example.com"), 13, []string{"login", "expires_in an ISO-8601 time", `role "Admin"`, "admin: may write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSandbox(t, fixture(), convirzatest.Options{})
			rep := runDoctor(t, srv, tt.cr, doctor.Options{})
			if d := cmp.Diff(plainStatuses, statuses(rep)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if rep.Differs() {
				t.Error("Differs() is true")
			}
			wantDetail(t, rep, doctor.CheckAuth, tt.auth...)
			wantDetail(t, rep, doctor.CheckRoot, `group 1001 "Acme Corp" (ext id "ACME")`,
				"10 groups and 10 users", "read in 8 calls", "GET /groups/{id} bare")
			wantDetail(t, rep, doctor.CheckTree, "flat (dotted codes)", "3 levels", "9 active, 0 inactive")
			wantDetail(t, rep, doctor.CheckPageSize, "group 1001's children: 3 of 3")
			wantDetail(t, rep, doctor.CheckListGroups, "answers 405: absent")
			wantDetail(t, rep, doctor.CheckIndustries, "20 industries", "a bare array")
			wantDetail(t, rep, doctor.CheckSpellings, `roles "Read-Only User", "Standard User"`, `statuses "active"`)
			wantDetail(t, rep, doctor.CheckExtIDs, "10 ext ids, each naming one group")
			wantDetail(t, rep, doctor.CheckSiblings, "no two siblings share a name")
			wantDetail(t, rep, doctor.CheckAdoption, "every group under the root has an ext id")
			wantDetail(t, rep, doctor.CheckRateLimit, "no rate-limit header seen")
			wantDetail(t, rep, doctor.CheckClock, "agrees with this clock")
			// Latency counts the /v3 answers: every call but the login.
			wantDetail(t, rep, doctor.CheckLatency, "over 12 calls", "at --rate 10,", "--concurrency 1")

			calls := readOnly(t, srv)
			if len(calls) != tt.calls {
				t.Errorf("doctor made %d calls, want %d:\n%s", len(calls), tt.calls, describe(calls))
			}
			text, js := outputs(t, rep)
			if !strings.Contains(text, "\n12 ok, 0 adapted, 1 unknown, 0 differs: the job can run against this account.\n") {
				t.Errorf("no verdict line:\n%s", text)
			}
			for _, out := range []string{text, js} {
				if strings.Contains(out, srv.Token()) {
					t.Errorf("the report shows the static token:\n%s", out)
				}
			}
		})
	}
}

// TestDialects: each reading of an open point that doctor adapts to is
// named by its check, and only that check moves from the plain report.
func TestDialects(t *testing.T) {
	tests := []struct {
		name   string
		opts   convirzatest.Options
		cr     creds
		check  string
		status doctor.Status
		words  []string
	}{
		{"nested tree", convirzatest.Options{Shapes: convirzatest.Shapes{NestedTree: true}}, creds{},
			doctor.CheckTree, doctor.Adapted, []string{"nested (children)", "3 levels"}},
		{"pages capped at 2", convirzatest.Options{Dialect: convirzatest.Dialect{MaxPageSize: 2}}, creds{},
			doctor.CheckPageSize, doctor.Adapted, []string{"group 1001's children: 2 of 3", "capped at 2"}},
		{"roles as ids", convirzatest.Options{Dialect: convirzatest.Dialect{Roles: convirzatest.RoleIDs}}, creds{},
			doctor.CheckSpellings, doctor.Adapted, []string{"roles 2, 3;"}},
		{"roles short", convirzatest.Options{Dialect: convirzatest.Dialect{Roles: convirzatest.RoleShort}}, creds{},
			doctor.CheckSpellings, doctor.OK, []string{`roles "ReadOnly", "Standard"`}},
		{"group detail wrapped", convirzatest.Options{Shapes: convirzatest.Shapes{WrappedGroupDetail: true}}, creds{},
			doctor.CheckRoot, doctor.Adapted, []string{"wrapped in data.group"}},
		{"industries wrapped", convirzatest.Options{Shapes: convirzatest.Shapes{WrappedIndustries: true}}, creds{},
			doctor.CheckIndustries, doctor.OK, []string{"20 industries", `{"industries": [...]}`}},
		{"expires_in in seconds", convirzatest.Options{Dialect: convirzatest.Dialect{ExpiresInSeconds: true}}, login("ops@example.com"),
			doctor.CheckAuth, doctor.Adapted, []string{"login", "expires_in in seconds"}},
		{"list groups present", convirzatest.Options{Dialect: convirzatest.Dialect{ListGroups: true}}, creds{},
			doctor.CheckListGroups, doctor.Adapted, []string{"lists the whole hierarchy (total 10, 10 on the first page)"}},
		{"rate-limit headers", convirzatest.Options{RateLimit: 1000, RateBurst: 1000}, creds{},
			doctor.CheckRateLimit, doctor.OK, []string{"X-RateLimit-Limit: 1000", "X-RateLimit-Remaining: ", "X-RateLimit-Reset: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSandbox(t, fixture(), tt.opts)
			rep := runDoctor(t, srv, tt.cr, doctor.Options{})
			want := map[string]doctor.Status{}
			for k, v := range plainStatuses {
				want[k] = v
			}
			want[tt.check] = tt.status
			if d := cmp.Diff(want, statuses(rep)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			wantDetail(t, rep, tt.check, tt.words...)
			if rep.Differs() {
				t.Error("Differs() is true")
			}
			calls := readOnly(t, srv)
			if len(calls) > 30 {
				t.Errorf("doctor made %d calls, want at most 30:\n%s", len(calls), describe(calls))
			}
			t.Logf("%d calls; %s: %s", len(calls), tt.check, mustCheck(rep, tt.check).Detail)
		})
	}
}

// TestNotAdmin: a caller that is not an admin cannot write: auth differs,
// and so does the report.
func TestNotAdmin(t *testing.T) {
	tests := []struct {
		email string
		words []string
	}{
		{"user000001@example.com", []string{"login", `role "Standard User"`, "standard, not admin: writes will be refused"}},
		{"user000007@example.com", []string{"login", `role "Read-Only User"`, "readonly, not admin: writes will be refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			srv := startSandbox(t, fixture(), convirzatest.Options{})
			rep := runDoctor(t, srv, login(tt.email), doctor.Options{})
			if c, _ := rep.Check(doctor.CheckAuth); c.Status != doctor.Differs {
				t.Errorf("auth: %s (%s), want differs", c.Status, c.Detail)
			}
			wantDetail(t, rep, doctor.CheckAuth, tt.words...)
			if !rep.Differs() {
				t.Error("Differs() is false")
			}
			// The later checks still run, under the caller's group.
			if c, _ := rep.Check(doctor.CheckRoot); c.Status != doctor.OK {
				t.Errorf("root: %s (%s), want ok", c.Status, c.Detail)
			}
			wantDetail(t, rep, doctor.CheckRoot, "the caller's group")
			readOnly(t, srv)
			text, _ := outputs(t, rep)
			if !strings.Contains(text, "1 differs: the job cannot run safely until what differs is fixed.") {
				t.Errorf("no verdict line:\n%s", text)
			}
		})
	}
}

// TestDataFindings: what the account holds (not how the API speaks)
// shows in ext-ids, sibling-names, adoption, page-size and spellings. The
// states are loaded whole (NewFromState), which lets them hold what the
// API's writes would refuse, such as two siblings of one name.
func TestDataFindings(t *testing.T) {
	const guid = "8a7b1c2d-0000-4000-8000-00000000abcd"
	at := func(st convirzatest.State, id int64) *convirzatest.Group {
		for i := range st.Groups {
			if st.Groups[i].ID == id {
				return &st.Groups[i]
			}
		}
		t.Fatalf("no group %d", id)
		return nil
	}
	tests := []struct {
		name  string
		state func() convirzatest.State
		want  map[string]doctor.Status // the checks that move from plainStatuses
		words map[string][]string
	}{
		{
			// 1005 and 1008 are both children of 1002.
			name: "sibling names equal but for case and spaces",
			state: func() convirzatest.State {
				st := fixture()
				at(st, 1005).Name = "East Office"
				at(st, 1008).Name = "  east   OFFICE "
				return st
			},
			want:  map[string]doctor.Status{doctor.CheckSiblings: doctor.Differs},
			words: map[string][]string{doctor.CheckSiblings: {"1 sibling names clash", `"east office" under 1002 (groups 1005, 1008)`}},
		},
		{
			// 1005 (under 1002) and 1006 (under 1003) are cousins, not siblings.
			name: "equal names under different parents",
			state: func() convirzatest.State {
				st := fixture()
				at(st, 1005).Name = "East Office"
				at(st, 1006).Name = "East Office"
				return st
			},
			want:  map[string]doctor.Status{},
			words: map[string][]string{doctor.CheckSiblings: {"no two siblings share a name"}},
		},
		{
			name: "a deleted sibling frees its name",
			state: func() convirzatest.State {
				st := fixture()
				at(st, 1005).Name = "East Office"
				at(st, 1008).Name = "east office"
				at(st, 1008).Status = state.StatusDeleted
				return st
			},
			want:  map[string]doctor.Status{},
			words: map[string][]string{doctor.CheckSiblings: {"no two siblings share a name"}},
		},
		{
			// One ext id twice, and one GUID in two spellings (ExtIDKey: the
			// lower-case form without braces).
			name: "ext ids naming two groups",
			state: func() convirzatest.State {
				st := fixture()
				at(st, 1009).ExtID = "GEN-000001" // 1002's
				at(st, 1003).ExtID = "{" + strings.ToUpper(guid) + "}"
				at(st, 1010).ExtID = guid
				return st
			},
			want: map[string]doctor.Status{doctor.CheckExtIDs: doctor.Differs},
			words: map[string][]string{doctor.CheckExtIDs: {"2 ext ids name more than one group",
				`"GEN-000001" (groups 1002, 1009)`, `"` + guid + `" (groups 1003, 1010)`, "the job will not touch them"}},
		},
		{
			name: "groups without an ext id",
			state: func() convirzatest.State {
				st := fixture()
				at(st, 1004).ExtID = ""
				at(st, 1007).ExtID = "  "
				at(st, 1001).ExtID = "" // the root is not a candidate
				return st
			},
			want:  map[string]doctor.Status{},
			words: map[string][]string{doctor.CheckAdoption: {"2 group(s) without an ext id", "adoption candidates", "e.g. 1004, 1007"}},
		},
		{
			// A fresh account: the top group alone, no user.
			name:  "nothing under the top group",
			state: convirzatest.DefaultState,
			want:  map[string]doctor.Status{doctor.CheckPageSize: doctor.Unknown, doctor.CheckSpellings: doctor.Unknown},
			words: map[string][]string{
				doctor.CheckPageSize:  {"no parent has 2 or more children"},
				doctor.CheckSpellings: {"no listing row was seen"},
				doctor.CheckTree:      {"1 levels", "0 active, 0 inactive"},
			},
		},
		{
			name: "inactive groups",
			state: func() convirzatest.State {
				return convirzatest.Generate(convirzatest.GenSpec{PerLevel: []int{3, 6}, Users: 10, InactiveEvery: 4})
			},
			want: map[string]doctor.Status{},
			words: map[string][]string{
				doctor.CheckTree:      {"7 active, 2 inactive"},
				doctor.CheckSpellings: {`statuses "active", "inactive"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSandbox(t, tt.state(), convirzatest.Options{})
			rep := runDoctor(t, srv, creds{}, doctor.Options{})
			want := map[string]doctor.Status{}
			for k, v := range plainStatuses {
				want[k] = v
			}
			for k, v := range tt.want {
				want[k] = v
			}
			if d := cmp.Diff(want, statuses(rep)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			for name, words := range tt.words {
				wantDetail(t, rep, name, words...)
			}
			differs := false
			for _, s := range tt.want {
				differs = differs || s == doctor.Differs
			}
			if rep.Differs() != differs {
				t.Errorf("Differs() = %v, want %v", rep.Differs(), differs)
			}
			readOnly(t, srv)
		})
	}
}

// dateShift moves the Date header of every answer by the shift, as a
// server whose clock is off would send it.
type dateShift struct {
	base  http.RoundTripper
	shift time.Duration
}

func (d dateShift) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		resp.Header.Set("Date", t.Add(d.shift).UTC().Format(http.TimeFormat))
	}
	return resp, nil
}

// TestClockServerDate: the clock check compares the answers' Date headers
// with the time the requests were sent: within 2 s it agrees, within 2 min
// it is off but harmless, beyond that it cannot be trusted (unknown, not
// differs: nothing the job writes depends on it).
func TestClockServerDate(t *testing.T) {
	tests := []struct {
		shift  time.Duration
		status doctor.Status
		words  []string
	}{
		{0, doctor.OK, []string{"agrees with this clock"}},
		{-time.Minute, doctor.OK, []string{"off the server's Date; nothing the job does depends on it"}},
		{10 * time.Minute, doctor.Unknown, []string{"off the server's Date: logs and token expiries will not line up; fix the clock"}},
		{-10 * time.Minute, doctor.Unknown, []string{"fix the clock"}},
	}
	for _, tt := range tests {
		t.Run(tt.shift.String(), func(t *testing.T) {
			srv := startSandbox(t, fixture(), convirzatest.Options{})
			rep := runDoctor(t, srv, creds{}, doctor.Options{}, func(o *convirza.Options) {
				o.HTTPClient = &http.Client{Transport: dateShift{base: srv.Client().Transport, shift: tt.shift}}
			})
			c, _ := rep.Check(doctor.CheckClock)
			if c.Status != tt.status {
				t.Errorf("clock: %s (%s), want %s", c.Status, c.Detail, tt.status)
			}
			wantDetail(t, rep, doctor.CheckClock, tt.words...)
			if tt.shift != 0 {
				// The skew is read at the header's 1 s resolution.
				if !strings.Contains(c.Detail, "this clock is "+tt.shift.String()+" off") &&
					!strings.Contains(c.Detail, "this clock is "+(tt.shift-time.Second).String()+" off") &&
					!strings.Contains(c.Detail, "this clock is "+(tt.shift+time.Second).String()+" off") {
					t.Errorf("clock detail %q does not say %v (±1 s)", c.Detail, tt.shift)
				}
			}
			if rep.Differs() {
				t.Error("Differs() is true")
			}
		})
	}
}

// TestClockOptionsNow: Options.Now is the clock of the skew check, so a
// local clock 10 minutes ahead of the server makes the clock check unknown
// like TestClockServerDate's.
func TestClockOptionsNow(t *testing.T) {
	srv := startSandbox(t, fixture(), convirzatest.Options{})
	ahead := func() time.Time { return time.Now().Add(10 * time.Minute) }
	rep := runDoctor(t, srv, creds{}, doctor.Options{Now: ahead})
	c, _ := rep.Check(doctor.CheckClock)
	if c.Status != doctor.Unknown {
		t.Errorf("clock: %s (%s), want unknown", c.Status, c.Detail)
	}
	wantDetail(t, rep, doctor.CheckClock, "this clock is -10m", "fix the clock")
}

// TestBadCredentials: a refused login is auth differs; the checks that need
// the account are not reached, and the network checks read what the one
// auth answer showed. Neither rendering shows the password.
func TestBadCredentials(t *testing.T) {
	const secret = "Zq7-doctor-secret-pw-4XK9"
	srv := startSandbox(t, fixture(), convirzatest.Options{})
	rep := runDoctor(t, srv, creds{email: "ops@example.com", password: secret}, doctor.Options{})
	want := []doctor.Check{{Name: doctor.CheckAuth, Status: doctor.Differs}}
	for _, name := range checkOrder[1:10] { // root ... adoption
		want = append(want, doctor.Check{Name: name, Status: doctor.Unknown, Detail: notReached})
	}
	want = append(want,
		doctor.Check{Name: doctor.CheckRateLimit, Status: doctor.Unknown,
			Detail: "no rate-limit header seen: keep --rate within what your account allows"},
		doctor.Check{Name: doctor.CheckLatency, Status: doctor.Unknown, Detail: "no API call answered"},
		doctor.Check{Name: doctor.CheckClock, Status: doctor.OK,
			Detail: "the server's Date agrees with this clock (within the header's 1 s resolution)"})
	wantDetail(t, rep, doctor.CheckAuth, "the credentials were refused", "401")
	got := append([]doctor.Check(nil), rep.Checks...)
	got[0].Detail = "" // the login's error, checked above
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	if !rep.Differs() {
		t.Error("Differs() is false")
	}
	calls := readOnly(t, srv)
	for _, c := range calls {
		if c.Path != "/oauth/token" {
			t.Errorf("doctor went on after the refused login: %s %s", c.Method, c.Path)
		}
	}
	if len(calls) == 0 {
		t.Error("no login was sent")
	}
	t.Logf("%d calls; auth: %s", len(calls), mustCheck(rep, doctor.CheckAuth).Detail)
	text, js := outputs(t, rep)
	for _, out := range []string{text, js} {
		if strings.Contains(out, secret) {
			t.Errorf("the report shows the password:\n%s", out)
		}
	}
	if !strings.Contains(text, "\n1 ok, 0 adapted, 11 unknown, 1 differs: the job cannot run safely until what differs is fixed.\n") {
		t.Errorf("no verdict line:\n%s", text)
	}
}

// TestBadStaticToken: a static token the API refuses. Login sends nothing
// for a static token, so the refusal shows at GET /auth/profile (401): auth
// differs, and nothing after it is read. Neither rendering shows the token.
func TestBadStaticToken(t *testing.T) {
	const secret = "sbx_doctor_secret_token_Zq7XK9"
	srv := startSandbox(t, fixture(), convirzatest.Options{})
	rep := runDoctor(t, srv, creds{token: secret}, doctor.Options{})
	if !rep.Differs() {
		t.Error("Differs() is false")
	}
	if c, _ := rep.Check(doctor.CheckAuth); c.Status != doctor.Differs {
		t.Errorf("auth: %s (%s), want differs", c.Status, c.Detail)
	}
	wantDetail(t, rep, doctor.CheckAuth, "the static token was refused")
	for _, name := range checkOrder[1:10] { // root ... adoption
		c, _ := rep.Check(name)
		if c.Status != doctor.Unknown || c.Detail != notReached {
			t.Errorf("%s: %s (%s), want unknown (not reached)", name, c.Status, c.Detail)
		}
	}
	readOnly(t, srv)
	text, js := outputs(t, rep)
	for _, out := range []string{text, js} {
		if strings.Contains(out, secret) {
			t.Errorf("the report shows the token:\n%s", out)
		}
	}
}

// TestTreeGroupNamedChildren: the tree check tells the nested form by a
// "children" key, not by those bytes anywhere in the body: a flat tree in
// which a group is named "children" is flat.
func TestTreeGroupNamedChildren(t *testing.T) {
	st := fixture()
	for i := range st.Groups {
		if st.Groups[i].ID == 1005 {
			st.Groups[i].Name = "children"
		}
	}
	srv := startSandbox(t, st, convirzatest.Options{}) // the flat tree
	rep := runDoctor(t, srv, creds{}, doctor.Options{})
	c, _ := rep.Check(doctor.CheckTree)
	if c.Status != doctor.OK {
		t.Errorf("tree: %s (%s), want ok", c.Status, c.Detail)
	}
	wantDetail(t, rep, doctor.CheckTree, "flat (dotted codes)")
}
