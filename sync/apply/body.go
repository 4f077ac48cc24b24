package apply

import (
	"errors"
	"fmt"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The request bodies of a change are built once, here, from the change's
// fields, straight into the client's typed bodies (convirza.GroupCreate,
// GroupPatch, UserCreate, UserPatch): a text value is copied, an id is
// parsed once, and what the client marshals is what goes on the wire.
//
// Clearing: a text field the export clears ("empty: clear") is sent as "".
// An id field is never cleared: a group always has a parent and a user a
// group, and the API documents no way to unset a group's industry_id (0 is
// no industry, "" is not an integer, null is undocumented), so a change
// that would clear one is not sent (convirza.ErrNoIndustryClear); the
// mapping refuses "empty: clear" on industry and industry_id for the same
// reason.

// ids resolves groups and users that the run creates to their new ids. It
// is safe for concurrent use.
type ids interface {
	group(extID string) (int64, bool)
	user(key string) (int64, bool)
}

// resolveRef returns the id of a group ref: its own, or the one its create
// returned during this run.
func resolveRef(r plan.Ref, known ids) (int64, error) {
	if r.ID != 0 {
		return r.ID, nil
	}
	if r.ExtID != "" {
		if id, ok := known.group(r.ExtID); ok {
			return id, nil
		}
		return 0, fmt.Errorf("group %s has no Convirza id: this plan does not create it, or its create did not succeed", r.ExtID)
	}
	return 0, fmt.Errorf("the change names no group")
}

// objectID is the Convirza id of the object a change is about.
func objectID(c *plan.Change, known ids) (int64, error) {
	if c.ObjectID != 0 {
		return c.ObjectID, nil
	}
	if c.Kind == plan.KindGroup {
		if id, ok := known.group(c.Key); ok {
			return id, nil
		}
	} else if id, ok := known.user(c.Key); ok {
		return id, nil
	}
	return 0, fmt.Errorf("%s %s has no Convirza id", c.Kind, c.Key)
}

// fill sets the change's fields on a body: set takes a field by its API
// name and its value as the plan holds it; setParent takes the id of the
// parent (a group's parent, a user's group). A parent field whose After is
// "" names a group the plan creates, by the change's Parent ref; a create
// also gets the parent from Parent when its fields leave it out.
func fill(c *plan.Change, known ids, set func(field, value string) error, setParent func(int64)) error {
	pf := c.Kind.ParentField()
	hasParent := false
	for _, f := range c.Fields {
		if f.Field == pf {
			hasParent = true
			if f.After == "" {
				id, err := resolveRef(c.Parent, known)
				if err != nil {
					return fmt.Errorf("field %s: %w", f.Field, err)
				}
				setParent(id)
				continue
			}
		}
		if err := set(f.Field, f.After); err != nil {
			return fmt.Errorf("field %s: %w", f.Field, err)
		}
	}
	if !hasParent && c.Action == plan.Create && !c.Parent.IsZero() {
		id, err := resolveRef(c.Parent, known)
		if err != nil {
			return fmt.Errorf("field %s: %w", pf, err)
		}
		setParent(id)
	}
	return nil
}

func groupCreate(c *plan.Change, known ids) (convirza.GroupCreate, error) {
	var b convirza.GroupCreate
	err := fill(c, known, b.Set, func(id int64) { b.ParentID = id })
	return b, err
}

func userCreate(c *plan.Change, known ids) (convirza.UserCreate, error) {
	var b convirza.UserCreate
	err := fill(c, known, b.Set, func(id int64) { b.GroupID = id })
	return b, err
}

func groupPatch(c *plan.Change, known ids) (convirza.GroupPatch, error) {
	var b convirza.GroupPatch
	err := fill(c, known, b.Set, func(id int64) { b.ParentID = &id })
	if err == nil && b.IsZero() {
		err = errNoField
	}
	return b, err
}

// userPatch also sets user_status for a deactivation or a reactivation,
// unless the change's fields already do.
func userPatch(c *plan.Change, known ids) (convirza.UserPatch, error) {
	var b convirza.UserPatch
	if err := fill(c, known, b.Set, func(id int64) { b.GroupID = &id }); err != nil {
		return b, err
	}
	if b.Status == nil {
		var st state.Status
		switch c.Action {
		case plan.Deactivate:
			st = state.StatusInactive
		case plan.Reactivate:
			st = state.StatusActive
		}
		if st != "" {
			b.Status = &st
		}
	}
	if b.IsZero() {
		return b, errNoField
	}
	return b, nil
}

var errNoField = errors.New("the change has no field to send")
