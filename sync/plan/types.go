package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Version is the plan file format version. A plan of another version is
// refused by apply.
const Version = 1

// Action is what a change does.
type Action int

// The actions, in the order the results CSV documents them. NoOp is explicit
// so that the zero value means "nothing".
const (
	NoOp Action = iota
	Create
	Update
	Adopt
	Move
	Rename
	Delete
	Deactivate
	Reactivate
)

var actionNames = [...]string{"no-op", "create", "update", "adopt", "move", "rename", "delete", "deactivate", "reactivate"}

func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Outcome is the results-CSV word for the action done: "created", "moved"...
func (a Action) Outcome() string {
	switch a {
	case Create, Update, Adopt, Move, Rename, Delete, Deactivate, Reactivate:
		return strings.TrimSuffix(a.String(), "e") + "ed"
	}
	return "unchanged"
}

// ParseAction reads an action's String form.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return NoOp, fmt.Errorf("unknown action %q", s)
}

// MarshalText encodes the action as its name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes an action name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Kind is the kind of object a change is about.
type Kind string

// The two kinds.
const (
	KindGroup Kind = "group"
	KindUser  Kind = "user"
)

// Policy selects which changes a plan may hold.
type Policy string

// The policies of DESIGN.md.
const (
	PolicyUpsert     Policy = "upsert"      // create and update, never delete
	PolicyCreateOnly Policy = "create-only" // only creates
	PolicyUpdateOnly Policy = "update-only" // only changes to existing objects
	PolicyMirror     Policy = "mirror"      // upsert, plus deletes and deactivations
)

// ParsePolicy validates a --policy value.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyUpsert, PolicyCreateOnly, PolicyUpdateOnly, PolicyMirror:
		return p, nil
	case "":
		return PolicyUpsert, nil
	}
	return "", fmt.Errorf("unknown policy %q (want upsert, create-only, update-only or mirror)", s)
}

// Ref names a group: by Convirza id when it exists, and by ext id always
// when it has one. A Ref with ID 0 and an ExtID names a group this plan
// creates; apply resolves it once that create has succeeded.
type Ref struct {
	ID    int64  `json:"id,omitempty"`
	ExtID string `json:"ext_id,omitempty"`
	Name  string `json:"name,omitempty"`
}

// IsZero reports whether the ref names nothing.
func (r Ref) IsZero() bool { return r.ID == 0 && r.ExtID == "" }

// String renders the ref for people: the ext id, else "id:N".
func (r Ref) String() string {
	if r.ExtID != "" {
		return r.ExtID
	}
	if r.ID != 0 {
		return "id:" + strconv.FormatInt(r.ID, 10)
	}
	return ""
}

// The field names, as the API spells them in request bodies.
const (
	FieldName       = "org_unit_name"
	FieldExtID      = "org_unit_ext_id"
	FieldParent     = "org_unit_parent_id"
	FieldAddress    = "address"
	FieldCity       = "city"
	FieldState      = "state"
	FieldZip        = "zip"
	FieldPhone      = "phone_number"
	FieldIndustryID = "industry_id"

	FieldUsername   = "username"
	FieldFirstName  = "first_name"
	FieldLastName   = "last_name"
	FieldRole       = "role"
	FieldUserGroup  = "ct_user_ou_id"
	FieldUserExtID  = "user_ext_id"
	FieldUserStatus = "user_status"
)

// FieldChange is one field of a change, as sent to the API. Before is ""
// for a create. Values are text; integer fields (org_unit_parent_id,
// industry_id, ct_user_ou_id) hold decimal ids, and apply sends them as
// numbers. A parent that this plan creates has After "" and is named by the
// change's Parent ref.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
	// BeforeLabel and AfterLabel say the same for people, where the value is
	// an id: the parent's ext id or name, the industry's name.
	BeforeLabel string `json:"before_label,omitempty"`
	AfterLabel  string `json:"after_label,omitempty"`
}

// Change is one write (or, for Refused, one write not made).
type Change struct {
	// ID is the change's number in the plan, from 1; After refers to it.
	ID     int    `json:"id"`
	Action Action `json:"action"`
	Kind   Kind   `json:"kind"`
	// Key is the group's ext id, or the user's match key (email in lower
	// case, or user_ext_id).
	Key string `json:"key"`
	// ObjectID is the Convirza id of the object changed; 0 for a create.
	ObjectID int64 `json:"convirza_id,omitempty"`
	// Name is what people call the object: the group's name, the user's
	// email.
	Name string `json:"name,omitempty"`
	// Parent is the group the object sits under after the change (a user's
	// group, for users). FromParent is where it was, for moves.
	Parent     Ref  `json:"parent"`
	FromParent *Ref `json:"from_parent,omitempty"`
	// Fields are the body of the request: every field sent for a create,
	// exactly the changed ones otherwise. Sorted by Field.
	Fields []FieldChange `json:"fields,omitempty"`
	// Reason says why, for people ("ext id left the export", "temporary
	// name to break a rename swap").
	Reason string `json:"reason,omitempty"`
	// Source is the export row that asked for the change.
	Source *state.Source `json:"source,omitempty"`
	// After lists the IDs of the changes that must succeed first.
	After []int `json:"after,omitempty"`
	// NewUser marks a user create, which may email that person.
	NewUser bool `json:"new_user,omitempty"`
}

