// Package state is the shared vocabulary of convirza-sync, the groups and
// users that Convirza holds now (CurrentState) and the ones a CRM export
// asks for (DesiredState), and never does more than hold and compare them.
//
// Invariant: this package holds data and small pure helpers only. It does no
// I/O, reads no flags and imports nothing of this module.
package state

import (
	"fmt"
	"strings"
	"time"
)

// Status is the lifecycle state of a group or a user in Convirza.
type Status string

// The statuses Convirza uses for groups (org_unit_status) and users (status).
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
	StatusDeleted  Status = "deleted"
)

// Group is one org unit as Convirza holds it.
type Group struct {
	ID           int64     `json:"org_unit_id"`
	ExtID        string    `json:"org_unit_ext_id"`
	Name         string    `json:"org_unit_name"`
	ParentID     int64     `json:"org_unit_parent_id"` // 0 for the account's top group
	TopID        int64     `json:"top_ou_id,omitempty"`
	BillingID    int64     `json:"billing_id,omitempty"`
	Status       Status    `json:"org_unit_status"`
	Address      string    `json:"address"`
	City         string    `json:"city"`
	State        string    `json:"state"`
	Zip          string    `json:"zip"`
	Phone        string    `json:"phone_number"`
	IndustryID   int64     `json:"industry_id,omitempty"`
	IndustryName string    `json:"industry_name,omitempty"`
	Timezone     string    `json:"timezone,omitempty"`
	Created      time.Time `json:"org_unit_created,omitzero"`
	Modified     time.Time `json:"org_unit_modified,omitzero"`
}

// Active reports whether the group's status is active.
func (g Group) Active() bool { return g.Status == StatusActive || g.Status == "" }

