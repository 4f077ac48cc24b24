package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// ClientRemote is the Remote of the API client: its writes, and the
// look-ups Apply makes after a create whose outcome is unknown.
func ClientRemote(c *convirza.Client) Remote { return clientRemote{c} }

type clientRemote struct{ c *convirza.Client }

func (r clientRemote) CreateGroup(ctx context.Context, b convirza.GroupCreate) (int64, error) {
	id, _, err := r.c.Groups.Create(ctx, b)
	return id, err
}

func (r clientRemote) PatchGroup(ctx context.Context, id int64, b convirza.GroupPatch) error {
	_, err := r.c.Groups.Patch(ctx, id, b)
	return err
}

func (r clientRemote) DeleteGroup(ctx context.Context, id int64) error {
	_, err := r.c.Groups.Delete(ctx, id)
	return err
}

// Holdings makes two reads of one page each: the group's immediate
// children (deleted ones are not listed), and the active users of its
// subtree.
func (r clientRemote) Holdings(ctx context.Context, id int64, limit int) (Holdings, error) {
	var h Holdings
	gs, resp, err := r.c.Groups.ListChildren(ctx, id, &convirza.GroupListOptions{ListOptions: convirza.ListOptions{Limit: limit}})
	if err != nil {
		return h, fmt.Errorf("list child groups of %d: %w", id, err)
	}
	for _, g := range gs {
		if g.Status == state.StatusDeleted {
			continue
		}
		label := g.ExtID
		if label == "" {
			label = g.Name
		}
		h.Groups = append(h.Groups, Held{ID: g.ID, ExtID: g.ExtID, Label: label})
	}
	h.GroupsTotal = total(resp, len(h.Groups))
	us, resp, err := r.c.Users.List(ctx, &convirza.UserListOptions{OrgUnitID: id, Status: string(state.StatusActive), ListOptions: convirza.ListOptions{Limit: limit}})
	if err != nil {
		return h, fmt.Errorf("list active users of group %d: %w", id, err)
	}
	for _, u := range us {
		if u.Status == state.StatusActive {
			h.Users = append(h.Users, Held{ID: u.ID, Label: u.Email})
		}
	}
	h.UsersTotal = total(resp, len(h.Users))
	return h, nil
}

// total is how many a listing holds in all: its "total", or, when the API
// sent none, the page's count plus one when another page follows.
func total(resp *convirza.Response, n int) int {
	switch {
	case resp.Total >= 0:
		return max(resp.Total, n)
	case resp.NextOffset > 0:
		return n + 1
	}
	return n
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

func (r clientRemote) CreateUser(ctx context.Context, b convirza.UserCreate) (int64, error) {
	id, _, err := r.c.Users.Create(ctx, b)
	return id, err
}

func (r clientRemote) PatchUser(ctx context.Context, id int64, b convirza.UserPatch) error {
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
