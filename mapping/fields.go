package mapping

import "github.com/convirza-sync/convirza-sync/sync/state"

// field is one Convirza field (or the country pseudo-field) of a section.
type field int

// The fields of a groups export.
const (
	gExtID field = iota
	gName
	gParentExtID
	gParentName
	gAddress
	gCity
	gState
	gZip
	gPhone
	gIndustry
	gIndustryID
	gCountry
	numGroupFields
)

// The fields of a users export.
const (
	uEmail field = iota
	uFirstName
	uLastName
	uRole
	uGroupExtID
	uExtID
	numUserFields
)

const maxFields = int(numGroupFields)

// kind is what a file or section holds.
type kind int

const (
	kindGroups kind = iota
	kindUsers
)

func (k kind) String() string {
	if k == kindUsers {
		return "user"
	}
	return "group"
}

func (k kind) plural() string {
	if k == kindUsers {
		return "users"
	}
	return "groups"
}

// fieldInfo describes one field.
type fieldInfo struct {
	name string // the canonical name, as in the mapping file and canonical headers
	// idLike fields lose one leading apostrophe (Excel's "keep as text"
	// habit) and refuse scientific notation.
	idLike bool
	// clearable fields may say "empty: clear".
	clearable bool
}

var groupFields = [numGroupFields]fieldInfo{
	gExtID:       {name: "org_unit_ext_id", idLike: true},
	gName:        {name: "org_unit_name"},
	gParentExtID: {name: "parent_ext_id", idLike: true},
	gParentName:  {name: "parent_name"},
	gAddress:     {name: "address", clearable: true},
	gCity:        {name: "city", clearable: true},
	gState:       {name: "state", clearable: true},
	gZip:         {name: "zip", idLike: true, clearable: true},
	gPhone:       {name: "phone_number", idLike: true, clearable: true},
	gIndustry:    {name: "industry"},
	gIndustryID:  {name: "industry_id", idLike: true},
	gCountry:     {name: "country"},
}

// Convirza refuses an empty first or last name (the sandbox answers 400),
// so neither can be cleared; a new user needs both (the planner checks it).
var userFields = [numUserFields]fieldInfo{
	uEmail:      {name: "email"},
	uFirstName:  {name: "first_name"},
	uLastName:   {name: "last_name"},
	uRole:       {name: "role"},
	uGroupExtID: {name: "group_ext_id", idLike: true, clearable: true},
	uExtID:      {name: "user_ext_id", idLike: true, clearable: true},
}

func fieldsOf(k kind) []fieldInfo {
	if k == kindUsers {
		return userFields[:]
	}
	return groupFields[:]
}

// EmptyPolicy says what an empty cell means for a field.
type EmptyPolicy string

// The two policies. Ignore is the default.
const (
	EmptyIgnore EmptyPolicy = "ignore" // leave the field as it is in Convirza
	EmptyClear  EmptyPolicy = "clear"  // send "" to clear it
)

// section is a resolved mapping for one kind of file: the CRM header of
// each field ("" when not mapped) and the settings that apply to it.
type section struct {
	kind    kind
	columns [maxFields]string
	// optional means the columns are the canonical names and only the
	// required ones must be present (no mapping file, or one that leaves
	// this section's columns out).
	optional bool
	empty    [maxFields]EmptyPolicy
	// users only
	match       state.UserMatch
	defaultRole state.Role
	roles       map[string]state.Role // users.roles, by normalize.Key
}

func (s *section) nfields() int { return len(fieldsOf(s.kind)) }

// required reports whether a field must be present in the header (and
// non-empty in every row).
func (s *section) required(f field) bool {
	if s.kind == kindGroups {
		return f == gExtID || f == gName
	}
	return f == uEmail || f == uExtID && s.match == state.MatchExtID
}
