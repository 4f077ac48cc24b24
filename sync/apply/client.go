package apply

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// ClientRemote is the Remote of the API client: its writes, and the
// look-ups Apply makes after a create whose outcome is unknown.
func ClientRemote(c *convirza.Client) Remote { return clientRemote{c} }

type clientRemote struct{ c *convirza.Client }

// text renders a field value of a Remote field map as the client's Set
// takes it.
func text(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("value of type %T", v)
}

// setAll sets every field of m on a client body.
func setAll(m map[string]any, set func(field, value string) error) error {
	for k, v := range m {
		s, err := text(v)
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
		if err := set(k, s); err != nil {
			return err
		}
	}
	return nil
}

func (r clientRemote) CreateGroup(ctx context.Context, fields map[string]any) (int64, error) {
	var b convirza.GroupCreate
	if err := setAll(fields, b.Set); err != nil {
		return 0, fmt.Errorf("create group: %w", err)
	}
	id, _, err := r.c.Groups.Create(ctx, b)
	return id, err
}

func (r clientRemote) PatchGroup(ctx context.Context, id int64, fields map[string]any) error {
	var b convirza.GroupPatch
	if err := setAll(fields, b.Set); err != nil {
		return fmt.Errorf("patch group %d: %w", id, err)
	}
	_, err := r.c.Groups.Patch(ctx, id, b)
	return err
}

func (r clientRemote) DeleteGroup(ctx context.Context, id int64) error {
	_, err := r.c.Groups.Delete(ctx, id)
	return err
}

// FindGroup walks parentID's immediate children (deleted ones are not
// listed) for the ext id.
func (r clientRemote) FindGroup(ctx context.Context, parentID int64, extID string) (int64, bool, error) {
	want := strings.TrimSpace(extID)
	for g, err := range r.c.Groups.ListChildrenIter(ctx, parentID, nil) {
		if err != nil {
			return 0, false, fmt.Errorf("look up group %s: %w", extID, err)
		}
		if g.Status != state.StatusDeleted && strings.TrimSpace(g.ExtID) == want {
			return g.ID, true, nil
		}
	}
	return 0, false, nil
}

func (r clientRemote) CreateUser(ctx context.Context, fields map[string]any) (int64, error) {
	var b convirza.UserCreate
	if err := setAll(fields, b.Set); err != nil {
		return 0, fmt.Errorf("create user: %w", err)
	}
	id, _, err := r.c.Users.Create(ctx, b)
	return id, err
}

func (r clientRemote) PatchUser(ctx context.Context, id int64, fields map[string]any) error {
	var b convirza.UserPatch
	if err := setAll(fields, b.Set); err != nil {
		return fmt.Errorf("patch user %d: %w", id, err)
	}
	_, err := r.c.Users.Patch(ctx, id, b)
	return err
}

func (r clientRemote) DeleteUser(ctx context.Context, id int64) error {
	_, err := r.c.Users.Delete(ctx, id)
	return err
}

// FindUser lists the users whose email contains email (the API matches
// partially, ignoring case) and takes the one whose email is exactly it,
// ignoring case, and is not deleted.
func (r clientRemote) FindUser(ctx context.Context, email string) (int64, bool, error) {
	want := strings.ToLower(strings.TrimSpace(email))
	for u, err := range r.c.Users.ListIter(ctx, &convirza.UserListOptions{Email: want}) {
		if err != nil {
			return 0, false, fmt.Errorf("look up user %s: %w", email, err)
		}
		if u.Status != state.StatusDeleted && strings.ToLower(strings.TrimSpace(u.Email)) == want {
			return u.ID, true, nil
		}
	}
	return 0, false, nil
}
