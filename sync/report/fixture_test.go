package report

import (
	"fmt"

	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The rich fixture: one plan that holds every action, a rename swap broken
// by a temporary name, a tripped gate, a refused delete, skipped invalid
// rows, new users, folded branches and names that need escaping.

var (
	refRoot    = plan.Ref{ID: 1000, ExtID: "acme", Name: "Acme Holdings"}
	refXSS     = plan.Ref{ExtID: "xss-1", Name: "<script>alert(1)</script>"}
	refAB      = plan.Ref{ID: 1021, ExtID: "ab", Name: "a|b *Partners*"}
	refCentral = plan.Ref{ID: 1004, ExtID: "central", Name: "Central Region"}
	refSpr     = plan.Ref{ID: 1030, ExtID: "spr", Name: "Springfield"}
	refEast    = plan.Ref{ID: 1001, ExtID: "east", Name: "East Region"}
	refBackBay = plan.Ref{ExtID: "bos-2", Name: "Back Bay"}
	refCam     = plan.Ref{ID: 1005, ExtID: "cam", Name: "Cambridge Store"}
	refNorthF  = plan.Ref{ID: 1006, ExtID: "reg-2", Name: "North Region"} // was "South Region"
	refSouthF  = plan.Ref{ID: 1002, ExtID: "reg-1", Name: "South Region"} // was "North Region"
	refWest    = plan.Ref{ID: 1003, ExtID: "west", Name: "West Region"}
	refOld     = plan.Ref{ID: 1009, ExtID: "old", Name: "Old Store"}
)

func src(file string, line int) *state.Source { return &state.Source{File: file, Line: line} }

func richPlan() *plan.Plan {
	return &plan.Plan{
		Version: plan.Version,
		Account: plan.Account{
			APIURL:       "https://platform-api.convirza.com/v3",
			RootID:       1000,
			RootExtID:    "acme",
			RootName:     "Acme Holdings",
			CallerUserID: 7,
		},
		Policy:       plan.PolicyMirror,
		UsersManaged: true,
		Changes: []plan.Change{
			{ID: 1, Action: plan.Deactivate, Kind: plan.KindUser, Key: "bob@example.com", ObjectID: 501, Name: "bob@example.com",
				Parent: refWest, Reason: "left the export",
				Fields: []plan.FieldChange{{Field: plan.FieldUserStatus, Before: "active", After: "inactive"}}},
			{ID: 2, Action: plan.Delete, Kind: plan.KindGroup, Key: "old", ObjectID: 1009, Name: "Old Store",
				Parent: refWest, Reason: "ext id left the export", After: []int{1}},
			{ID: 3, Action: plan.Rename, Kind: plan.KindGroup, Key: "reg-1", ObjectID: 1002, Name: "North Region (renaming 1002)",
				Parent: refRoot, Reason: "temporary name to break a rename swap",
				Fields: []plan.FieldChange{{Field: plan.FieldName, Before: "North Region", After: "North Region (renaming 1002)"}}},
			{ID: 4, Action: plan.Rename, Kind: plan.KindGroup, Key: "reg-2", ObjectID: 1006, Name: "North Region",
				Parent: refRoot, Source: src("groups.csv", 6), After: []int{3},
				Fields: []plan.FieldChange{{Field: plan.FieldName, Before: "South Region", After: "North Region"}}},
			{ID: 5, Action: plan.Rename, Kind: plan.KindGroup, Key: "reg-1", ObjectID: 1002, Name: "South Region",
				Parent: refRoot, Source: src("groups.csv", 5), After: []int{4},
				Fields: []plan.FieldChange{{Field: plan.FieldName, Before: "North Region (renaming 1002)", After: "South Region"}}},
			{ID: 6, Action: plan.Update, Kind: plan.KindGroup, Key: "east", ObjectID: 1001, Name: "East Region",
				Parent: refRoot, Source: src("groups.csv", 3),
				Fields: []plan.FieldChange{
					{Field: plan.FieldCity, Before: "Boston", After: "Cambridge"},
					{Field: plan.FieldIndustryID, Before: "12", After: "14", BeforeLabel: "Restaurants", AfterLabel: "Retail"},
				}},
			{ID: 7, Action: plan.Create, Kind: plan.KindGroup, Key: "bos-2", Name: "Back Bay",
				Parent: refEast, Source: src("groups.csv", 7),
				Fields: []plan.FieldChange{
					{Field: plan.FieldAddress, After: "1 Main St"},
					{Field: plan.FieldCity, After: "Boston"},
					{Field: plan.FieldIndustryID, After: "12", AfterLabel: "Restaurants"},
					{Field: plan.FieldName, After: "Back Bay"},
					{Field: plan.FieldExtID, After: "bos-2"},
					{Field: plan.FieldParent, After: "1001", AfterLabel: "east"},
					{Field: plan.FieldPhone, After: "+16175550142"},
					{Field: plan.FieldState, After: "MA"},
					{Field: plan.FieldZip, After: "02116"},
				}},
			{ID: 8, Action: plan.Create, Kind: plan.KindGroup, Key: "xss-1", Name: "<script>alert(1)</script>",
				Parent: refRoot, Source: src("groups.csv", 9),
				Fields: []plan.FieldChange{
					{Field: plan.FieldName, After: "<script>alert(1)</script>"},
					{Field: plan.FieldExtID, After: "xss-1"},
					{Field: plan.FieldParent, After: "1000", AfterLabel: "acme"},
				}},
			{ID: 9, Action: plan.Move, Kind: plan.KindGroup, Key: "cam", ObjectID: 1005, Name: "Cambridge Store",
				Parent: refEast, FromParent: &plan.Ref{ID: 1003, ExtID: "west", Name: "West Region"}, Source: src("groups.csv", 8),
				Fields: []plan.FieldChange{{Field: plan.FieldParent, Before: "1003", After: "1001", BeforeLabel: "west", AfterLabel: "east"}}},
			{ID: 10, Action: plan.Adopt, Kind: plan.KindGroup, Key: "spr", ObjectID: 1030, Name: "Springfield",
				Parent: refCentral, Source: src("groups.csv", 10), Reason: "matched by name under its parent",
				Fields: []plan.FieldChange{{Field: plan.FieldExtID, Before: "", After: "spr"}}},
			{ID: 11, Action: plan.Update, Kind: plan.KindGroup, Key: "ab", ObjectID: 1021, Name: "a|b *Partners*",
				Parent: refRoot, Source: src("groups.csv", 4),
				Fields: []plan.FieldChange{{Field: plan.FieldPhone, Before: "", After: "+16175550142"}}},
			{ID: 12, Action: plan.Create, Kind: plan.KindUser, Key: "jane@example.com", Name: "jane@example.com",
				Parent: refEast, Source: src("users.csv", 2), NewUser: true,
				Fields: []plan.FieldChange{
					{Field: plan.FieldUserGroup, After: "1001", AfterLabel: "east"},
					{Field: plan.FieldFirstName, After: "Jane"},
					{Field: plan.FieldLastName, After: "Doe"},
					{Field: plan.FieldRole, After: "Standard"},
					{Field: plan.FieldUsername, After: "jane@example.com"},
				}},
			{ID: 13, Action: plan.Create, Kind: plan.KindUser, Key: "sam@example.com", Name: "sam@example.com",
				Parent: refBackBay, Source: src("users.csv", 3), NewUser: true, After: []int{7},
				Fields: []plan.FieldChange{
					{Field: plan.FieldUserGroup, After: ""},
					{Field: plan.FieldFirstName, After: "Sam"},
					{Field: plan.FieldRole, After: "Admin"},
					{Field: plan.FieldUsername, After: "sam@example.com"},
				}},
			{ID: 14, Action: plan.Reactivate, Kind: plan.KindUser, Key: "rita@example.com", ObjectID: 502, Name: "rita@example.com",
				Parent: refEast, Source: src("users.csv", 4), Reason: "back in the export",
				Fields: []plan.FieldChange{{Field: plan.FieldUserStatus, Before: "inactive", After: "active"}}},
			{ID: 15, Action: plan.Update, Kind: plan.KindUser, Key: "omar@example.com", ObjectID: 503, Name: "omar@example.com",
				Parent: refEast, Source: src("users.csv", 5),
				Fields: []plan.FieldChange{{Field: plan.FieldRole, Before: "ReadOnly", After: "Standard"}}},
			// A user of the root group: an empty group_ext_id, so no Parent.
			{ID: 16, Action: plan.Update, Kind: plan.KindUser, Key: "lee@example.com", ObjectID: 504, Name: "lee@example.com",
				Source: src("users.csv", 6),
				Fields: []plan.FieldChange{{Field: plan.FieldFirstName, Before: "Lee", After: "Leigh"}}},
		},
		Refused: []plan.Change{
			{Action: plan.Delete, Kind: plan.KindGroup, Key: "old-hq", ObjectID: 1010, Name: "Old HQ", Parent: refWest,
				Reason: "still has 2 active users that are not managed"},
		},
		Invalid: []state.Problem{
			{Source: state.Source{File: "groups.csv", Line: 14}, Kind: "group", Key: "bad-1", Column: "Phone",
				Severity: state.SeverityError, Message: `not a valid phone number: "555"`},
			{Source: state.Source{File: "users.csv", Line: 9}, Kind: "user", Column: "Email",
				Severity: state.SeverityError, Message: "missing email"},
		},
		Gates: []plan.Gate{
			{Name: "max-deletes", Limit: "10%", Count: 2, Allowed: 1, Total: 14, Tripped: true,
				Message: "2 deletes and deactivations exceed --max-deletes 10% of 14 owned objects"},
			{Name: "max-changes", Limit: "100", Count: 16, Allowed: 100},
			{Name: "max-invalid", Limit: "2", Count: 2, Allowed: 2},
		},
		Tree: []plan.Node{
			{Ref: refRoot, Folded: 3},
			{Ref: refXSS, Parent: refRoot},
			{Ref: refAB, Parent: refRoot},
			{Ref: refCentral, Parent: refRoot, Folded: 40},
			{Ref: refSpr, Parent: refCentral},
			{Ref: refEast, Parent: refRoot, Folded: 212},
			{Ref: refBackBay, Parent: refEast},
			{Ref: refCam, Parent: refEast},
			{Ref: refNorthF, Parent: refRoot},
			{Ref: refSouthF, Parent: refRoot, Folded: 1},
			{Ref: refWest, Parent: refRoot, Folded: 17},
			{Ref: refOld, Parent: refWest},
		},
		Unchanged: plan.Counts{Groups: 273, Users: 40},
		Owned:     plan.Counts{Groups: 12, Users: 2},
	}
}

// richResults is apply's outcome for the rich plan: done rows, a failed row
// with its HTTP status and request id, a row blocked by that failure, a
// skipped invalid row and cells that a spreadsheet would run as formulas.
func richResults() []plan.Result {
	return []plan.Result{
		{Change: 1, Kind: plan.KindUser, Key: "bob@example.com", Action: plan.Deactivate, Outcome: plan.OutcomeDeactivated, ObjectID: 501, HTTPStatus: 200},
		{Change: 6, Line: 3, Kind: plan.KindGroup, Key: "east", Action: plan.Update, Outcome: plan.OutcomeUpdated, ObjectID: 1001, HTTPStatus: 200, RequestID: "req-0006"},
		{Change: 7, Line: 7, Kind: plan.KindGroup, Key: "bos-2", Action: plan.Create, Outcome: plan.OutcomeFailed, HTTPStatus: 409,
			Message: `org_unit_name "Back Bay" already exists under parent 1001`, RequestID: "req-7f3a"},
		{Change: 13, Line: 3, Kind: plan.KindUser, Key: "sam@example.com", Action: plan.Create, Outcome: plan.OutcomeBlocked,
			Message: "blocked: change 7 (create group bos-2) failed"},
		{Change: 8, Line: 9, Kind: plan.KindGroup, Key: "=HYPERLINK(\"http://x\")", Action: plan.Create, Outcome: plan.OutcomeFailed, HTTPStatus: 400,
			Message: "@SUM(1+1)*cmd|' /C calc'!A0", RequestID: "-req-1"},
		{Change: 11, Line: 4, Kind: plan.KindGroup, Key: "-12.5", Action: plan.Update, Outcome: plan.OutcomeUpdated, ObjectID: 1021, HTTPStatus: 200,
			Message: "+1 617 555 0142"},
		{Line: 14, Kind: plan.KindGroup, Key: "bad-1", Outcome: plan.OutcomeSkipped, Message: `groups.csv:14: column "Phone": not a valid phone number: "555"`},
	}
}

// bigPlan is a plan of n changes: regions updated, stores created under
// them, and new users in every region.
func bigPlan(n int) *plan.Plan {
	p := &plan.Plan{
		Version: plan.Version,
		Account: plan.Account{APIURL: "https://platform-api.convirza.com/v3", RootID: 1, RootExtID: "root", RootName: "Root"},
		Policy:  plan.PolicyUpsert, UsersManaged: true,
		Tree: []plan.Node{{Ref: plan.Ref{ID: 1, ExtID: "root", Name: "Root"}, Folded: 5}},
	}
	const perRegion = 100
	for r := 0; len(p.Changes) < n; r++ {
		region := plan.Ref{ID: int64(10000 + r), ExtID: fmt.Sprintf("region-%03d", r), Name: fmt.Sprintf("Region %03d", r)}
		p.Tree = append(p.Tree, plan.Node{Ref: region, Parent: p.Tree[0].Ref, Folded: r % 7})
		p.Changes = append(p.Changes, plan.Change{ID: len(p.Changes) + 1, Action: plan.Update, Kind: plan.KindGroup, Key: region.ExtID,
			ObjectID: region.ID, Name: region.Name, Parent: p.Tree[0].Ref,
			Fields: []plan.FieldChange{{Field: plan.FieldCity, Before: "Old Town", After: "New Town"}}})
		for s := 1; s < perRegion && len(p.Changes) < n; s++ {
			if s%5 == 0 {
				email := fmt.Sprintf("user-%03d-%02d@example.com", r, s)
				p.Changes = append(p.Changes, plan.Change{ID: len(p.Changes) + 1, Action: plan.Create, Kind: plan.KindUser, Key: email,
					Name: email, Parent: region, NewUser: true, Source: &state.Source{File: "users.csv", Line: len(p.Changes) + 2},
					Fields: []plan.FieldChange{{Field: plan.FieldUsername, After: email}, {Field: plan.FieldRole, After: "Standard"}}})
				continue
			}
			store := plan.Ref{ExtID: fmt.Sprintf("store-%03d-%02d", r, s), Name: fmt.Sprintf("Store %03d-%02d", r, s)}
			p.Tree = append(p.Tree, plan.Node{Ref: store, Parent: region})
			p.Changes = append(p.Changes, plan.Change{ID: len(p.Changes) + 1, Action: plan.Create, Kind: plan.KindGroup, Key: store.ExtID,
				Name: store.Name, Parent: region, Source: &state.Source{File: "groups.csv", Line: len(p.Changes) + 2},
				Fields: []plan.FieldChange{
					{Field: plan.FieldAddress, After: fmt.Sprintf("%d Main St", s)},
					{Field: plan.FieldName, After: store.Name},
					{Field: plan.FieldExtID, After: store.ExtID},
					{Field: plan.FieldParent, After: fmt.Sprint(region.ID), AfterLabel: region.ExtID},
				}})
		}
	}
	return p
}
