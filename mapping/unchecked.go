package mapping

import (
	"fmt"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Unchecked is one check that only Convirza can answer, so that Load (and
// `validate`) leave it to the plan.
type Unchecked struct {
	Check  string `json:"check"`
	Detail string `json:"detail"`
}

// OfflineUnchecked lists what a load could not check offline, for the rows
// of ds: said, so that a clean validate is not read as a clean plan.
func OfflineUnchecked(ds *state.DesiredState) []Unchecked {
	var out []Unchecked
	names, ids := 0, 0
	for _, g := range ds.Groups {
		switch {
		case g.Industry != nil:
			names++
		case g.IndustryID != nil:
			ids++
		}
	}
	if names+ids > 0 {
		out = append(out, Unchecked{Check: "industries",
			Detail: fmt.Sprintf("%d rows name an industry and %d give an industry_id; whether Convirza knows them only the API can tell", names, ids)})
	}
	if len(ds.Groups) > 0 {
		out = append(out, Unchecked{Check: "groups in Convirza",
			Detail: "name clashes with groups already in Convirza under the same parent, groups that are inactive there, and ext ids held by more than one group there"})
	}
	if len(ds.Users) > 0 {
		out = append(out, Unchecked{Check: "users in Convirza",
			Detail: "group_ext_id values that name groups only Convirza holds, and emails held there by another user"})
	}
	nameless := 0
	for i := range ds.Users {
		if ds.Users[i].MissingName() != "" {
			nameless++
		}
	}
	if nameless > 0 {
		out = append(out, Unchecked{Check: "new users' names",
			Detail: fmt.Sprintf("%d rows lack a first_name or last_name: fine for users Convirza already holds, but a new user needs both, so plan lists such a row as invalid when no Convirza user matches it", nameless)})
	}
	if ds.GroupsManaged || ds.UsersManaged {
		out = append(out, Unchecked{Check: "root", Detail: "that --root exists and that the credentials may write under it"})
	}
	return out
}