// Field returns the change of one field, if the change has it.
func (c *Change) Field(name string) (FieldChange, bool) {
	for _, f := range c.Fields {
		if f.Field == name {
			return f, true
		}
	}
	return FieldChange{}, false
}

// Gate is one safety gate, evaluated by Calculate before any write.
type Gate struct {
	Name    string `json:"name"`  // "max-deletes", "max-changes", "max-invalid", "shrink"
	Limit   string `json:"limit"` // as given: "10%", "5"
	Count   int    `json:"count"` // what the plan would do
	Allowed int    `json:"allowed"`
	Total   int    `json:"total"` // the base of a percentage (owned objects)
	Tripped bool   `json:"tripped"`
	Forced  bool   `json:"forced,omitempty"` // tripped, but --force passed it
	Message string `json:"message"`
}

// Account names what the plan was made for; apply refuses a plan whose
// account or root differs from the credentials it runs with.
type Account struct {
	APIURL       string `json:"api_url"`
	RootID       int64  `json:"root_id"`
	RootExtID    string `json:"root_ext_id,omitempty"`
	RootName     string `json:"root_name,omitempty"`
	CallerUserID int64  `json:"caller_user_id,omitempty"`
}

// Plan is the outcome of Calculate: data, versioned, with JSON tags that
// round-trip.
type Plan struct {
	Version int `json:"version"`
	// Digest is "sha256:" and the hex SHA-256 of the plan's canonical
	// encoding (see Digest); Signature is "hmac-sha256:" and the hex
	// HMAC-SHA256 of the same bytes under the plan key, when one was set.
	// Neither is part of what they cover. Seal sets both.
	Digest       string  `json:"digest,omitempty"`
	Signature    string  `json:"signature,omitempty"`
	Account      Account `json:"account"`
	Policy       Policy  `json:"policy"`
	UsersManaged bool    `json:"users_managed"`
	Forced       bool    `json:"forced,omitempty"`
	// PhoneRegion is the region the plan read phone numbers without a
	// country code in ("" is US); the stale check compares in it too.
	PhoneRegion string `json:"phone_region,omitempty"`
	// Changes are the writes, in an order that is safe to run one by one;
	// apply may run independent ones concurrently, honouring After.
	Changes []Change `json:"changes"`
	// Refused are writes the policy wanted but a rule forbids (a group that
	// still has users that are not managed, the caller's own user). Each
	// carries its reason.
	Refused []Change `json:"refused,omitempty"`
	// Invalid are the rows left out: the loader's invalid rows and the ones
	// only the plan could find (an unknown industry, a group conflict).
	Invalid []state.Problem `json:"invalid,omitempty"`
	Gates   []Gate          `json:"gates,omitempty"`
	// Tree is the part of the hierarchy the reports draw: every group a
	// change touches (by its final place) and its ancestors up to the root,
	// parents before children, siblings by name. A renderer needs nothing
	// else to draw the tree.
	Tree []Node `json:"tree,omitempty"`
	// Unchanged counts the owned objects the export wants as they are.
	Unchanged Counts `json:"unchanged"`
	// Owned counts the objects the plan may delete or deactivate.
	Owned Counts `json:"owned"`
}

// Node is one group of Plan.Tree.
type Node struct {
	Ref    Ref `json:"ref"`
	Parent Ref `json:"parent"` // zero for the root
	// Folded counts the unchanged groups below this node that are not
	// themselves in the tree; a report shows "… 212 unchanged groups".
	Folded int `json:"folded,omitempty"`
}

// Counts counts groups and users.
type Counts struct {
	Groups int `json:"groups"`
	Users  int `json:"users"`
}

// Blocks reports whether the gate stops its plan from being applied: it
// tripped, and --force did not pass it.
func (g Gate) Blocks() bool { return g.Tripped && !g.Forced }

// BlockingGates lists the gates that stop the plan from being applied, in
// the plan's order.
func (p *Plan) BlockingGates() []Gate {
	var out []Gate
	for _, g := range p.Gates {
		if g.Blocks() {
			out = append(out, g)
		}
	}
	return out
}

// Blocked reports whether a gate stops the plan from being applied.
func (p *Plan) Blocked() bool { return len(p.BlockingGates()) > 0 }

// BlockedWhy lists the gates that stop the plan, each as "name: message",
// joined by "; ".
func (p *Plan) BlockedWhy() string {
	var msgs []string
	for _, g := range p.BlockingGates() {
		msgs = append(msgs, g.Name+": "+g.Message)
	}
	return strings.Join(msgs, "; ")
}

// Empty reports whether the plan has nothing to write.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Marshal encodes the plan as indented JSON, the plan file format.
func (p *Plan) Marshal() ([]byte, error) {
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// Unmarshal decodes a plan file and refuses another version.
func Unmarshal(b []byte) (*Plan, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("read plan: not a plan file: invalid JSON at byte %d: %w", syn.Offset, err)
		}
		return nil, errors.New("read plan: not a plan file: want a JSON object")
	}
	var version *int
	if raw, ok := probe["version"]; ok {
		if err := json.Unmarshal(raw, &version); err != nil {
			return nil, errors.New("read plan: not a plan file: version is not a number")
		}
	}
	if version == nil {
		return nil, errors.New("read plan: not a plan file: no version")
	}
	if *version != Version {
		return nil, fmt.Errorf("read plan: version %d, this build reads version %d", *version, Version)
	}
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return &p, nil
}
