package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestPropertyStaleCheck: a plan checked against the state it was made
// from finds no drift; and for each before-value of the plan, one change of
// that one field in that state (a value the planner would call different)
// is found, named by its change and field. So the stale check and the
// planner hold the same rules: a drift the planner cannot see is not
// reported, and one it would see is.
func TestPropertyStaleCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(*propSeed, 7))
	runs := max(*propRuns/2, 50)
	checked := 0
	for run := range runs {
		sc := genScenario(r, 30)
		p, err := Calculate(sc.des, sc.cur, sc.opts)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if d := CheckStale(p, sc.cur); len(d) != 0 {
			t.Fatalf("run %d: the plan is stale against the state it was made from: %v\n%v", run, d, summary(p))
		}
		type objField struct {
			kind  Kind
			id    int64
			field string
		}
		first := map[objField]bool{}
		for _, c := range p.Changes {
			if c.ObjectID == 0 {
				continue
			}
			for _, f := range c.Fields {
				k := objField{c.Kind, c.ObjectID, f.Field}
				if first[k] {
					continue // an earlier change writes it: compared there
				}
				first[k] = true
				now := cloneState(sc.cur)
				old, ok := setField(now, c.Kind, c.ObjectID, f.Field, func(v string) string { return otherValue(f.Field, v) })
				if !ok || sameValue(f.Field, f.Before, old, p.PhoneRegion) {
					continue
				}
				checked++
				d := CheckStale(p, now)
				if !slices.ContainsFunc(d, func(x Drift) bool { return x.ChangeID == c.ID && x.Field == f.Field }) {
					t.Fatalf("run %d: %s of %s %d moved from %q to %q; CheckStale found %v\nchange: %s",
						run, f.Field, c.Kind, c.ObjectID, f.Before, old, d, changeLine(c))
				}
			}
		}
	}
	if checked < runs {
		t.Errorf("the generator is too weak: %d fields checked in %d runs", checked, runs)
	}
}

func cloneState(c *state.CurrentState) *state.CurrentState {
	out := *c
	out.Groups = slices.Clone(c.Groups)
	out.Users = slices.Clone(c.Users)
	return &out
}

// setField replaces one field of one object with change(value) and returns
// the new value.
func setField(c *state.CurrentState, kind Kind, id int64, field string, change func(string) string) (string, bool) {
	if kind == KindGroup {
		for i := range c.Groups {
			if g := &c.Groups[i]; g.ID == id {
				v, ok := groupValue(g, field)
				if !ok {
					return "", false
				}
				nv := change(v)
				return nv, setGroupField(g, field, nv) == nil
			}
		}
		return "", false
	}
	for i := range c.Users {
		u := &c.Users[i]
		if u.ID != id {
			continue
		}
		v, ok := userField(u, field)
		if !ok {
			return "", false
		}
		nv := change(v)
		switch field {
		case FieldUsername:
			u.Email = nv
		case FieldFirstName:
			u.FirstName = nv
		case FieldLastName:
			u.LastName = nv
		case FieldRole:
			u.Role = state.Role(nv)
		case FieldUserGroup:
			n, err := strconv.ParseInt(nv, 10, 64)
			if err != nil {
				return "", false
			}
			u.GroupID = n
		case FieldUserExtID:
			u.ExtID = nv
		case FieldUserStatus:
			u.Status = state.Status(nv)
		default:
			return "", false
		}
		return nv, true
	}
	return "", false
}

// otherValue is a value of the field that no rule calls equal to v.
func otherValue(field, v string) string {
	switch field {
	case FieldParent, FieldIndustryID, FieldUserGroup:
		n, _ := strconv.ParseInt(v, 10, 64)
		return strconv.FormatInt(n+1000, 10)
	case FieldState:
		if v == "WY" {
			return "AK"
		}
		return "WY"
	case FieldZip:
		if v == "99501" {
			return "99502"
		}
		return "99501"
	case FieldPhone:
		if v == "+12125550199" {
			return "+12125550198"
		}
		return "+12125550199"
	case FieldRole:
		if r, _ := state.ParseRole(v); r == state.RoleAdmin {
			return "readonly"
		}
		return "admin"
	case FieldUserStatus:
		if s := state.Status(v); s == state.StatusInactive {
			return string(state.StatusActive)
		}
		return string(state.StatusInactive)
	case FieldUsername:
		return "other." + v
	}
	return fmt.Sprint(v, " changed")
}
