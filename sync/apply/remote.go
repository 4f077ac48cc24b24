package apply

import (
	"context"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
)

// Remote is what Apply needs of Convirza: the writes, the look-ups that
// settle a create whose outcome is unknown, and the read that checks a
// group right before it is deleted. ClientRemote adapts the API client;
// tests may use any implementation that keeps the API's rules.
//
// Writes take the client's typed bodies, built once from the plan's change
// (see body.go). Errors should be the client's (*convirza.APIError,
// convirza.ErrOutcomeUnknown, convirza.ErrUnauthorized), which Apply reads
// to report and to decide.
type Remote interface {
	CreateGroup(ctx context.Context, body convirza.GroupCreate) (int64, error)
	PatchGroup(ctx context.Context, id int64, body convirza.GroupPatch) error
	DeleteGroup(ctx context.Context, id int64) error
	// FindGroup looks for a group that is not deleted, with ext id extID,
	// among the immediate children of parentID.
	FindGroup(ctx context.Context, parentID int64, extID string) (id int64, found bool, err error)
	// Holdings reads what a delete of group id could take with it: up to
	// limit of its immediate child groups that are not deleted, and up to
	// limit of the active users of its subtree, each with how many there
	// are in all.
	Holdings(ctx context.Context, id int64, limit int) (Holdings, error)

	CreateUser(ctx context.Context, body convirza.UserCreate) (int64, error)
	PatchUser(ctx context.Context, id int64, body convirza.UserPatch) error
	DeleteUser(ctx context.Context, id int64) error
	// FindUser looks for a user that is not deleted whose email is email,
	// ignoring case.
	FindUser(ctx context.Context, email string) (id int64, found bool, err error)
}

// Holdings is what a group holds, as Remote.Holdings read it.
type Holdings struct {
	Groups      []Held // immediate child groups that are not deleted
	GroupsTotal int
	Users       []Held // active users of the group's subtree
	UsersTotal  int
}

// Held is one object a group holds: its id, and how people know it (a
// group's ext id or name, a user's email).
type Held struct {
	ID    int64
	ExtID string // groups only; "" for a group nobody owns
	Label string
}
