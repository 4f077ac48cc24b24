package convirzatest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestListChildrenPaging(t *testing.T) {
	st := Generate(GenSpec{PerLevel: []int{1100, 5}})
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

	var ids []int64
	pages := 0
	for offset := 0; ; offset += 200 {
		var p groupsPage
		c.get("/v3/groups/list", url.Values{"limit": {"200"}, "offset": {strconv.Itoa(offset)}}).must(t, 200, &p)
		pages++
		if p.Total != 1100 {
			t.Fatalf("total %d at offset %d, want 1100 (immediate children only)", p.Total, offset)
		}
		for _, g := range p.Groups {
			ids = append(ids, g.ID)
		}
		if len(p.Groups) < 200 {
			break
		}
	}
	if pages != 6 || len(ids) != 1100 {
		t.Fatalf("%d pages, %d groups", pages, len(ids))
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 1100 {
		t.Error("ids are not ascending and unique")
	}
	// The default page is 100 long.
	var p groupsPage
	c.get("/v3/groups/list", nil).must(t, 200, &p)
	if len(p.Groups) != 100 || p.Total != 1100 {
		t.Errorf("default page: %d of %d", len(p.Groups), p.Total)
	}
	// Past the end: an empty page, the same total.
	c.get("/v3/groups/list", url.Values{"offset": {"5000"}}).must(t, 200, &p)
	if len(p.Groups) != 0 || p.Total != 1100 {
		t.Errorf("past the end: %d of %d", len(p.Groups), p.Total)
	}
	// Children of a level-1 group: the 5 level-2 groups are dealt round-robin.
	c.get("/v3/groups/list", url.Values{"org_unit_id": {"1002"}}).must(t, 200, &p)
	if p.Total != 1 {
		t.Errorf("children of 1002: %d, want 1", p.Total)
	}
	for _, bad := range []url.Values{
		{"limit": {"0"}}, {"limit": {"201"}}, {"limit": {"ten"}}, {"limit": {"-5"}},
		{"offset": {"-1"}}, {"offset": {"x"}}, {"org_unit_id": {"abc"}}, {"status": {"gone"}},
	} {
		if r := c.get("/v3/groups/list", bad); r.Status != 400 || len(r.Env.Errors) == 0 {
			t.Errorf("%s: status %d, errors %v, want 400 with a field", bad.Encode(), r.Status, r.Env.Errors)
		}
	}
	for _, good := range []string{"1", "200"} {
		c.get("/v3/groups/list", url.Values{"limit": {good}}).must(t, 200, nil)
	}
}

func TestListChildrenFilters(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	a := c.createGroup(top, "Alpha Sales", nil)
	b := c.createGroup(top, "Beta", nil)
	d := c.createGroup(top, "Delta Sales", nil)
	c.createGroup(a, "Grandchild", nil)
	if err := srv.SetGroupStatus(b, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	c.do(http.MethodDelete, path("/v3/groups/%d", d), nil).must(t, 200, nil)

	ids := func(q url.Values) []int64 {
		var p groupsPage
		c.get("/v3/groups/list", q).must(t, 200, &p)
		var out []int64
		for _, g := range p.Groups {
			out = append(out, g.ID)
		}
		if p.Total != len(out) {
			t.Errorf("%s: total %d for %d rows", q.Encode(), p.Total, len(out))
		}
		return out
	}
	cases := []struct {
		q    url.Values
		want []int64
	}{
		{nil, []int64{a, b}},
		{url.Values{"status": {"active"}}, []int64{a}},
		{url.Values{"status": {"inactive"}}, []int64{b}},
		{url.Values{"status": {"deleted"}}, []int64{d}},
		{url.Values{"group_name": {"sales"}}, []int64{a}},
		{url.Values{"group_name": {"SALES"}, "status": {"deleted"}}, []int64{d}},
		{url.Values{"org_unit_id": {strconv.FormatInt(top, 10)}}, []int64{a, b}},
	}
	for _, tt := range cases {
		if diff := cmp.Diff(tt.want, ids(tt.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q.Encode(), diff)
		}
	}
}

// treeFixture builds: top > East (active) > Boston; top > West (inactive) >
// Seattle (active) > Tacoma; top > Gone (deleted).
func treeFixture(t *testing.T) (*Server, *tc, map[string]int64) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	ids := map[string]int64{"top": top}
	ids["East"] = c.createGroup(top, "East", nil)
	ids["West"] = c.createGroup(top, "West", nil)
	ids["Gone"] = c.createGroup(top, "Gone", nil)
	ids["Boston"] = c.createGroup(ids["East"], "Boston", nil)
	ids["Seattle"] = c.createGroup(ids["West"], "Seattle", nil)
	ids["Tacoma"] = c.createGroup(ids["Seattle"], "Tacoma", nil)
	if err := srv.SetGroupStatus(ids["West"], state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	c.do(http.MethodDelete, path("/v3/groups/%d", ids["Gone"]), nil).must(t, 200, nil)
	return srv, c, ids
}

func TestTreeFlat(t *testing.T) {
	_, c, id := treeFixture(t)
	get := func(active string) []flatNode {
		var tr struct {
			Groups []flatNode `json:"groups"`
		}
		q := url.Values{}
		if active != "" {
			q.Set("active", active)
		}
		c.get("/v3/groups/tree", q).must(t, 200, &tr)
		return tr.Groups
	}
	activeOnly := []flatNode{
		{ID: id["top"], Text: "Acme Corp", Code: "1", Level: 1},
		{ID: id["East"], Text: "East", Code: "1.1", Level: 2},
		{ID: id["Boston"], Text: "Boston", Code: "1.1.1", Level: 3},
	}
	all := []flatNode{
		{ID: id["top"], Text: "Acme Corp", Code: "1", Level: 1},
		{ID: id["East"], Text: "East", Code: "1.1", Level: 2},
		{ID: id["Boston"], Text: "Boston", Code: "1.1.1", Level: 3},
		{ID: id["West"], Text: "West", Code: "1.2", Level: 2},
		{ID: id["Seattle"], Text: "Seattle", Code: "1.2.1", Level: 3},
		{ID: id["Tacoma"], Text: "Tacoma", Code: "1.2.1.1", Level: 4},
	}
	for _, tt := range []struct {
		active string
		want   []flatNode
	}{{"", activeOnly}, {"true", activeOnly}, {"false", all}} {
		if diff := cmp.Diff(tt.want, get(tt.active)); diff != "" {
			t.Errorf("active=%q (-want +got):\n%s", tt.active, diff)
		}
	}
	c.get("/v3/groups/tree", url.Values{"active": {"maybe"}}).must(t, 400, nil)
}

func TestTreeNested(t *testing.T) {
	srv, c, id := treeFixture(t)
	srv.SetShapes(Shapes{NestedTree: true})
	var tr struct {
		Groups []*nestedNode `json:"groups"`
	}
	c.get("/v3/groups/tree", url.Values{"active": {"false"}}).must(t, 200, &tr)
	p := func(n int64) *int64 { return &n }
	want := []*nestedNode{{
		ID: id["top"], Text: "Acme Corp", Name: "Acme Corp", CodedLevel: "1", Status: "active",
		Children: []*nestedNode{
			{ID: id["East"], Text: "East", Name: "East", ParentID: p(id["top"]), CodedLevel: "1.1", Status: "active",
				Children: []*nestedNode{{ID: id["Boston"], Text: "Boston", Name: "Boston", ParentID: p(id["East"]), CodedLevel: "1.1.1", Status: "active", Children: []*nestedNode{}}}},
			{ID: id["West"], Text: "West", Name: "West", ParentID: p(id["top"]), CodedLevel: "1.2", Status: "inactive",
				Children: []*nestedNode{{ID: id["Seattle"], Text: "Seattle", Name: "Seattle", ParentID: p(id["West"]), CodedLevel: "1.2.1", Status: "active",
					Children: []*nestedNode{{ID: id["Tacoma"], Text: "Tacoma", Name: "Tacoma", ParentID: p(id["Seattle"]), CodedLevel: "1.2.1.1", Status: "active", Children: []*nestedNode{}}}}}},
		},
	}}
	if diff := cmp.Diff(want, tr.Groups); diff != "" {
		t.Errorf("nested tree (-want +got):\n%s", diff)
	}
	c.get("/v3/groups/tree", url.Values{"active": {"true"}}).must(t, 200, &tr)
	if n := len(tr.Groups[0].Children); n != 1 || tr.Groups[0].Children[0].ID != id["East"] {
		t.Errorf("active=true keeps %d children of the top", n)
	}
}

func TestOrgList(t *testing.T) {
	_, c, id := treeFixture(t)
	var ol struct {
		OrgUnits []int64 `json:"orgUnits"`
	}
	want := []int64{id["top"], id["East"], id["Boston"], id["West"], id["Seattle"], id["Tacoma"]}
	for _, p := range []string{"/v3/groups/org-list/", "/v3/groups/org-list"} {
		c.get(p, nil).must(t, 200, &ol)
		if diff := cmp.Diff(want, ol.OrgUnits); diff != "" {
			t.Errorf("%s (-want +got):\n%s", p, diff)
		}
	}
	c.get("/v3/groups/org-list/", url.Values{"org_unit_id": {strconv.FormatInt(id["West"], 10)}}).must(t, 200, &ol)
	if diff := cmp.Diff([]int64{id["West"], id["Seattle"], id["Tacoma"]}, ol.OrgUnits); diff != "" {
		t.Errorf("org-list of West (-want +got):\n%s", diff)
	}
	c.get("/v3/groups/org-list/", url.Values{"org_unit_id": {"999999"}}).must(t, 404, nil)
}

func TestGroupDetail(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	id := c.createGroup(top, "East", map[string]any{
		"org_unit_ext_id": "E-1", "address": "1 Elm St", "city": "Salem", "state": "MA", "zip": "01970",
		"phone_number": "(978) 555-0101", "industry_id": 2,
	})
	var g map[string]any
	c.get(path("/v3/groups/%d", id), nil).must(t, 200, &g)
	want := map[string]any{
		"org_unit_id": float64(id), "org_unit_ext_id": "E-1", "org_unit_name": "East",
		"org_unit_parent_id": float64(top), "top_ou_id": float64(top), "org_unit_status": "active",
		"billing_id": float64(5001), "address": "1 Elm St", "city": "Salem", "state": "MA", "zip": "01970",
		"phone_number": "(978) 555-0101", "industry_id": float64(2), "industry_name": "Healthcare",
		"timezone": "America/New_York",
	}
	for _, k := range []string{"org_unit_created", "org_unit_modified"} {
		if _, err := time.Parse(time.RFC3339, g[k].(string)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		delete(g, k)
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	// Empty optional fields are null.
	bare := c.createGroup(top, "Bare", nil)
	c.get(path("/v3/groups/%d", bare), nil).must(t, 200, &g)
	for _, k := range []string{"org_unit_ext_id", "address", "phone_number", "industry_id", "industry_name"} {
		if v, present := g[k]; !present || v != nil {
			t.Errorf("%s = %v, want null", k, v)
		}
	}
	c.get("/v3/groups/abc", nil).must(t, 400, nil)
	c.get("/v3/groups/0", nil).must(t, 400, nil)
}

func TestCreateGroupRules(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	sales := c.createGroup(top, "Sales", nil)
	old := c.createGroup(top, "Old", nil)
	c.do(http.MethodDelete, path("/v3/groups/%d", old), nil).must(t, 200, nil)
	paused := c.createGroup(top, "Paused", nil)
	if err := srv.SetGroupStatus(paused, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"minimal", map[string]any{"org_unit_name": "North", "org_unit_parent_id": top}, 200, ""},
		{"parent synonym", map[string]any{"org_unit_name": "South", "parent_org_unit_id": top}, 200, ""},
		{"every field", map[string]any{"org_unit_name": "Full", "org_unit_parent_id": top, "org_unit_ext_id": "F",
			"address": "a", "city": "c", "state": "MA", "zip": "02110", "phone_number": "+16175550100",
			"industry_id": 10, "top_ou_id": top, "billing_id": 7, "timezone": "America/Chicago"}, 200, ""},
		{"same name elsewhere", map[string]any{"org_unit_name": "Sales", "org_unit_parent_id": sales}, 200, ""},
		{"deleted sibling frees the name", map[string]any{"org_unit_name": "old", "org_unit_parent_id": top}, 200, ""},
		{"name clash", map[string]any{"org_unit_name": "Sales", "org_unit_parent_id": top}, 409, "org_unit_name"},
		{"name clash, case and spaces", map[string]any{"org_unit_name": "  sALES ", "org_unit_parent_id": top}, 409, "org_unit_name"},
		{"no name", map[string]any{"org_unit_parent_id": top}, 400, "org_unit_name"},
		{"blank name", map[string]any{"org_unit_name": "   ", "org_unit_parent_id": top}, 400, "org_unit_name"},
		{"long name", map[string]any{"org_unit_name": strings.Repeat("x", 256), "org_unit_parent_id": top}, 400, "org_unit_name"},
		{"no parent", map[string]any{"org_unit_name": "Lost"}, 400, "org_unit_parent_id"},
		{"unknown parent", map[string]any{"org_unit_name": "Lost", "org_unit_parent_id": 99999}, 400, "org_unit_parent_id"},
		{"inactive parent", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": paused}, 400, "org_unit_parent_id"},
		{"deleted parent", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": old}, 400, "org_unit_parent_id"},
		{"parents disagree", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "parent_org_unit_id": sales}, 400, "org_unit_parent_id"},
		{"unknown field", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "colour": "red"}, 400, "colour"},
		{"read-only field on create", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "org_unit_status": "active"}, 400, "org_unit_status"},
		{"parent as string", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": strconv.FormatInt(top, 10)}, 400, "org_unit_parent_id"},
		{"parent as float", `{"org_unit_name": "Kid", "org_unit_parent_id": 1001.5}`, 400, "org_unit_parent_id"},
		{"name as number", map[string]any{"org_unit_name": 5, "org_unit_parent_id": top}, 400, "org_unit_name"},
		{"null city", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "city": nil}, 400, "city"},
		{"unknown industry", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "industry_id": 999}, 400, "industry_id"},
		{"foreign top", map[string]any{"org_unit_name": "Kid", "org_unit_parent_id": top, "top_ou_id": 7}, 400, "top_ou_id"},
		{"malformed JSON", `{"org_unit_name": "Kid",`, 400, ""},
		{"trailing data", `{"org_unit_name": "Kid", "org_unit_parent_id": 1001} {}`, 400, ""},
		{"array", `[{"org_unit_name": "Kid"}]`, 400, ""},
		{"null", `null`, 400, ""},
		{"empty body", ``, 400, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Snapshot().Groups)
			r := c.do(http.MethodPost, "/v3/groups", tt.body).must(t, tt.status, nil)
			after := len(srv.Snapshot().Groups)
			if tt.status == 200 && after != before+1 || tt.status != 200 && after != before {
				t.Errorf("groups %d -> %d", before, after)
			}
			if tt.field != "" && (len(r.Env.Errors) == 0 || r.Env.Errors[0].Field != tt.field) {
				t.Errorf("errors %+v, want field %q", r.Env.Errors, tt.field)
			}
			if tt.status == 400 && r.Env.Message == "" {
				t.Error("no message")
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		chi := c.createGroup(top, "Chicago", map[string]any{"timezone": "America/Chicago", "billing_id": 77})
		kid := c.createGroup(chi, "Loop", nil)
		g, _ := srv.Group(kid)
		if g.Timezone != "America/Chicago" || g.BillingID != 77 || g.Status != state.StatusActive || g.ParentID != chi {
			t.Errorf("child does not inherit: %+v", g)
		}
	})
	t.Run("malformed JSON message", func(t *testing.T) {
		r := c.do(http.MethodPost, "/v3/groups", `{"org_unit_name": }`).must(t, 400, nil)
		if !strings.Contains(r.Env.Message, "malformed JSON") {
			t.Errorf("message %q", r.Env.Message)
		}
	})
}

func TestPatchGroupRules(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	west := c.createGroup(top, "West", nil)
	boston := c.createGroup(east, "Boston", nil)
	salem := c.createGroup(boston, "Salem", nil)
	c.createGroup(west, "Boston", nil) // the same name in another branch
	old := c.createGroup(top, "Old", nil)
	c.do(http.MethodDelete, path("/v3/groups/%d", old), nil).must(t, 200, nil)
	paused := c.createGroup(top, "Paused", nil)
	if err := srv.SetGroupStatus(paused, state.StatusInactive); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		id     int64
		body   any
		status int
	}{
		{"empty object", east, map[string]any{}, 400},
		{"empty body", east, ``, 400},
		{"only read-only fields", east, map[string]any{"org_unit_status": "inactive", "org_unit_id": 5}, 400},
		{"unknown field", east, map[string]any{"city": "x", "colour": "red"}, 400},
		{"deleted group", old, map[string]any{"city": "x"}, 400},
		{"unknown group", 999999, map[string]any{"city": "x"}, 404},
		{"rename clash", east, map[string]any{"org_unit_name": "west"}, 409},
		{"rename clash with spaces", east, map[string]any{"org_unit_name": " WEST  "}, 409},
		{"rename onto a deleted sibling's name", east, map[string]any{"org_unit_name": "OLD"}, 200},
		{"rename back", east, map[string]any{"org_unit_name": "East"}, 200},
		{"change of case only", east, map[string]any{"org_unit_name": "EAST"}, 200},
		{"blank name", east, map[string]any{"org_unit_name": " "}, 400},
		{"move clash", boston, map[string]any{"org_unit_parent_id": west}, 409},
		{"move and rename", boston, map[string]any{"org_unit_parent_id": west, "org_unit_name": "Boston 2"}, 200},
		{"move back", boston, map[string]any{"org_unit_parent_id": east, "org_unit_name": "Boston"}, 200},
		{"move under itself", east, map[string]any{"org_unit_parent_id": east}, 400},
		{"move under its child", east, map[string]any{"org_unit_parent_id": boston}, 400},
		{"move under its grandchild", east, map[string]any{"org_unit_parent_id": salem}, 400},
		{"move under inactive", boston, map[string]any{"org_unit_parent_id": paused}, 400},
		{"move under deleted", boston, map[string]any{"org_unit_parent_id": old}, 400},
		{"move under unknown", boston, map[string]any{"org_unit_parent_id": 999999}, 400},
		{"move the top", top, map[string]any{"org_unit_parent_id": east}, 400},
		{"unknown industry", east, map[string]any{"industry_id": 999}, 400},
		{"wrong type", east, map[string]any{"zip": 2110}, 400},
		{"clear a field", east, map[string]any{"address": ""}, 200},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Snapshot()
			c.do(http.MethodPatch, path("/v3/groups/%d", tt.id), tt.body).must(t, tt.status, nil)
			if tt.status != 200 {
				if diff := cmp.Diff(before, srv.Snapshot()); diff != "" {
					t.Errorf("a refused PATCH changed the state:\n%s", diff)
				}
			}
		})
	}
	t.Run("read-only fields are ignored", func(t *testing.T) {
		before, _ := srv.Group(east)
		time.Sleep(2 * time.Millisecond)
		c.do(http.MethodPatch, path("/v3/groups/%d", east), map[string]any{
			"city": "Worcester", "org_unit_status": "deleted", "org_unit_id": 1, "top_ou_id": 9, "billing_id": 9,
			"timezone": "Europe/Paris", "industry_name": "x", "org_unit_created": "2000-01-01T00:00:00Z",
			"group_modified": "2000-01-01T00:00:00Z",
		}).must(t, 200, nil)
		g, _ := srv.Group(east)
		want := before
		want.City = "Worcester"
		want.Modified = g.Modified
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("group (-want +got):\n%s", diff)
		}
		if !g.Modified.After(before.Modified) {
			t.Error("modified was not set by the server")
		}
	})
	t.Run("a move shows in the listings", func(t *testing.T) {
		c.do(http.MethodPatch, path("/v3/groups/%d", salem), map[string]any{"org_unit_parent_id": west}).must(t, 200, nil)
		var p groupsPage
		c.get("/v3/groups/list", url.Values{"org_unit_id": {strconv.FormatInt(west, 10)}}).must(t, 200, &p)
		var names []string
		for _, g := range p.Groups {
			names = append(names, g.Name)
		}
		// Sorted by id: Salem was created before West's Boston.
		if diff := cmp.Diff([]string{"Salem", "Boston"}, names); diff != "" {
			t.Errorf("children of West (-want +got):\n%s", diff)
		}
		c.get("/v3/groups/list", url.Values{"org_unit_id": {strconv.FormatInt(boston, 10)}}).must(t, 200, &p)
		if p.Total != 0 {
			t.Errorf("Boston still has %d children", p.Total)
		}
	})
}

