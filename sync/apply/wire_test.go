package apply

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// TestWireBodies: the bytes each change puts on the wire, read back from
// the sandbox's call log. Bodies are built once from the change into the
// client's typed bodies: ids are JSON numbers, a cleared text field is "",
// and a cleared industry is never sent (it used to go out as
// {"industry_id":0}).
func TestWireBodies(t *testing.T) {
	type wire struct {
		Method, Path, Body string
		Status             int
	}
	tests := []struct {
		name    string
		change  func(w *world) plan.Change
		want    []wire
		outcome outcome
	}{
		{
			name: "a group update: text, a cleared phone, an industry",
			change: func(w *world) plan.Change {
				return change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""),
					fc(plan.FieldCity, "Boston", "Cambridge"), fc(plan.FieldPhone, "+16175550100", ""), fc(plan.FieldIndustryID, "3", "7"))
			},
			want:    []wire{{"PATCH", "/v3/groups/E1", `{"city":"Cambridge","phone_number":"","industry_id":7}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeUpdated},
		},
		{
			name: "a cleared industry is not sent",
			change: func(w *world) plan.Change {
				return change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""), fc(plan.FieldIndustryID, "3", ""))
			},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeFailed,
				Message: "not sent: field industry_id: industry_id cannot be cleared: the API documents no way to unset a group's industry"},
		},
		{
			name: "a cleared industry beside other fields: nothing of it is sent",
			change: func(w *world) plan.Change {
				return change(plan.Update, plan.KindGroup, "E1", w.ids["E1"], w.ref(""), fc(plan.FieldCity, "Boston", "Salem"), fc(plan.FieldIndustryID, "3", "0"))
			},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeFailed,
				Message: "not sent: field industry_id: industry_id cannot be cleared: the API documents no way to unset a group's industry"},
		},
		{
			name: "a move names the parent by number",
			change: func(w *world) plan.Change {
				return change(plan.Move, plan.KindGroup, "E1", w.ids["E1"], w.ref("W1"), fc(plan.FieldParent, strconv.Itoa(top), strconv.FormatInt(w.ids["W1"], 10)))
			},
			want:    []wire{{"PATCH", "/v3/groups/E1", `{"org_unit_parent_id":W1}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeMoved},
		},
		{
			name: "a group create: the parent from the ref, no empty field",
			change: func(w *world) plan.Change {
				return createGroup("N1", "North", w.ref("W1"), fc(plan.FieldIndustryID, "", "7"), fc(plan.FieldZip, "", "02110"))
			},
			want:    []wire{{"POST", "/v3/groups", `{"org_unit_name":"North","org_unit_ext_id":"N1","org_unit_parent_id":W1,"zip":"02110","industry_id":7}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeCreated},
		},
		{
			name: "a user deactivation sends its status only",
			change: func(w *world) plan.Change {
				return change(plan.Deactivate, plan.KindUser, "jo@acme.example", w.ids["jo@acme.example"], w.ref("E1"))
			},
			want:    []wire{{"PATCH", "/v3/users/jo@acme.example", `{"user_status":"inactive"}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeDeactivated},
		},
		{
			name: "a user move and a cleared user_ext_id",
			change: func(w *world) plan.Change {
				return change(plan.Move, plan.KindUser, "jo@acme.example", w.ids["jo@acme.example"], w.ref("W1"),
					fc(plan.FieldUserGroup, strconv.FormatInt(w.ids["E1"], 10), strconv.FormatInt(w.ids["W1"], 10)), fc(plan.FieldUserExtID, "E-1", ""))
			},
			want:    []wire{{"PATCH", "/v3/users/jo@acme.example", `{"ct_user_ou_id":W1,"user_ext_id":""}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeMoved},
		},
		{
			name: "a user create: the role in the API's spelling",
			change: func(w *world) plan.Change {
				return createUser("new@acme.example", w.ref("W1"))
			},
			want:    []wire{{"POST", "/v3/users", `{"username":"new@acme.example","first_name":"New","last_name":"Person","ct_user_ou_id":W1,"role":"Standard"}`, 200}},
			outcome: outcome{Change: 1, Outcome: plan.OutcomeCreated},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := setup(t, convirzatest.Options{}, convirza.Options{})
			w.group(t, "E1", "East", "", convirzatest.Group{City: "Boston", Phone: "+16175550100", IndustryID: 3})
			w.group(t, "W1", "West", "", convirzatest.Group{})
			w.user(t, "jo@acme.example", "E1", convirzatest.User{FirstName: "Jo", LastName: "Roe", ExtID: "E-1"})
			before := w.srv.Snapshot()
			res, err := Apply(context.Background(), newPlan(tt.change(w)), w.remote, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]outcome{tt.outcome}, outcomes(res.Results)); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			// Ids are seeded per run: name them by ext id or email.
			names := map[string]string{}
			for k, id := range w.ids {
				names[strconv.FormatInt(id, 10)] = k
			}
			var got []wire
			for _, c := range w.srv.Writes() {
				got = append(got, wire{c.Method, renameIDs(c.Path, names), renameIDs(string(c.Body), names), c.Status})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("writes on the wire (-want +got):\n%s", diff)
			}
			if tt.want == nil {
				if diff := cmp.Diff(before, w.srv.Snapshot()); diff != "" {
					t.Errorf("a change that was not sent changed Convirza (-before +after):\n%s", diff)
				}
			}
		})
	}
}

// renameIDs replaces each seeded id in s by its ext id or email.
func renameIDs(s string, names map[string]string) string {
	out := []byte{}
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i {
			num := s[i:j]
			if n, ok := names[num]; ok {
				num = n
			}
			out = append(out, num...)
			i = j
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}
