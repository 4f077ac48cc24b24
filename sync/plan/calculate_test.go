package plan

import (
	"fmt"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/google/go-cmp/cmp"
)

func TestCalculateRules(t *testing.T) {
	mirror := Options{Policy: PolicyMirror}
	lenient := Options{Policy: PolicyMirror, MaxInvalid: CountLimit(5)}
	tests := []struct {
		name string
		cur  *state.CurrentState
		des  *state.DesiredState
		opts Options
		want []string
	}{
		{
			name: "adoption: same name under the resolved parent, no ext id",
			cur:  cur(grp(2, 1, "", "Boston"), grp(3, 1, "OTHER", "Chicago")),
			des: func() *state.DesiredState {
				d := dg("B1", " boston ", "")
				d.City = ptr("Boston City")
				return des(d, dg("OTHER", "Chicago", ""))
			}(),
			want: []string{"1 adopt group B1 {city:->Boston City org_unit_ext_id:->B1 org_unit_name:Boston->boston}"},
		},
		{
			name: "adoption below an adopted parent",
			cur:  cur(grp(2, 1, "", "East"), grp(3, 2, "", "Boston")),
			des:  des(dg("E", "East", ""), dg("B", "Boston", "E")),
			want: []string{
				"1 adopt group E {org_unit_ext_id:->E}",
				"2 adopt group B {org_unit_ext_id:->B}",
			},
		},
		{
			name: "two current groups with one ext id: the key and its subtree rows are invalid",
			cur:  cur(grp(2, 1, "A", "A1"), grp(3, 1, "A", "A2"), grp(4, 2, "C", "C")),
			des:  des(dg("A", "A1", ""), dg("C", "C", "A"), dg("D", "D", "C"), dg("E", "E", "")),
			want: []string{
				"1 create group E {org_unit_ext_id=E org_unit_name=E org_unit_parent_id=1}",
				`invalid group A [org_unit_ext_id]: 2 groups in Convirza have org_unit_ext_id "A" (id 2, id 3); refusing to guess`,
				`invalid group C [parent_ext_id]: parent row "A" is invalid`,
				`invalid group D [parent_ext_id]: parent row "C" is invalid`,
			},
		},
		{
			name: "an inactive group the export wants is a conflict, not a create",
			cur:  cur(inactive(grp(2, 1, "A", "A")), grp(3, 2, "B", "B")),
			des:  des(dg("A", "A", ""), dg("B", "B2", "A")),
			want: []string{
				`invalid group A [org_unit_ext_id]: group 2 ("A") is inactive in Convirza; its status cannot be written, so it is neither changed nor created again`,
				`invalid group B [parent_ext_id]: parent row "A" is invalid`,
			},
		},
		{
			name: "an inactive nameless group in the way of adoption is a conflict",
			cur:  cur(inactive(grp(2, 1, "", "Boston"))),
			des:  des(dg("B", "Boston", "")),
			want: []string{`invalid group B [org_unit_name]: group 2 ("Boston") under ROOT would be adopted, but it is inactive in Convirza; its status cannot be written`},
		},
		{
			name: "groups and users outside the root are never read or touched",
			cur: withUsers(cur(grp(2, 1, "IN", "In"), grp(50, 99, "X", "X"), grp(51, 50, "Y", "Y"), grp(99, 0, "TOP", "Top")),
				usr(7, 51, "out@x.com", state.RoleAdmin)),
			des:  withDesiredUsers(des(dg("IN", "In", ""), dg("X", "X", "")), nu("new@x.com", "IN")),
			opts: mirror,
			want: []string{
				"1 create group X {org_unit_ext_id=X org_unit_name=X org_unit_parent_id=1}",
				"2 create user new@x.com {ct_user_ou_id=2 first_name=New last_name=User role=Standard username=new@x.com}",
			},
		},
		{
			name: "minimal diff: formats that normalize alike are no change; a PATCH holds only what changed",
			cur: func() *state.CurrentState {
				a := grp(2, 1, "A", "Main  Office")
				a.Phone, a.State, a.Zip, a.Address, a.City = "+1 (617) 555-0142", "Massachusetts", "2134", "1  Main St\n", "Boston"
				b := grp(3, 1, "B", "Branch")
				b.Phone, b.State, b.City, b.IndustryID, b.IndustryName = "+1-617-555-0100", "ma", "Cambridge", 10, "Technology"
				return cur(a, b)
			}(),
			des: func() *state.DesiredState {
				a := dg("A", "Main Office", "")
				a.Phone, a.State, a.Zip, a.Address = ptr("617-555-0142"), ptr("MA"), ptr("02134"), ptr("1 Main St")
				b := dg("B", "Branch", "")
				b.Phone, b.State, b.City, b.Industry = ptr("(617) 555-0199"), ptr("MA"), ptr(""), ptr("technology")
				return des(a, b)
			}(),
			want: []string{"1 update group B {city:Cambridge-> phone_number:+1-617-555-0100->+16175550199}"},
		},
		{
			name: "export rows: duplicate ext ids, a parent cycle, a missing parent, the root's ext id",
			cur:  cur(grp(2, 1, "A", "A")),
			des: des(dg("D", "D1", ""), dg("D", "D2", ""), dg("X", "X", "Y"), dg("Y", "Y", "X"), dg("Z", "Z", "NOPE"),
				dg("ROOT", "R", ""), dg("K", "K", "ROOT"), dg("A", "A", "")),
			want: []string{
				"1 create group K {org_unit_ext_id=K org_unit_name=K org_unit_parent_id=1}",
				`invalid group D [org_unit_ext_id]: duplicate org_unit_ext_id "D", also at groups.csv:3`,
				`invalid group D [org_unit_ext_id]: duplicate org_unit_ext_id "D", also at groups.csv:2`,
				`invalid group X [parent_ext_id]: parent cycle through "X"`,
				`invalid group Y [parent_ext_id]: parent cycle through "X"`,
				`invalid group Z [parent_ext_id]: parent_ext_id "NOPE" names no row of the export and is not the root's ext id`,
				`invalid group ROOT [org_unit_ext_id]: "ROOT" is the root group's ext id; the root is never a row`,
			},
		},
		{
			name: "users without a groups export match groups that exist in Convirza",
			cur:  withUsers(cur(grp(2, 1, "A", "A")), usr(7, 1, "u7@x.com", state.RoleStandard)),
			des: func() *state.DesiredState {
				bad := du("r@x.com", "")
				bad.Role = ptr(state.Role("superuser"))
				return withDesiredUsers(&state.DesiredState{}, du("u7@x.com", "A"), du("n@x.com", "NOPE"), bad)
			}(),
			want: []string{
				"1 update user u7@x.com {ct_user_ou_id:1->2}",
				`invalid user n@x.com [group_ext_id]: no group under the root has org_unit_ext_id "NOPE"`,
				`invalid user r@x.com [role]: unknown role "superuser"`,
			},
		},
		{
			name: "users by user_ext_id: an email held by a user with another ext id is a conflict",
			cur: func() *state.CurrentState {
				u := usr(7, 1, "a@x.com", state.RoleStandard)
				u.ExtID = "U7"
				return withUsers(cur(), u)
			}(),
			des: func() *state.DesiredState {
				a := du("A@x.com", "")
				a.ExtID = ptr("U9")
				d := withDesiredUsers(des(), a)
				d.UserMatch = state.MatchExtID
				return d
			}(),
			want: []string{`invalid user U9 [email]: email A@x.com belongs to user 7, whose user_ext_id is "U7"`},
		},
		{
			name: "an unknown industry is a row error with its line",
			cur:  cur(grp(2, 1, "A", "A")),
			des: func() *state.DesiredState {
				a := dg("A", "A", "")
				a.Industry = ptr("Widgets")
				return des(a, dg("B", "B", "A"))
			}(),
			want: []string{
				`invalid group A [industry]: unknown industry "Widgets" (Convirza has no industry like it): to map it, add to the mapping's groups: industries: {Widgets: NAME}, with NAME one of Convirza's 3 industries`,
				`invalid group B [parent_ext_id]: parent row "A" is invalid`,
			},
		},
		{
			name: "industry synonyms: a CRM word to a name or to an id",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")),
			des: func() *state.DesiredState {
				a, b := dg("A", "A", ""), dg("B", "B", "")
				a.Industry, b.Industry = ptr("Food &  Beverage"), ptr("Med")
				d := des(a, b)
				d.IndustrySynonyms = map[string]string{"food & beverage": "Restaurants", "med": "11"}
				return d
			}(),
			want: []string{
				"1 update group A {industry_id:->12}",
				"2 update group B {industry_id:->11}",
			},
		},
		{
			name: "creates go parent first, whatever the row order; a child of a new group refers to it",
			cur:  cur(),
			des:  des(dg("C", "C", "B"), dg("B", "B", "A"), dg("A", "A", "")),
			want: []string{
				"1 create group A {org_unit_ext_id=A org_unit_name=A org_unit_parent_id=1}",
				"2 create group B {org_unit_ext_id=B org_unit_name=B org_unit_parent_id=} under new A after [1]",
				"3 create group C {org_unit_ext_id=C org_unit_name=C org_unit_parent_id=} under new B after [2]",
			},
		},
		{
			name: "a parent change is a move, apart from the field update of the same group",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B"), grp(4, 2, "C", "C")),
			des: func() *state.DesiredState {
				c := dg("C", "C", "B")
				c.City = ptr("Lowell")
				return des(dg("A", "A", ""), dg("B", "B", ""), c)
			}(),
			want: []string{
				"1 update group C {city:->Lowell}",
				"2 move group C {org_unit_parent_id:2->3} after [1]",
			},
		},
		{
			name: "A moves under B while B leaves A: no cycle at any step",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 2, "B", "B")),
			des:  des(dg("A", "A", "B"), dg("B", "B", "")),
			want: []string{
				"1 move group B {org_unit_parent_id:2->1}",
				"2 move group A {org_unit_parent_id:1->3} after [1]",
			},
		},
		{
			name: "update-only: a group cannot move under its own child when that child cannot move",
			cur:  cur(grp(2, 1, "X", "X"), grp(3, 2, "Y", "Y")),
			des:  des(dg("N", "N", ""), dg("Y", "Y", "N"), dg("X", "X", "Y")),
			opts: Options{Policy: PolicyUpdateOnly},
			want: []string{`invalid group X [parent_ext_id]: moving under Y would put the group below itself: not every group on the way can move as the export says under the update-only policy`},
		},
		{
			name: "deletes go leaf first, each after the deletes below it",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 2, "B", "B"), grp(4, 3, "C", "C"), grp(5, 2, "D", "D"), grp(6, 1, "K", "K")),
			des:  des(dg("K", "K", "")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 delete group C",
				"2 delete group B after [1]",
				"3 delete group D",
				"4 delete group A after [2 3]",
			},
		},
		{
			name: "a swap of names goes through a temporary name",
			cur:  cur(grp(2, 1, "A", "Alpha"), grp(3, 1, "B", "Beta")),
			des:  des(dg("A", "Beta", ""), dg("B", "Alpha", "")),
			want: []string{
				"1 rename group B {org_unit_name:Beta->Beta (renaming fb85)}",
				"2 rename group A {org_unit_name:Alpha->Beta} after [1]",
				"3 rename group B {org_unit_name:Beta (renaming fb85)->Alpha} after [1 2]",
			},
		},
		{
			name: "a rename cycle of three needs one temporary name",
			cur:  cur(grp(2, 1, "A", "One"), grp(3, 1, "B", "Two"), grp(4, 1, "C", "Three")),
			des:  des(dg("A", "Two", ""), dg("B", "Three", ""), dg("C", "One", "")),
			want: []string{
				"1 rename group B {org_unit_name:Two->Two (renaming fb85)}",
				"2 rename group A {org_unit_name:One->Two} after [1]",
				"3 rename group C {org_unit_name:Three->One} after [2]",
				"4 rename group B {org_unit_name:Two (renaming fb85)->Three} after [1 3]",
			},
		},
		{
			name: "a case-only rename is a rename in place",
			cur:  cur(grp(2, 1, "A", "boston")),
			des:  des(dg("A", "Boston", "")),
			want: []string{"1 rename group A {org_unit_name:boston->Boston}"},
		},
		{
			name: "a move into a parent where the name is taken waits for the rename that frees it",
			cur:  cur(grp(2, 1, "P1", "P1"), grp(3, 1, "P2", "P2"), grp(4, 2, "X1", "X"), grp(5, 3, "X2", "X")),
			des:  des(dg("P1", "P1", ""), dg("P2", "P2", ""), dg("X1", "X", "P2"), dg("X2", "Y", "P2")),
			want: []string{
				"1 rename group X2 {org_unit_name:X->Y}",
				"2 move group X1 {org_unit_parent_id:2->3} after [1]",
			},
		},
		{
			name: "two groups that trade parents under one name: temporary name, move, final name",
			cur:  cur(grp(2, 1, "P1", "P1"), grp(3, 1, "P2", "P2"), grp(4, 2, "X1", "X"), grp(5, 3, "X2", "X")),
			des:  des(dg("P1", "P1", ""), dg("P2", "P2", ""), dg("X1", "X", "P2"), dg("X2", "X", "P1")),
			want: []string{
				"1 rename group X2 {org_unit_name:X->X (renaming 5b0f)}",
				"2 move group X1 {org_unit_parent_id:2->3} after [1]",
				"3 move group X2 {org_unit_parent_id:3->2} after [1]",
				"4 rename group X2 {org_unit_name:X (renaming 5b0f)->X} after [2 3]",
			},
		},
		{
			name: "a name held by a group that stays is a row error",
			cur:  cur(grp(2, 1, "A", "Boston"), grp(3, 1, "B", "Chicago"), grp(4, 1, "", "Denver"), grp(5, 1, "E", "Erie")),
			des:  des(dg("B", "boston", ""), dg("E", "Denver", "")),
			want: []string{
				`invalid group B [org_unit_name]: the name "boston" under ROOT is taken by group 2 (ext id "A"), which the plan does not move, rename or delete`,
				`invalid group E [org_unit_name]: the name "Denver" under ROOT is taken by group 4 (no ext id), which the plan does not move, rename or delete`,
			},
		},
		{
			name: "two rows that want one name under one parent are both invalid",
			cur:  cur(grp(2, 1, "A", "Boston"), grp(3, 1, "B", "Chicago")),
			des:  des(dg("A", "Boston", ""), dg("B", "boston", ""), dg("C", "C", "A"), dg("N", "N", ""), dg("M", "n", "")),
			want: []string{
				`invalid group A [org_unit_name]: the name "boston" under ROOT is also wanted by row groups.csv:3`,
				`invalid group B [org_unit_name]: the name "boston" under ROOT is also wanted by row groups.csv:2`,
				`invalid group C [parent_ext_id]: parent row "A" is invalid`,
				`invalid group N [org_unit_name]: the name "n" under ROOT is also wanted by row groups.csv:6`,
				`invalid group M [org_unit_name]: the name "n" under ROOT is also wanted by row groups.csv:5`,
			},
		},
		{
			name: "a departed group frees its name for a new one in mirror mode",
			cur:  cur(grp(2, 1, "OLD", "Boston")),
			des:  des(dg("NEW", "Boston", "")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 delete group OLD",
				"2 create group NEW {org_unit_ext_id=NEW org_unit_name=Boston org_unit_parent_id=1} after [1]",
			},
		},
		{
			name: "users match by email ignoring case; a new user is created after its new group",
			cur: withUsers(cur(grp(2, 1, "A", "A")),
				usr(7, 2, "Ann@X.com", state.RoleStandard), usr(8, 2, "bob@x.com", state.RoleStandard)),
			des: func() *state.DesiredState {
				a := du("ann@x.com", "A")
				a.FirstName, a.Role = ptr("Annie"), ptr(state.Role("Administrator"))
				b := du("bob@x.com", "A")
				b.LastName = ptr("L8")
				return withDesiredUsers(des(dg("A", "A", ""), dg("N", "N", "A")), a, b, nu("cy@x.com", "N"))
			}(),
			want: []string{
				"1 create group N {org_unit_ext_id=N org_unit_name=N org_unit_parent_id=2}",
				"2 update user ann@x.com {first_name:F7->Annie role:Standard->Admin}",
				"3 create user cy@x.com {ct_user_ou_id= first_name=New last_name=User role=Standard username=cy@x.com} under new N after [1]",
			},
		},
		{
			name: "users match by user_ext_id: a changed email is a new username",
			cur: func() *state.CurrentState {
				u := usr(7, 2, "old@x.com", state.RoleStandard)
				u.ExtID = "U7"
				v := usr(8, 2, "noext@x.com", state.RoleStandard)
				return withUsers(cur(grp(2, 1, "A", "A")), u, v)
			}(),
			des: func() *state.DesiredState {
				a, b := du("New@x.com", "A"), du("NOEXT@x.com", "A")
				a.ExtID, b.ExtID = ptr("U7"), ptr("U8")
				d := withDesiredUsers(des(dg("A", "A", "")), a, b)
				d.UserMatch = state.MatchExtID
				return d
			}(),
			want: []string{
				"1 update user U7 {username:old@x.com->New@x.com}",
				"2 update user U8 {user_ext_id:->U8}",
			},
		},
		{
			name: "a deactivated user back in the export is reactivated, with its diffs in the same PATCH",
			cur: func() *state.CurrentState {
				u := usr(7, 2, "ann@x.com", state.RoleStandard)
				u.Status = state.StatusInactive
				return withUsers(cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")), u)
			}(),
			des: func() *state.DesiredState {
				a := du("ann@x.com", "B")
				a.LastName = ptr("Lee")
				return withDesiredUsers(des(dg("A", "A", ""), dg("B", "B", "")), a)
			}(),
			want: []string{"1 reactivate user ann@x.com {ct_user_ou_id:2->3 last_name:L7->Lee user_status:inactive->active}"},
		},
		{
			name: "the caller's own user is never written: not demoted, not moved, not renamed",
			cur: func() *state.CurrentState {
				c := withUsers(cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")), usr(7, 2, "me@x.com", state.RoleAdmin))
				c.CallerUserID = 7
				return c
			}(),
			des: func() *state.DesiredState {
				a := du("me@x.com", "B")
				a.FirstName, a.Role = ptr("Me"), ptr(state.RoleReadOnly)
				return withDesiredUsers(des(dg("A", "A", ""), dg("B", "B", "")), a)
			}(),
			want: []string{
				"refused 1 update user me@x.com {ct_user_ou_id:2->3 first_name:F7->Me role:Admin->ReadOnly}: refused: the caller's own user is never written",
			},
		},
		{
			name: "the caller's own user is never deactivated, so its group is not deleted either",
			cur: func() *state.CurrentState {
				c := withUsers(cur(grp(2, 1, "A", "A"), grp(3, 2, "B", "B")), usr(7, 3, "me@x.com", state.RoleAdmin), usr(8, 3, "x@x.com", state.RoleStandard))
				c.CallerUserID = 7
				return c
			}(),
			des:  withDesiredUsers(des(dg("K", "K", "")), nu("y@x.com", "")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 create group K {org_unit_ext_id=K org_unit_name=K org_unit_parent_id=1}",
				"2 create user y@x.com {ct_user_ou_id=1 first_name=New last_name=User role=Standard username=y@x.com}",
				"3 deactivate user x@x.com {user_status:active->inactive}",
				"refused 4 deactivate user me@x.com {user_status:active->inactive}: refused: the caller's own user is never deactivated",
				"refused 5 delete group B: not deleted: it holds the caller's own user, who is never deactivated or moved",
				"refused 6 delete group A: not deleted: group B below it cannot be deleted",
			},
		},
		{
			name: "mirror deactivates departed users before it deletes their group",
			cur: withUsers(cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")),
				usr(7, 3, "gone@x.com", state.RoleStandard), usr(8, 3, "stay@x.com", state.RoleStandard)),
			des:  withDesiredUsers(des(dg("A", "A", "")), du("stay@x.com", "A")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 update user stay@x.com {ct_user_ou_id:3->2}",
				"2 deactivate user gone@x.com {user_status:active->inactive}",
				"3 delete group B after [1 2]",
			},
		},
		{
			name: "users not managed: a group that still has active users is not deleted, nor its parent",
			cur: withUsers(cur(grp(2, 1, "A", "A"), grp(3, 2, "B", "B"), grp(4, 2, "C", "C"), grp(5, 1, "K", "K")),
				usr(7, 3, "u@x.com", state.RoleStandard), func() state.User {
					u := usr(8, 4, "v@x.com", state.RoleStandard)
					u.Status = state.StatusInactive
					return u
				}()),
			des:  des(dg("K", "K", "")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 delete group C",
				"refused 2 delete group B: not deleted: it still has 1 active users, and users are not managed (--users)",
				"refused 3 delete group A: not deleted: group B below it cannot be deleted",
			},
		},
		{
			name: "a group that holds a group without an ext id is not deleted",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 2, "", "Manual")),
			des:  des(dg("K", "K", "")),
			opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			want: []string{
				"1 create group K {org_unit_ext_id=K org_unit_name=K org_unit_parent_id=1}",
				`refused 2 delete group A: not deleted: it holds group "Manual", which has no ext id and is not owned`,
			},
		},
		{
			name: "any invalid row turns deletes and deactivations off",
			cur: withUsers(cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")),
				usr(7, 3, "gone@x.com", state.RoleStandard)),
			des: func() *state.DesiredState {
				a := dg("A", "A", "")
				a.Industry = ptr("Widgets")
				return withDesiredUsers(des(a, dg("K", "K", "")), nu("new@x.com", "K"))
			}(),
			opts: lenient,
			want: []string{
				"1 create group K {org_unit_ext_id=K org_unit_name=K org_unit_parent_id=1}",
				"2 create user new@x.com {ct_user_ou_id= first_name=New last_name=User role=Standard username=new@x.com} under new K after [1]",
				`invalid group A [industry]: unknown industry "Widgets" (Convirza has no industry like it): to map it, add to the mapping's groups: industries: {Widgets: NAME}, with NAME one of Convirza's 3 industries`,
			},
		},
		{
			name: "rows the loader found invalid make their children invalid, and deletes off",
			cur:  cur(grp(2, 1, "A", "A"), grp(3, 1, "B", "B")),
			des: func() *state.DesiredState {
				d := des(dg("C", "C", "A"))
				d.Invalid = []state.Problem{{Source: state.Source{File: "groups.csv", Line: 3}, Kind: "group", Key: "A", Column: "phone_number", Severity: state.SeverityError, Message: "bad phone"}}
				return d
			}(),
			opts: lenient,
			want: []string{
				"invalid group A [phone_number]: bad phone",
				`invalid group C [parent_ext_id]: parent row "A" is invalid`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, tt.des, tt.cur, tt.opts)
			if diff := cmp.Diff(tt.want, summary(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			// determinism: the same inputs give the same plan
			again := mustPlan(t, tt.des, tt.cur, tt.opts)
			if diff := cmp.Diff(p, again); diff != "" {
				t.Errorf("a second Calculate differs (-first +second):\n%s", diff)
			}
		})
	}
}