func TestDeleteGroupRules(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	east := c.createGroup(top, "East", nil)
	boston := c.createGroup(east, "Boston", nil)
	uid := c.createUser(east, "u@acme.example", nil)
	idle := c.createUser(east, "idle@acme.example", map[string]any{"user_status": "inactive"})
	_ = idle
	del := func(id int64) *resp { return c.do(http.MethodDelete, path("/v3/groups/%d", id), nil) }

	del(east).must(t, 400, nil) // a live child
	del(boston).must(t, 200, nil)
	r := del(east).must(t, 400, nil) // an active user
	if !strings.Contains(r.Env.Message, "active users") {
		t.Errorf("message %q", r.Env.Message)
	}
	c.do(http.MethodPatch, path("/v3/users/%d", uid), map[string]any{"user_status": "inactive"}).must(t, 200, nil)
	del(east).must(t, 200, nil) // inactive users do not block
	del(east).must(t, 404, nil)
	del(top).must(t, 400, nil)
	del(999999).must(t, 404, nil)

	var g map[string]any
	c.get(path("/v3/groups/%d", east), nil).must(t, 200, &g)
	if g["org_unit_status"] != "deleted" {
		t.Errorf("a deleted group reads %v", g["org_unit_status"])
	}
	var p groupsPage
	c.get("/v3/groups/list", nil).must(t, 200, &p)
	if p.Total != 0 {
		t.Errorf("the listing shows %d deleted groups", p.Total)
	}
	c.get("/v3/groups/list", url.Values{"status": {"deleted"}}).must(t, 200, &p)
	if p.Total != 1 || p.Groups[0].ID != east {
		t.Errorf("status=deleted: %+v", p)
	}
	var ol struct {
		OrgUnits []int64 `json:"orgUnits"`
	}
	c.get("/v3/groups/org-list/", nil).must(t, 200, &ol)
	if diff := cmp.Diff([]int64{top}, ol.OrgUnits); diff != "" {
		t.Errorf("org-list (-want +got):\n%s", diff)
	}
}

