package mapping

import (
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestOfflineUncheckedNames: rows without a first or last name are fine
// offline (the user may be in Convirza already), so validate says they
// would be invalid as new users, and how many there are; named rows add
// nothing.
func TestOfflineUncheckedNames(t *testing.T) {
	name := func(s string) *string { return &s }
	named := state.DesiredUser{Email: "a@example.com", FirstName: name("Ann"), LastName: name("Lee")}
	noFirst := state.DesiredUser{Email: "b@example.com", LastName: name("Bo")}
	blankLast := state.DesiredUser{Email: "c@example.com", FirstName: name("Cy"), LastName: name(" \t")}
	find := func(ds *state.DesiredState) (Unchecked, bool) {
		for _, u := range OfflineUnchecked(ds) {
			if u.Check == "new users' names" {
				return u, true
			}
		}
		return Unchecked{}, false
	}
	if u, ok := find(&state.DesiredState{UsersManaged: true, Users: []state.DesiredUser{named}}); ok {
		t.Errorf("every row named, yet: %+v", u)
	}
	u, ok := find(&state.DesiredState{UsersManaged: true, Users: []state.DesiredUser{named, noFirst, blankLast}})
	if !ok || !strings.HasPrefix(u.Detail, "2 rows lack a first_name or last_name") {
		t.Errorf("two rows without a name: %+v (found %v)", u, ok)
	}
}
