package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Violation is one thing a plan asks that apply never does, whatever the
// plan file says: write to another API, under another root, outside the
// root, to the root group itself or to the caller's own user.
type Violation struct {
	// ChangeID is the change it is about, 0 for the plan as a whole; Change
	// describes it ("delete group ORG-1", or "plan").
	ChangeID int    `json:"change"`
	Change   string `json:"change_desc"`
	// Rule names the rule broken: RuleAPIURL, RuleRoot, RuleCaller,
	// RuleOutside, RuleRootWritten, RuleCallerWritten or RuleField.
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// The rules of CheckScope.
const (
	RuleAPIURL        = "api-url"        // the plan names no API URL, or another one
	RuleRoot          = "root"           // the plan's root is not the root apply resolved
	RuleCaller        = "caller"         // the plan was made with another user's credentials
	RuleOutside       = "outside-root"   // a change names a group or user outside the root
	RuleRootWritten   = "root-written"   // a change writes the root group itself
	RuleCallerWritten = "caller-written" // a change writes the caller's own user
	RuleField         = "field"          // a change writes a field that no plan writes
)

// String renders the violation for people.
func (v Violation) String() string {
	if v.ChangeID == 0 {
		return "plan: " + v.Message
	}
	return fmt.Sprintf("change %d (%s): %s", v.ChangeID, v.Change, v.Message)
}

// CheckScope lists every violation of the plan's scope, judged against
// what apply knows for itself, never against what the plan file says of
// it: apiURL is the API URL apply is configured with, and current is the
// state apply read under the root it resolved from its own credentials and
// settings (the caller's group, or --root given to apply), with the
// caller's user id when the credentials say it.
//
//   - The plan must name that API URL (a trailing "/" aside); an empty or
//     missing one is refused.
//   - The plan's root_id must be that root.
//   - When both the plan and the credentials name the caller, they must be
//     the same user.
//   - Every change must write an object inside the root: a group or user of
//     current (for a change that is not a create), and every group it puts
//     an object under (its parent ref, its org_unit_parent_id or
//     ct_user_ou_id) is a group of current, or one the plan creates.
//   - A create names the group it goes under: apply would otherwise send
//     parent 0 and let the API choose.
//   - No change writes the root group itself, nor the caller's own user
//     (the one the credentials name, and the one the plan names).
//   - Every field is one that Calculate writes and CheckStale compares
//     (planField): the client could send others (a group's top_ou_id or
//     billing_id, a user's role_id), and no before-value would guard them.
//
// Refused changes are never written and are not checked. The result is in
// change order, the plan's own violations first; none means the plan may
// go on to the stale check.
func CheckScope(p *Plan, current *state.CurrentState, apiURL string) []Violation {
	var out []Violation
	planWide := func(rule, format string, args ...any) {
		out = append(out, Violation{Change: "plan", Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	want := strings.TrimRight(strings.TrimSpace(apiURL), "/")
	switch got := strings.TrimRight(strings.TrimSpace(p.Account.APIURL), "/"); {
	case got == "":
		planWide(RuleAPIURL, "the plan names no api_url; apply writes only to the API a plan names (%s here)", want)
	case got != want:
		planWide(RuleAPIURL, "the plan was made for %s, and apply is configured for %s", got, want)
	}

	groups := make(map[int64]bool, len(current.Groups))
	for _, g := range current.Groups {
		if g.Status != state.StatusDeleted {
			groups[g.ID] = true
		}
	}
	users := make(map[int64]bool, len(current.Users))
	for _, u := range current.Users {
		users[u.ID] = true
	}
	root := current.RootID
	rootName := "root group " + strconv.FormatInt(root, 10)
	if g, ok := current.Root(); ok && g.ExtID != "" {
		rootName += " (" + g.ExtID + ")"
	}
	if p.Account.RootID != root {
		where := "outside it"
		if groups[p.Account.RootID] {
			where = "below it"
		}
		planWide(RuleRoot, "the plan was made for root group %s, and apply resolved %s from its credentials and --root, so root group %d is %s: give apply the --root the plan was made with",
			planRootName(p.Account), rootName, p.Account.RootID, where)
	}
	caller := current.CallerUserID
	if pc := p.Account.CallerUserID; pc != 0 && caller != 0 && pc != caller {
		planWide(RuleCaller, "the plan was made with the credentials of user %d, and these are the credentials of user %d", pc, caller)
	}
	protected := map[int64]bool{}
	for _, id := range []int64{caller, p.Account.CallerUserID} {
		if id != 0 {
			protected[id] = true
		}
	}

	// What the plan creates, by kind and key: a change without an id (a
	// parent ref without an id, a later change of a created object) names
	// one of them, and apply resolves it only from that create.
	created := map[Kind]map[string]bool{KindGroup: {}, KindUser: {}}
	for i := range p.Changes {
		if c := &p.Changes[i]; c.Action == Create && created[c.Kind] != nil {
			created[c.Kind][c.CreateKey()] = true
		}
	}

	for i := range p.Changes {
		c := &p.Changes[i]
		seen := map[string]bool{}
		add := func(rule, format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			if seen[msg] {
				return
			}
			seen[msg] = true
			out = append(out, Violation{ChangeID: c.ID, Change: c.Describe(), Rule: rule, Message: msg})
		}
		under := func(what string, id int64) {
			if !groups[id] {
				add(RuleOutside, "%s group %d is not inside the %s (outside it, or gone)", what, id, rootName)
			}
		}
		if created[c.Kind] == nil {
			add(RuleOutside, "unknown kind %q", c.Kind)
			continue
		}
		switch {
		case c.Action == Create:
		case c.ObjectID == 0:
			if !created[c.Kind][c.Key] {
				add(RuleOutside, "it names no Convirza id, and this plan does not create the %s %s", c.Kind, c.Key)
			}
		case c.Kind == KindGroup:
			switch {
			case c.ObjectID == root:
				add(RuleRootWritten, "the root group %d is never written", root)
			default:
				under("the", c.ObjectID)
			}
		case c.Kind == KindUser:
			switch {
			case protected[c.ObjectID]:
				add(RuleCallerWritten, "user %d is the caller's own user, which apply never writes", c.ObjectID)
			case !users[c.ObjectID]:
				add(RuleOutside, "user %d is not inside the %s (outside it, or gone)", c.ObjectID, rootName)
			}
		}
		for _, f := range c.Fields {
			if !planField(c.Kind, f.Field) {
				add(RuleField, "it writes %s, which no plan writes", f.Field)
			}
		}
		// Where the change puts the object: the parent ref, and the id in
		// the parent field.
		if c.Action == Create && c.Parent.IsZero() {
			if f, ok := c.Field(c.Kind.ParentField()); !ok || f.After == "" {
				add(RuleOutside, "it names no group to create the %s under", c.Kind)
			}
		}
		if c.Parent.ID != 0 {
			under("the parent", c.Parent.ID)
		} else if c.Parent.ExtID != "" && !created[KindGroup][c.Parent.ExtID] {
			add(RuleOutside, "its parent %s is neither a group inside the %s nor one this plan creates", c.Parent.ExtID, rootName)
		}
		for _, f := range c.Fields {
			if f.Field != c.Kind.ParentField() || f.After == "" {
				continue
			}
			id, err := strconv.ParseInt(f.After, 10, 64)
			if err != nil || id <= 0 {
				add(RuleOutside, "%s %q is not a group id", f.Field, f.After)
				continue
			}
			under("the parent", id)
		}
	}
	return out
}

// planField reports whether a plan may write the field on an object of
// kind k: whether CheckStale can compare it (groupValue, userValue).
func planField(k Kind, field string) bool {
	var ok bool
	switch k {
	case KindGroup:
		_, ok = groupValue(&state.Group{}, field)
	case KindUser:
		_, ok = userValue(&state.User{}, field)
	}
	return ok
}

// planRootName names a plan's root for a message: its id, and its ext id
// or name when the plan has one.
func planRootName(a Account) string {
	s := strconv.FormatInt(a.RootID, 10)
	switch {
	case a.RootExtID != "":
		s += " (" + a.RootExtID + ")"
	case a.RootName != "":
		s += " (" + a.RootName + ")"
	}
	return s
}