func TestIndustries(t *testing.T) {
	srv, c := setup(t, Options{})
	var list []Industry
	c.get("/v3/industry", nil).must(t, 200, &list)
	if diff := cmp.Diff(DefaultIndustries(), list); diff != "" {
		t.Errorf("industries (-want +got):\n%s", diff)
	}
	if len(list) < 20 {
		t.Errorf("%d industries", len(list))
	}
	srv.SetShapes(Shapes{WrappedIndustries: true})
	var wrapped struct {
		Industries []Industry `json:"industries"`
	}
	c.get("/v3/industry", nil).must(t, 200, &wrapped)
	if diff := cmp.Diff(DefaultIndustries(), wrapped.Industries); diff != "" {
		t.Errorf("wrapped industries (-want +got):\n%s", diff)
	}
	c.do(http.MethodPost, "/v3/industry", map[string]any{"industry_name": "x"}).must(t, 405, nil)
}

func TestShapes(t *testing.T) {
	srv, c := setup(t, Options{})
	top := srv.TopGroupID()
	gid := c.createGroup(top, "East", map[string]any{"phone_number": "(212) 555 0100"})
	uid := c.createUser(gid, "u@acme.example", nil)

	var g map[string]any
	c.get(path("/v3/groups/%d", gid), nil).must(t, 200, &g)
	if g["org_unit_id"] != float64(gid) || g["phone_number"] != "(212) 555 0100" {
		t.Errorf("default detail: %v", g)
	}
	if _, has := g["group_created"]; has {
		t.Error("default shape has group_created")
	}

	srv.SetShapes(Shapes{WrappedGroupDetail: true, WrappedUserDetail: true, GroupTimestampNames: true, PhoneDashes: true})
	var wg struct {
		Group map[string]any `json:"group"`
	}
	c.get(path("/v3/groups/%d", gid), nil).must(t, 200, &wg)
	if wg.Group["org_unit_id"] != float64(gid) {
		t.Errorf("wrapped detail: %v", wg)
	}
	_, hasG := wg.Group["group_created"]
	_, hasOU := wg.Group["org_unit_created"]
	if !hasG || hasOU {
		t.Errorf("timestamp names: group_created %v, org_unit_created %v", hasG, hasOU)
	}
	var wu struct {
		User map[string]any `json:"user"`
	}
	c.get(path("/v3/users/%d", uid), nil).must(t, 200, &wu)
	if wu.User["ct_user_id"] != float64(uid) {
		t.Errorf("wrapped user: %v", wu)
	}
	c.do(http.MethodPatch, path("/v3/groups/%d", gid), map[string]any{"phone_number": "2125550199"}).must(t, 200, nil)
	if got, _ := srv.Group(gid); got.Phone != "+1-212-555-0199" {
		t.Errorf("dashed phone %q", got.Phone)
	}
	c.do(http.MethodPatch, path("/v3/groups/%d", gid), map[string]any{"phone_number": "+44 20 7946 0958"}).must(t, 200, nil)
	if got, _ := srv.Group(gid); got.Phone != "+44 20 7946 0958" {
		t.Errorf("foreign phone rewritten to %q", got.Phone)
	}
}
