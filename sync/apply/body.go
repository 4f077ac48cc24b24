package apply

import (
	"fmt"
	"strconv"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// idField reports whether the API takes the field as an integer id.
func idField(name string) bool {
	switch name {
	case plan.FieldParent, plan.FieldIndustryID, plan.FieldUserGroup:
		return true
	}
	return false
}

// parentField is the field that places the object of a change: the parent
// of a group, the group of a user.
func parentField(k plan.Kind) string {
	if k == plan.KindUser {
		return plan.FieldUserGroup
	}
	return plan.FieldParent
}

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

// body is the request body of a change: exactly its fields, with their After
// values; ids as numbers. A parent field whose After is "" names a group the
// plan creates, by the change's Parent ref. A create also gets the parent
// field from Parent when Fields leave it out.
func body(c *plan.Change, known ids) (map[string]any, error) {
	m := make(map[string]any, len(c.Fields)+1)
	pf := parentField(c.Kind)
	for _, f := range c.Fields {
		switch {
		case f.Field == pf && f.After == "":
			id, err := resolveRef(c.Parent, known)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Field, err)
			}
			m[f.Field] = id
		case idField(f.Field) && f.After == "":
			// A cleared id field ("empty: clear") is sent as the export
			// says: an empty string.
			m[f.Field] = ""
		case idField(f.Field):
			n, err := strconv.ParseInt(f.After, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("field %s: %q is not an id", f.Field, f.After)
			}
			m[f.Field] = n
		default:
			m[f.Field] = f.After
		}
	}
	if _, ok := m[pf]; !ok && c.Action == plan.Create && !c.Parent.IsZero() {
		id, err := resolveRef(c.Parent, known)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", pf, err)
		}
		m[pf] = id
	}
	return m, nil
}
