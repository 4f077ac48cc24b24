package convirzatest

import (
	"io"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/statefile"
)

// The sandbox loads and saves the state.json format of package statefile;
// these names are that format's, so that a test reads as the sandbox's.
type (
	State    = statefile.State
	Group    = statefile.Group
	User     = statefile.User
	Industry = statefile.Industry
)

// StateVersion is the version of the state file the sandbox reads and writes.
const StateVersion = statefile.Version

// ErrStateVersion is wrapped by the error for a state file of another version.
var ErrStateVersion = statefile.ErrVersion

// ReadState decodes and validates a state file (statefile.Read).
func ReadState(r io.Reader) (State, error) { return statefile.Read(r) }

func validStatus(s state.Status) bool {
	return s == state.StatusActive || s == state.StatusInactive || s == state.StatusDeleted
}

// DefaultIndustries is the industry reference list of DefaultState.
func DefaultIndustries() []Industry {
	names := []string{
		"Automotive", "Healthcare", "Restaurants", "Home Services", "Legal",
		"Real Estate", "Financial Services", "Insurance", "Education", "Technology",
		"Retail", "Hospitality", "Travel", "Marketing & Advertising", "Construction",
		"Manufacturing", "Telecommunications", "Dental", "Fitness", "Other",
	}
	out := make([]Industry, len(names))
	for i, n := range names {
		out[i] = Industry{ID: int64(i + 1), Name: n}
	}
	return out
}

// DefaultTopGroupID is the id of DefaultState's top group.
const DefaultTopGroupID = 1001

// stateEpoch is the creation time of DefaultState's top group.
var stateEpoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

// DefaultState is a fresh account: the top group "Acme Corp" (id 1001, ext id
// "ACME"), no other group, no user, and DefaultIndustries.
func DefaultState() State {
	return State{
		Version:    StateVersion,
		TopGroupID: DefaultTopGroupID,
		Groups: []Group{{
			ID: DefaultTopGroupID, ExtID: "ACME", Name: "Acme Corp", Status: state.StatusActive,
			BillingID: 5001, Address: "100 Main St", City: "Boston", State: "MA", Zip: "02110",
			Phone: "+16175550100", IndustryID: 10, Timezone: "America/New_York",
			Created: stateEpoch, Modified: stateEpoch,
		}},
		Users:      []User{},
		Industries: DefaultIndustries(),
	}
}