// User is one Convirza user.
type User struct {
	ID         int64     `json:"ct_user_id"`
	Email      string    `json:"email"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	ExtID      string    `json:"user_ext_id"`
	Status     Status    `json:"status"`
	Role       Role      `json:"role"`
	GroupID    int64     `json:"group_org_unit_id"`
	GroupExtID string    `json:"group_external_id,omitempty"`
	Created    time.Time `json:"user_created,omitzero"`
}

// Active reports whether the user's status is active.
func (u User) Active() bool { return u.Status == StatusActive || u.Status == "" }

// Industry is one entry of Convirza's industry reference list.
type Industry struct {
	ID   int64  `json:"industry_id"`
	Name string `json:"industry_name"`
}

// CurrentState is what Convirza holds under one root group.
type CurrentState struct {
	// RootID is the group everything is synced under. It is never created,
	// patched, deleted or exported.
	RootID int64 `json:"root_id"`
	// CallerUserID is the ct_user_id of the credentials in use, or 0 when it
	// is not known (a static token). That user is never deactivated, demoted
	// or moved.
	CallerUserID int64 `json:"caller_user_id,omitempty"`
	// Groups holds the root first, then every group below it, of any status.
	Groups []Group `json:"groups"`
	// Users holds every user in the root's subtree, of any status.
	Users      []User     `json:"users"`
	Industries []Industry `json:"industries"`
}

// Root returns the root group, or false when Groups does not hold it.
func (c *CurrentState) Root() (Group, bool) {
	for _, g := range c.Groups {
		if g.ID == c.RootID {
			return g, true
		}
	}
	return Group{}, false
}

// Source names where a desired row came from: a file and the physical,
// 1-based line its record starts on (the header is line 1).
type Source struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Sheet is the worksheet of a workbook export; Line is then its row.
	Sheet string `json:"sheet,omitempty"`
}

// String renders the source as "file.csv:6", or "file.xlsx:Sheet1!A6" for
// a row of a workbook.
func (s Source) String() string {
	if s.Sheet != "" && s.Line > 0 {
		sheet := s.Sheet
		if strings.ContainsAny(sheet, " '!-+()&,;") {
			sheet = "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
		}
		return fmt.Sprintf("%s:%s!A%d", s.File, sheet, s.Line)
	}
	switch {
	case s.File == "" && s.Line == 0:
		return ""
	case s.File == "":
		return fmt.Sprintf("line %d", s.Line)
	case s.Line == 0:
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// DesiredGroup is one group row of the export, already normalized.
//
// A nil pointer field is not managed for this row: the export does not carry
// the column, or the cell was empty and the mapping says "ignore". A non-nil
// pointer to "" means "clear it" (the mapping says "empty: clear").
type DesiredGroup struct {
	Source Source `json:"source"`
	ExtID  string `json:"org_unit_ext_id"`
	Name   string `json:"org_unit_name"`
	// ParentExtID is the parent's ext id; "" puts the group directly under
	// the root.
	ParentExtID string  `json:"parent_ext_id,omitempty"`
	Address     *string `json:"address,omitempty"`
	City        *string `json:"city,omitempty"`
	State       *string `json:"state,omitempty"` // a USPS code for US rows
	Zip         *string `json:"zip,omitempty"`
	Phone       *string `json:"phone_number,omitempty"` // E.164 when it parsed
	// Industry is an industry name from the export; the planner resolves it
	// against the API's list and the mapping's synonyms. An industry cannot
	// be cleared: Industry is never empty, and IndustryID is positive.
	Industry   *string `json:"industry,omitempty"`
	IndustryID *int64  `json:"industry_id,omitempty"`
}

// DesiredUser is one user row of the export, already normalized. Pointer
// fields follow the same rule as DesiredGroup's.
type DesiredUser struct {
	Source    Source  `json:"source"`
	Email     string  `json:"email"`
	FirstName *string `json:"first_name,omitempty"`
	LastName  *string `json:"last_name,omitempty"`
	Role      *Role   `json:"role,omitempty"`
	// GroupExtID is the ext id of the user's group; "" is the root.
	GroupExtID *string `json:"group_ext_id,omitempty"`
	ExtID      *string `json:"user_ext_id,omitempty"`
}

// MissingName is the first of "first_name" and "last_name" the row lacks
// (not carried, or blank), or "". Convirza's Create User takes both and
// refuses an empty one, so a new user needs both; a row of a user Convirza
// already holds needs neither.
func (u *DesiredUser) MissingName() string {
	switch {
	case u.FirstName == nil || strings.TrimSpace(*u.FirstName) == "":
		return "first_name"
	case u.LastName == nil || strings.TrimSpace(*u.LastName) == "":
		return "last_name"
	}
	return ""
}

// UserMatch says how export users are matched to Convirza users.
type UserMatch string

// The two ways to match users.
const (
	MatchEmail UserMatch = "email"       // by email, ignoring case (the default)
	MatchExtID UserMatch = "user_ext_id" // by user_ext_id; a changed email is a new username
)

// DesiredState is what the export asks Convirza to hold.
type DesiredState struct {
	Groups []DesiredGroup `json:"groups"`
	Users  []DesiredUser  `json:"users"`
	// GroupsManaged is true when a groups export was given. Without it, users
	// are matched to groups that already exist and no group is changed.
	GroupsManaged bool `json:"groups_managed"`
	// UsersManaged is true when a users export was given (--users).
	UsersManaged bool      `json:"users_managed"`
	UserMatch    UserMatch `json:"user_match,omitempty"`
	// PhoneRegion is the region phone numbers without a country code were
	// read in, for rows that name no country: the mapping's phone_region
	// ("US" when it gives none). The planner compares Convirza's numbers
	// in the same region.
	PhoneRegion string `json:"phone_region,omitempty"`
	// IndustrySynonyms maps a CRM word, lower-cased, to a Convirza industry
	// name or a decimal industry id.
	IndustrySynonyms map[string]string `json:"industry_synonyms,omitempty"`
	// Invalid lists the rows the loader found invalid and left out of Groups
	// and Users. Whether that is allowed is the planner's gate (--max-invalid).
	Invalid []Problem `json:"invalid,omitempty"`
	// Warnings are findings that changed nothing's fate (a ZIP padded, say).
	Warnings []Problem `json:"warnings,omitempty"`
	// UserKeys, when not nil, is the index of the users' match keys that
	// the loader made while it checked them for duplicates (package
	// keyjoin), handed to the planner so that a million keys are not folded
	// and hashed twice. It describes Users as the loader left them: whoever
	// changes Users must set it to nil. It is never written out.
	UserKeys *UserKeys `json:"-"`
}

// KeyHash is one key of a join by hash: the hash of an object's match key
// and the object's index.
type KeyHash struct {
	Hash  uint64
	Index int32
}

// UserKeys indexes DesiredState.Users by their match keys, as package
// keyjoin hashes them in this process.
type UserKeys struct {
	// Match and Users are the UserMatch and the number of users the index
	// was made for; an index made for other users is not used.
	Match UserMatch
	Users int
	// ByKey holds each user's match key under Match, ByEmail each user's
	// email key (only when Match is user_ext_id); both sorted by hash.
	ByKey, ByEmail []KeyHash
}

// Severity separates errors from warnings.
type Severity string

// The two severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about one row (or the file, when Line is 0).
type Problem struct {
	Source   Source   `json:"source"`
	Kind     string   `json:"kind,omitempty"` // "group" or "user"
	Key      string   `json:"key,omitempty"`  // the row's ext id or email, when known
	Column   string   `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Error renders the problem as "file.csv:6: column "Phone": message".
func (p Problem) Error() string {
	s := p.Source.String()
	if p.Column != "" {
		if s != "" {
			s += ": "
		}
		s += fmt.Sprintf("column %q", p.Column)
	}
	if s != "" {
		s += ": "
	}
	return s + p.Message
}
