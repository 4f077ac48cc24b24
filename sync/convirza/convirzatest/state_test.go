package convirzatest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/statefile"
)

func TestStateRoundTrip(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", map[string]any{"org_unit_ext_id": "E", "phone_number": "+16175550101", "industry_id": 3})
	west := c.createGroup(top, "West", nil)
	c.createGroup(east, "Boston", nil)
	if err := srv.SetGroupStatus(west, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	gone := c.createGroup(top, "Gone", nil)
	c.do(http.MethodDelete, path("/v3/groups/%d", gone), nil).must(t, 200, nil)
	c.createUser(east, "a@acme.example", map[string]any{"role": "Admin", "user_ext_id": "U1", "aliases": []string{"al"}})
	c.createUser(east, "b@acme.example", map[string]any{"user_status": "inactive", "role": nil, "role_id": 3})

	var buf bytes.Buffer
	if err := srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"version\": 1,\n  \"top_group_id\": 1001,") {
		t.Errorf("state file starts %q", buf.String()[:60])
	}
	saved := buf.String()
	loaded := New(Options{})
	if err := loaded.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(srv.Snapshot(), loaded.Snapshot()); diff != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", diff)
	}
	var again bytes.Buffer
	if err := loaded.SaveState(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != saved {
		t.Error("saving a loaded state gives another file")
	}
	// Ids continue after the largest one in the file.
	srv2, err := StartServer(loaded, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	c2 := &tc{t: t, srv: srv2, token: srv2.Token(), hc: srv2.Client()}
	if id := c2.createGroup(top, "North", nil); id != gone+1 {
		t.Errorf("new id %d, want %d", id, gone+1)
	}
	// The loaded sandbox keeps enforcing: a clash with a loaded name.
	c2.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": "east", "org_unit_parent_id": top}).must(t, 409, nil)
	c2.do(http.MethodPost, "/v3/users", map[string]any{"username": "A@acme.example", "first_name": "x", "last_name": "y", "ct_user_ou_id": top, "role": "Admin"}).must(t, 409, nil)
}

func TestReadStateRefuses(t *testing.T) {
	good := func() State {
		st := DefaultState()
		st.Groups = append(st.Groups,
			Group{ID: 1002, Name: "East", ParentID: 1001},
			Group{ID: 1003, Name: "Boston", ParentID: 1002, Status: state.StatusInactive})
		st.Users = []User{{ID: 10001, Email: "a@acme.example", FirstName: "A", LastName: "B", Role: "Standard User", GroupID: 1003}}
		return st
	}
	enc := func(st State) string {
		var b bytes.Buffer
		if err := st.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	st, err := ReadState(strings.NewReader(enc(good())))
	if err != nil {
		t.Fatalf("good state: %v", err)
	}
	if st.Groups[1].Status != state.StatusActive || st.Users[0].Role != state.RoleStandard || st.Users[0].Status != state.StatusActive {
		t.Errorf("defaults not filled: %+v %+v", st.Groups[1], st.Users[0])
	}
	mod := func(f func(*State)) string {
		st := good()
		f(&st)
		return enc(st)
	}
	cases := []struct {
		name    string
		file    string
		version bool
		want    string
	}{
		{"version 2", strings.Replace(enc(good()), `"version": 1`, `"version": 2`, 1), true, "version 2"},
		{"version 2 with new fields", `{"version": 2, "accounts": []}`, true, "version 2"},
		{"no version", `{"top_group_id": 1001, "groups": []}`, true, "no \"version\""},
		{"not JSON", `this is not JSON`, false, "not a JSON"},
		{"truncated", enc(good())[:100], false, "not a JSON"},
		{"trailing data", enc(good()) + "{}", false, "not a JSON"},
		{"unknown field", strings.Replace(enc(good()), `"version": 1,`, `"version": 1, "colour": "red",`, 1), false, "unknown field"},
		{"no top", mod(func(s *State) { s.TopGroupID = 0 }), false, "no top_group_id"},
		{"top unknown", mod(func(s *State) { s.TopGroupID = 5 }), false, "names no group"},
		{"top with parent", mod(func(s *State) { s.TopGroupID = 1002 }), false, "has a parent"},
		{"duplicate group", mod(func(s *State) { s.Groups[2].ID = 1002 }), false, "duplicate org_unit_id"},
		{"dangling parent", mod(func(s *State) { s.Groups[2].ParentID = 7 }), false, "names no group"},
		{"second root", mod(func(s *State) { s.Groups[1].ParentID = 0 }), false, "not under the top group"},
		{"cycle", mod(func(s *State) { s.Groups[1].ParentID = 1003 }), false, "cycle"},
		{"bad status", mod(func(s *State) { s.Groups[1].Status = "paused" }), false, "org_unit_status"},
		{"empty name", mod(func(s *State) { s.Groups[1].Name = " " }), false, "empty org_unit_name"},
		{"unknown industry", mod(func(s *State) { s.Groups[1].IndustryID = 99 }), false, "industry list"},
		{"bad role", mod(func(s *State) { s.Users[0].Role = "boss" }), false, "unknown role"},
		{"user in no group", mod(func(s *State) { s.Users[0].GroupID = 5 }), false, "names no group"},
		{"duplicate user", mod(func(s *State) { s.Users = append(s.Users, s.Users[0]) }), false, "duplicate ct_user_id"},
		{"shared email", mod(func(s *State) {
			u := s.Users[0]
			u.ID, u.Email = 10002, "A@ACME.example"
			s.Users = append(s.Users, u)
		}), false, "share the email"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadState(strings.NewReader(tt.file))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if errors.Is(err, ErrStateVersion) != tt.version {
				t.Errorf("errors.Is(ErrStateVersion) = %v", !tt.version)
			}
			sb := New(Options{})
			if err := sb.LoadState(strings.NewReader(tt.file)); err == nil {
				t.Error("LoadState accepted it")
			}
			if sb.TopGroupID() != DefaultTopGroupID || len(sb.Snapshot().Groups) != 1 {
				t.Error("a refused load changed the sandbox")
			}
		})
	}
	// A shared email is fine when one of the users is deleted.
	ok := mod(func(s *State) {
		u := s.Users[0]
		u.ID, u.Status = 10002, state.StatusDeleted
		s.Users = append(s.Users, u)
	})
	if _, err := ReadState(strings.NewReader(ok)); err != nil {
		t.Errorf("deleted twin refused: %v", err)
	}
}

func TestStateFromCurrent(t *testing.T) {
	ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	cs := &state.CurrentState{
		RootID: 2000,
		Groups: []state.Group{
			{ID: 2000, ExtID: "ROOT", Name: "Root", ParentID: 1001, Status: state.StatusActive, Created: ts},
			{ID: 2001, ExtID: "K", Name: "Kid", ParentID: 2000, Status: state.StatusInactive, IndustryID: 4, Phone: "+1-212-555-0100"},
		},
		Users:      []state.User{{ID: 7, Email: "x@acme.example", FirstName: "X", LastName: "Y", Role: state.RoleReadOnly, Status: state.StatusActive, GroupID: 2001}},
		Industries: []state.Industry{{ID: 4, Name: "Home Services"}},
	}
	st := statefile.FromCurrent(cs)
	want := State{
		Version: 1, TopGroupID: 2000,
		Groups: []Group{
			{ID: 2000, ExtID: "ROOT", Name: "Root", Status: state.StatusActive, Created: ts},
			{ID: 2001, ExtID: "K", Name: "Kid", ParentID: 2000, Status: state.StatusInactive, IndustryID: 4, Phone: "+1-212-555-0100"},
		},
		Users:      []User{{ID: 7, Email: "x@acme.example", FirstName: "X", LastName: "Y", Role: state.RoleReadOnly, Status: state.StatusActive, GroupID: 2001}},
		Industries: []Industry{{ID: 4, Name: "Home Services"}},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := NewFromState(st, Options{}); err != nil {
		t.Errorf("the exported state does not load: %v", err)
	}
}

func TestSeedingGoesThroughTheRules(t *testing.T) {
	sb := New(Options{})
	top := sb.TopGroupID()
	east, err := sb.AddGroup(top, Group{Name: "East", ExtID: "E"})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name   string
		parent int64
		g      Group
	}{
		{"clash", top, Group{Name: " EAST "}},
		{"unknown parent", 999, Group{Name: "X"}},
		{"no name", top, Group{}},
		{"unknown industry", top, Group{Name: "Y", IndustryID: 99}},
		{"taken id", top, Group{Name: "Z", ID: east}},
		{"bad status", top, Group{Name: "Z", Status: "paused"}},
	}
	for _, tt := range bad {
		if _, err := sb.AddGroup(tt.parent, tt.g); err == nil {
			t.Errorf("AddGroup %s: accepted", tt.name)
		}
	}
	paused, err := sb.AddGroup(top, Group{Name: "Paused", Status: state.StatusInactive, ID: 5000})
	if err != nil || paused != 5000 {
		t.Fatalf("AddGroup inactive: %d, %v", paused, err)
	}
	if _, err := sb.AddGroup(paused, Group{Name: "Kid"}); err == nil {
		t.Error("AddGroup under an inactive parent: accepted")
	}
	if _, err := sb.AddUser(east, User{Email: "a@acme.example", FirstName: "A", LastName: "B"}); err != nil {
		t.Fatal(err)
	}
	badUsers := []struct {
		name  string
		group int64
		u     User
	}{
		{"taken email", east, User{Email: "A@acme.example", FirstName: "A", LastName: "B"}},
		{"bad email", east, User{Email: "nope", FirstName: "A", LastName: "B"}},
		{"no last name", east, User{Email: "c@acme.example", FirstName: "A"}},
		{"inactive group", paused, User{Email: "d@acme.example", FirstName: "A", LastName: "B"}},
		{"bad role", east, User{Email: "e@acme.example", FirstName: "A", LastName: "B", Role: "boss"}},
	}
	for _, tt := range badUsers {
		if _, err := sb.AddUser(tt.group, tt.u); err == nil {
			t.Errorf("AddUser %s: accepted", tt.name)
		}
	}
	if err := sb.SetGroupStatus(east, state.StatusDeleted); err == nil {
		t.Error("SetGroupStatus deleted with an active user: accepted")
	}
	if err := sb.SetGroupStatus(top, state.StatusInactive); err == nil {
		t.Error("SetGroupStatus on the top group: accepted")
	}
	if err := sb.SetGroupStatus(paused, state.StatusDeleted); err != nil {
		t.Error(err)
	}
	if _, err := sb.AddGroup(top, Group{Name: "paused"}); err != nil {
		t.Errorf("a deleted group's name is not free: %v", err)
	}
	if err := sb.SetGroupStatus(paused, state.StatusActive); err == nil {
		t.Error("undeleting onto a taken name: accepted")
	}
}

func TestGenerate(t *testing.T) {
	st := Generate(GenSpec{PerLevel: []int{50, 950, 4000}, Users: 20000, InactiveEvery: 97, InactiveUsersEvery: 13})
	if len(st.Groups) != 5001 || len(st.Users) != 20000 {
		t.Fatalf("%d groups, %d users", len(st.Groups), len(st.Users))
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("generated state is invalid: %v", err)
	}
	if !reflect.DeepEqual(st, Generate(GenSpec{PerLevel: []int{50, 950, 4000}, Users: 20000, InactiveEvery: 97, InactiveUsersEvery: 13})) {
		t.Error("not deterministic")
	}
	// Levels: the 950 level-2 groups are dealt over the 50 level-1 groups.
	kids := map[int64]int{}
	for _, g := range st.Groups[1:51] {
		if g.ParentID != DefaultTopGroupID {
			t.Fatalf("level-1 group %d under %d", g.ID, g.ParentID)
		}
	}
	for _, g := range st.Groups[51:1001] {
		kids[g.ParentID]++
	}
	if len(kids) != 50 || kids[1002] != 19 {
		t.Errorf("level 2 spread over %d parents, %d under 1002", len(kids), kids[1002])
	}
	sb, err := NewFromState(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := &tc{t: t, srv: srv, token: srv.Token(), hc: srv.Client()}
	var ol struct {
		OrgUnits []int64 `json:"orgUnits"`
	}
	c.get("/v3/groups/org-list/", nil).must(t, 200, &ol)
	if len(ol.OrgUnits) != 5001 {
		t.Errorf("org-list has %d ids", len(ol.OrgUnits))
	}
	var up usersPage
	c.get("/v3/users/list", url.Values{"limit": {"200"}}).must(t, 200, &up)
	// Inactive users are listed by default; only deleted ones are hidden.
	if up.Total != 20000 || len(up.Users) != 200 {
		t.Errorf("users: %d of %d", len(up.Users), up.Total)
	}
	c.get("/v3/users/list", url.Values{"user_status": {"inactive"}}).must(t, 200, &up)
	if up.Total != 20000/13 {
		t.Errorf("inactive users: %d, want %d", up.Total, 20000/13)
	}
	// Depth/Fanout form.
	st2 := Generate(GenSpec{Depth: 3, Fanout: 4, Users: 10})
	if len(st2.Groups) != 1+4+16+64 || st2.Users[9].GroupID == 0 {
		t.Errorf("depth/fanout: %d groups", len(st2.Groups))
	}
	if got := Generate(GenSpec{Users: 3}); got.Users[2].GroupID != DefaultTopGroupID {
		t.Error("users of a group-less spec are not in the top group")
	}
}

func TestNewFromStateRefusesBadState(t *testing.T) {
	st := DefaultState()
	st.Version = 3
	if _, err := NewFromState(st, Options{}); !errors.Is(err, ErrStateVersion) {
		t.Errorf("err %v", err)
	}
	st = DefaultState()
	st.Groups = append(st.Groups, Group{ID: 1002, Name: "x", ParentID: 1003}, Group{ID: 1003, Name: "y", ParentID: 1002})
	if _, err := NewFromState(st, Options{}); err == nil {
		t.Error("cycle accepted")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenSpec{PerLevel: []int{50, 950, 4000}, Users: 20000})
	}
}

// BenchmarkListUsersPage reads every user of a 20,000-user account page by
// page at 200 a page, over real HTTP.
func BenchmarkListUsersPage(b *testing.B) {
	sb, err := NewFromState(Generate(GenSpec{PerLevel: []int{50, 950, 4000}, Users: 20000}), Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := StartServer(sb, "")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c := &tc{t: b, srv: srv, token: srv.Token(), hc: srv.Client()}
	for b.Loop() {
		for off := 0; off < 20000; off += 200 {
			c.get("/v3/users/list", url.Values{"limit": {"200"}, "offset": {fmt.Sprint(off)}, "sort_order": {"asc"}})
		}
	}
}

// BenchmarkCreateGroup measures one POST /v3/groups round trip.
func BenchmarkCreateGroup(b *testing.B) {
	srv, c := setup(b, Options{CallLogLimit: -1})
	i := 0
	for b.Loop() {
		i++
		c.do(http.MethodPost, "/v3/groups", map[string]any{"org_unit_name": fmt.Sprintf("G%d", i), "org_unit_parent_id": srv.TopGroupID()})
	}
}
