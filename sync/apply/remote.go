package apply

import "context"

// Remote is what Apply needs of Convirza: the writes, and the look-ups that
// settle a create whose outcome is unknown. ClientRemote adapts the API
// client; tests may use any implementation that keeps the API's rules.
//
// Field maps hold the API's field names (plan.FieldName, ...) with integer
// ids (org_unit_parent_id, industry_id, ct_user_ou_id) as int64, an id
// field the export clears as "", and everything else as string. Errors
// should be the client's (*convirza.APIError, convirza.ErrOutcomeUnknown,
// convirza.ErrUnauthorized), which Apply reads to report and to decide.
type Remote interface {
	CreateGroup(ctx context.Context, fields map[string]any) (int64, error)
	PatchGroup(ctx context.Context, id int64, fields map[string]any) error
	DeleteGroup(ctx context.Context, id int64) error
	// FindGroup looks for a group that is not deleted, with ext id extID,
	// among the immediate children of parentID.
	FindGroup(ctx context.Context, parentID int64, extID string) (id int64, found bool, err error)

	CreateUser(ctx context.Context, fields map[string]any) (int64, error)
	PatchUser(ctx context.Context, id int64, fields map[string]any) error
	DeleteUser(ctx context.Context, id int64) error
	// FindUser looks for a user that is not deleted whose email is email,
	// ignoring case.
	FindUser(ctx context.Context, email string) (id int64, found bool, err error)
}