func TestPolicies(t *testing.T) {
	c := withUsers(cur(grp(2, 1, "A", "A"), grp(3, 1, "GONE", "Gone"), grp(4, 1, "", "Manual")),
		usr(7, 2, "keep@x.com", state.RoleStandard), usr(8, 2, "left@x.com", state.RoleStandard))
	d := func() *state.DesiredState {
		k := du("keep@x.com", "A")
		k.LastName = ptr("Keeper")
		return withDesiredUsers(des(dg("A", "A2", ""), dg("N", "N", "")), k, nu("new@x.com", "N"))
	}
	tests := []struct {
		policy Policy
		want   []string
	}{
		{PolicyUpsert, []string{
			"1 rename group A {org_unit_name:A->A2}",
			"2 create group N {org_unit_ext_id=N org_unit_name=N org_unit_parent_id=1}",
			"3 update user keep@x.com {last_name:L7->Keeper}",
			"4 create user new@x.com {ct_user_ou_id= first_name=New last_name=User role=Standard username=new@x.com} under new N after [2]",
		}},
		{PolicyCreateOnly, []string{
			"1 create group N {org_unit_ext_id=N org_unit_name=N org_unit_parent_id=1}",
			"2 create user new@x.com {ct_user_ou_id= first_name=New last_name=User role=Standard username=new@x.com} under new N after [1]",
		}},
		{PolicyUpdateOnly, []string{
			"1 rename group A {org_unit_name:A->A2}",
			"2 update user keep@x.com {last_name:L7->Keeper}",
		}},
		{PolicyMirror, []string{
			"1 rename group A {org_unit_name:A->A2}",
			"2 create group N {org_unit_ext_id=N org_unit_name=N org_unit_parent_id=1}",
			"3 update user keep@x.com {last_name:L7->Keeper}",
			"4 create user new@x.com {ct_user_ou_id= first_name=New last_name=User role=Standard username=new@x.com} under new N after [2]",
			"5 deactivate user left@x.com {user_status:active->inactive}",
			"6 delete group GONE",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			p := mustPlan(t, d(), c, Options{Policy: tt.policy, MaxDeletes: NoLimit()})
			if diff := cmp.Diff(tt.want, summary(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if p.Policy != tt.policy {
				t.Errorf("Policy = %q", p.Policy)
			}
		})
	}
}

// owned builds a root with n owned groups G0..G(n-1) and u users in G0.
func owned(n, u int) *state.CurrentState {
	var gs []state.Group
	for i := range n {
		gs = append(gs, grp(int64(100+i), 1, "G"+itoa(i), "G"+itoa(i)))
	}
	c := cur(gs...)
	for i := range u {
		c.Users = append(c.Users, usr(int64(1000+i), 100, "u"+itoa(i)+"@x.com", state.RoleStandard))
	}
	return c
}

func itoa(i int) string { return fmt.Sprintf("%02d", i) }

// keep wants the groups G<from>..G<to-1> as they are.
func keep(from, to int) *state.DesiredState {
	var gs []state.DesiredGroup
	for i := from; i < to; i++ {
		gs = append(gs, dg("G"+itoa(i), "G"+itoa(i), ""))
	}
	return des(gs...)
}

func TestGates(t *testing.T) {
	gate := func(p *Plan, name string) Gate {
		for _, g := range p.Gates {
			if g.Name == name {
				return g
			}
		}
		return Gate{Name: name, Message: "(absent)"}
	}
	tests := []struct {
		name    string
		cur     *state.CurrentState
		des     *state.DesiredState
		opts    Options
		gate    string
		want    Gate
		blocked bool
	}{
		{
			name: "max-deletes trips over 10% of 20 owned groups",
			cur:  owned(20, 0), des: keep(3, 20), opts: Options{Policy: PolicyMirror},
			gate: "max-deletes", blocked: true,
			want: Gate{Name: "max-deletes", Limit: "10%", Count: 3, Allowed: 2, Total: 20, Tripped: true,
				Message: "3 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users), more than the 2 that the limit 10% of 20 owned objects allows"},
		},
		{
			name: "max-deletes at its limit passes",
			cur:  owned(20, 0), des: keep(2, 20), opts: Options{Policy: PolicyMirror},
			gate: "max-deletes",
			want: Gate{Name: "max-deletes", Limit: "10%", Count: 2, Allowed: 2, Total: 20,
				Message: "2 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users); the limit 10% of 20 owned objects allows 2"},
		},
		{
			name: "--force passes max-deletes and says so",
			cur:  owned(20, 0), des: keep(3, 20), opts: Options{Policy: PolicyMirror, Force: true},
			gate: "max-deletes",
			want: Gate{Name: "max-deletes", Limit: "10%", Count: 3, Allowed: 2, Total: 20, Tripped: true, Forced: true,
				Message: "3 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users), more than the 2 that the limit 10% of 20 owned objects allows; passed with --force"},
		},
		{
			name: "a percentage does not apply under 10 owned objects",
			cur:  owned(9, 0), des: keep(5, 9), opts: Options{Policy: PolicyMirror},
			gate: "max-deletes",
			want: Gate{Name: "max-deletes", Limit: "10%", Count: 5, Allowed: -1, Total: 9,
				Message: "5 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users); the limit 10% applies from 10 owned objects, and there are 9"},
		},
		{
			name: "a count applies under 10 owned objects",
			cur:  owned(9, 0), des: keep(5, 9), opts: Options{Policy: PolicyMirror, MaxDeletes: CountLimit(4)},
			gate: "max-deletes", blocked: true,
			want: Gate{Name: "max-deletes", Limit: "4", Count: 5, Allowed: 4, Total: 9, Tripped: true,
				Message: "5 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users), more than the 4 that the limit 4 allows"},
		},
		{
			name: "the blast radius of a delete counts its users; users are owned when managed",
			cur:  owned(12, 8),
			des: func() *state.DesiredState {
				d := keep(1, 12)
				d.UsersManaged = true
				return d
			}(),
			opts: Options{Policy: PolicyMirror, MaxDeletes: PercentLimit(25)},
			gate: "max-deletes", blocked: true,
			// G00 and its 8 users (deactivated, counted once)
			want: Gate{Name: "max-deletes", Limit: "25%", Count: 9, Allowed: 5, Total: 20, Tripped: true,
				Message: "9 objects would be deleted or deactivated (a deleted or moved group counts with its subtree and users), more than the 5 that the limit 25% of 20 owned objects allows"},
		},
		{
			name: "max-changes: a move counts its subtree and users",
			cur: func() *state.CurrentState {
				c := owned(12, 3)
				c.Groups = append(c.Groups, grp(200, 100, "SUB", "Sub"))
				return c
			}(),
			des: func() *state.DesiredState {
				d := keep(0, 12)
				d.Groups[0].ParentExtID = "G01" // G00 (3 users, 1 child) moves
				d.Groups = append(d.Groups, dg("SUB", "Sub", "G00"))
				return d
			}(),
			opts: Options{MaxChanges: CountLimit(4)},
			gate: "max-changes", blocked: true,
			want: Gate{Name: "max-changes", Limit: "4", Count: 5, Allowed: 4, Total: 13, Tripped: true,
				Message: "5 objects would be changed (a deleted or moved group counts with its subtree and users), more than the 4 that the limit 4 allows"},
		},
		{
			name: "max-changes is off by default",
			cur:  owned(12, 0), des: keep(0, 12), opts: Options{},
			gate: "max-changes",
			want: Gate{Name: "max-changes", Limit: "off", Count: 0, Allowed: -1, Total: 12,
				Message: "0 objects would be changed (a deleted or moved group counts with its subtree and users); no limit"},
		},
		{
			name: "shrink: more than half of the owned groups missing in mirror mode",
			cur:  owned(20, 0), des: keep(0, 9), opts: Options{Policy: PolicyMirror, MaxDeletes: NoLimit()},
			gate: "shrink", blocked: true,
			want: Gate{Name: "shrink", Limit: "50%", Count: 11, Allowed: 10, Total: 20, Tripped: true,
				Message: "11 of 20 owned groups are missing from the export, more than half (10): the export looks truncated"},
		},
		{
			name: "shrink: an empty export is refused even with --force",
			cur:  owned(3, 0), des: des(), opts: Options{Policy: PolicyMirror, Force: true},
			gate: "shrink", blocked: true,
			want: Gate{Name: "shrink", Limit: "50%", Count: 3, Allowed: 0, Total: 3, Tripped: true,
				Message: "the export is empty and 3 owned groups would go; an empty export is always refused, --force does not pass it"},
		},
		{
			name: "max-invalid: an invalid row trips the default 0, and --force does not pass it",
			cur:  owned(12, 0),
			des: func() *state.DesiredState {
				d := keep(0, 12)
				d.Groups[3].Industry = ptr("Widgets")
				return d
			}(),
			opts: Options{Policy: PolicyMirror, Force: true},
			gate: "max-invalid", blocked: true,
			want: Gate{Name: "max-invalid", Limit: "0", Count: 1, Allowed: 0, Total: 12, Tripped: true,
				Message: "1 invalid rows, more than the 0 that the limit 0 allows; --force does not pass this gate; with invalid rows there are no deletes or deactivations in this run (0 departed objects kept)"},
		},
		{
			name: "max-invalid: allowed invalid rows are skipped, and deletes are off",
			cur:  owned(12, 0),
			des: func() *state.DesiredState {
				d := keep(0, 10)
				d.Invalid = []state.Problem{
					{Source: state.Source{File: "groups.csv", Line: 20}, Kind: "group", Key: "X", Column: "zip", Message: "bad zip"},
					{Source: state.Source{File: "groups.csv", Line: 20}, Kind: "group", Key: "X", Column: "phone_number", Message: "bad phone"},
				}
				return d
			}(),
			opts: Options{Policy: PolicyMirror, MaxInvalid: PercentLimit(10)},
			gate: "max-invalid",
			want: Gate{Name: "max-invalid", Limit: "10%", Count: 1, Allowed: 1, Total: 11,
				Message: "1 invalid rows are skipped (limit 10%); with invalid rows there are no deletes or deactivations in this run (2 departed objects kept)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, tt.des, tt.cur, tt.opts)
			if diff := cmp.Diff(tt.want, gate(p, tt.gate)); diff != "" {
				t.Errorf("gate (-want +got):\n%s", diff)
			}
			if p.Blocked() != tt.blocked {
				t.Errorf("Blocked() = %v, want %v; gates: %+v", p.Blocked(), tt.blocked, p.Gates)
			}
		})
	}
}

func TestCalculateMisuse(t *testing.T) {
	tests := []struct {
		name string
		des  *state.DesiredState
		cur  *state.CurrentState
		opts Options
		want string
	}{
		{"nil desired", nil, cur(), Options{}, "calculate plan: no desired state"},
		{"nil current", des(), nil, Options{}, "calculate plan: no current state"},
		{"no root", des(), &state.CurrentState{RootID: 5, Groups: []state.Group{grp(1, 0, "", "R")}}, Options{},
			"calculate plan: root group 5 is not among the current groups, or is deleted"},
		{"bad policy", des(), cur(), Options{Policy: "purge"}, `calculate plan: unknown policy "purge" (want upsert, create-only, update-only or mirror)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Calculate(tt.des, tt.cur, tt.opts)
			if err == nil || err.Error() != tt.want || p != nil {
				t.Errorf("Calculate = %v, %v; want error %q", p, err, tt.want)
			}
		})
	}
}

func TestTreeAndCounts(t *testing.T) {
	c := cur(grp(2, 1, "A", "A"), grp(3, 2, "B", "B"), grp(4, 2, "C", "c"), grp(5, 4, "D", "D"), grp(6, 1, "E", "E"), grp(7, 6, "F", "F"))
	d := des(dg("A", "A", ""), dg("B", "B", "A"), dg("C", "c", "A"), dg("D", "D", "C"), dg("E", "E", ""), dg("F", "F", "E"),
		dg("N", "New", "B"))
	p := mustPlan(t, d, c, Options{})
	want := []Node{
		{Ref: Ref{ID: 1, ExtID: "ROOT", Name: "Root"}, Folded: 2},                                            // E and F
		{Ref: Ref{ID: 2, ExtID: "A", Name: "A"}, Parent: Ref{ID: 1, ExtID: "ROOT", Name: "Root"}, Folded: 2}, // C and D
		{Ref: Ref{ID: 3, ExtID: "B", Name: "B"}, Parent: Ref{ID: 2, ExtID: "A", Name: "A"}},
		{Ref: Ref{ExtID: "N", Name: "New"}, Parent: Ref{ID: 3, ExtID: "B", Name: "B"}},
	}
	if diff := cmp.Diff(want, p.Tree); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Counts{Groups: 6}, p.Unchanged); diff != "" {
		t.Errorf("unchanged (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Counts{Groups: 6}, p.Owned); diff != "" {
		t.Errorf("owned (-want +got):\n%s", diff)
	}
	wantAcc := Account{APIURL: "https://x", RootID: 1, RootExtID: "ROOT", RootName: "Root"}
	p = mustPlan(t, d, c, Options{Account: Account{APIURL: "https://x", RootID: 99}})
	if diff := cmp.Diff(wantAcc, p.Account); diff != "" {
		t.Errorf("account (-want +got):\n%s", diff)
	}
}

func TestEmptyPlan(t *testing.T) {
	c := cur(grp(2, 1, "A", "A"))
	p := mustPlan(t, des(dg("A", "A", "")), c, Options{})
	if !p.Empty() || p.Tree != nil || p.Changes == nil || p.Version != Version {
		t.Errorf("plan = %+v, want an empty plan with a non-nil Changes", p)
	}
}
