package mapping

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// Mapping says which CRM column holds which Convirza field, and how to read
// the cells. It is decoded from YAML (see DESIGN.md, "The mapping file"):
//
//	groups:
//	  columns: {org_unit_ext_id: Account ID, org_unit_name: Account Name, country: Billing Country, ...}
//	  industries: {Food & Beverage: Restaurants}
//	  empty: {phone_number: clear}
//	users:
//	  match: email
//	  defaults: {role: standard}
//	  columns: {email: Email, ...}
//	phone_region: US
type Mapping struct {
	Groups GroupsMapping `yaml:"groups"`
	Users  UsersMapping  `yaml:"users"`
	// PhoneRegion is the ISO 3166 region assumed for a phone number without
	// a country code ("" means US). A row whose country column names
	// another country uses that country instead.
	PhoneRegion string `yaml:"phone_region"`
	// Encoding, Delimiter and Sheet say how to read the export files, as
	// --encoding, --delimiter and --sheet do (the flags win).
	Encoding  string `yaml:"encoding"`
	Delimiter string `yaml:"delimiter"`
	Sheet     string `yaml:"sheet"`
}

// GroupsMapping is the groups part of a Mapping.
type GroupsMapping struct {
	// Columns maps a Convirza field to its CRM header: org_unit_ext_id,
	// org_unit_name, parent_ext_id or parent_name, address, city, state,
	// zip, phone_number, industry or industry_id, and country (not a
	// Convirza field: it only says which rows the US state and ZIP rules
	// apply to, and picks the phone region).
	Columns map[string]string `yaml:"columns"`
	// Industries maps a CRM word to a Convirza industry name or id.
	Industries map[string]string `yaml:"industries"`
	// Empty says what an empty cell means per field: ignore (the default)
	// or clear. Only address, city, state, zip and phone_number can be
	// cleared.
	Empty map[string]EmptyPolicy `yaml:"empty"`
	// OptionalColumns means a mapped column missing from the header is
	// simply not managed, rather than an error; only org_unit_ext_id and
	// org_unit_name must be there. DefaultMapping sets it, and so does a
	// mapping file whose groups section maps no columns.
	OptionalColumns bool `yaml:"-"`
}

// UsersMapping is the users part of a Mapping.
type UsersMapping struct {
	// Match is how users are matched: email (the default) or user_ext_id.
	Match    state.UserMatch `yaml:"match"`
	Defaults UserDefaults    `yaml:"defaults"`
	// Columns maps email, first_name, last_name, role, group_ext_id and
	// user_ext_id to CRM headers.
	Columns map[string]string `yaml:"columns"`
	// Empty is as for groups; first_name, last_name, group_ext_id and
	// user_ext_id can be cleared. An empty group_ext_id means the root
	// unless the mapping says "group_ext_id: ignore".
	Empty map[string]EmptyPolicy `yaml:"empty"`
	// Roles maps a CRM role word ("System Administrator") to a Convirza
	// role (admin, standard or readonly), as Industries does for groups.
	Roles map[string]string `yaml:"roles"`
	// OptionalColumns is as for groups; email (and user_ext_id when
	// matching by it) must be there.
	OptionalColumns bool `yaml:"-"`
}

// UserDefaults fills empty cells (and absent columns) of a users export.
type UserDefaults struct {
	// Role is given to every user whose role cell is empty or absent, in
	// any spelling state.ParseRole reads.
	Role string `yaml:"role"`
}

// DefaultMapping is the mapping used without a mapping file: every field's
// column carries the field's canonical name (org_unit_ext_id, ..., email,
// ...), and only the required ones must be present.
func DefaultMapping() *Mapping {
	m := &Mapping{
		Groups:      GroupsMapping{Columns: map[string]string{}, OptionalColumns: true},
		Users:       UsersMapping{Match: state.MatchEmail, Columns: map[string]string{}, OptionalColumns: true},
		PhoneRegion: normalize.DefaultRegion,
	}
	for _, f := range groupFields {
		m.Groups.Columns[f.name] = f.name
	}
	for _, f := range userFields {
		m.Users.Columns[f.name] = f.name
	}
	return m
}

// LoadMapping reads and checks a mapping file.
func LoadMapping(path string) (*Mapping, error) {
	if st, err := os.Stat(path); err == nil && st.Size() > maxMappingBytes {
		return nil, &FileError{File: filepath.Base(path), Message: fmt.Sprintf("mapping: the file is %d bytes; a mapping is at most %d (is this the right file?)", st.Size(), maxMappingBytes)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{File: filepath.Base(path), Message: "read the mapping file", Err: err}
	}
	return parseMapping(b, filepath.Base(path))
}

// ReadMapping reads and checks a mapping file of fsys (an embed.FS, say).
func ReadMapping(fsys fs.FS, name string) (*Mapping, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, &FileError{File: path.Base(name), Message: "read the mapping file", Err: err}
	}
	return parseMapping(b, path.Base(name))
}

// parseMapping decodes and checks a mapping. Unknown keys, unknown field
// names, a field mapped twice over (industry and industry_id, parent_ext_id
// and parent_name) and bad settings are errors that name their line.
func parseMapping(b []byte, file string) (*Mapping, error) {
	tree, fe := checkMappingBounds(b, file)
	if fe != nil {
		return nil, fe
	}
	var m Mapping
	if err := yaml.UnmarshalWithOptions(b, &m, yaml.Strict()); err != nil {
		fe := &FileError{File: file, Message: "mapping: " + err.Error(), Err: err}
		var ye yaml.Error
		if errors.As(err, &ye) {
			fe.Message = "mapping: " + ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				fe.Line = tk.Position.Line
			}
		}
		return nil, fe
	}
	if tree == nil {
		return nil, &FileError{File: file, Message: "mapping: the file is not YAML"}
	}
	if len(m.Groups.Columns) == 0 {
		m.Groups.OptionalColumns = true
	}
	if len(m.Users.Columns) == 0 {
		m.Users.OptionalColumns = true
	}
	if errs := m.validate(func(path ...string) int { return lineOf(tree, path...) }); len(errs) > 0 {
		for _, e := range errs {
			e.File = file
		}
		return nil, joinFileErrors(errs)
	}
	return &m, nil
}

// Validate checks a mapping built in code; LoadMapping and ReadMapping
// already did.
func (m *Mapping) Validate() error {
	return joinFileErrors(m.validate(func(...string) int { return 0 }))
}

func (m *Mapping) validate(line func(path ...string) int) []*FileError {
	var errs []*FileError
	add := func(l int, format string, args ...any) {
		errs = append(errs, &FileError{Line: l, Message: "mapping: " + fmt.Sprintf(format, args...)})
	}
	for _, sec := range []struct {
		name    string
		fields  []fieldInfo
		columns map[string]string
		empty   map[string]EmptyPolicy
	}{
		{"groups", groupFields[:], m.Groups.Columns, m.Groups.Empty},
		{"users", userFields[:], m.Users.Columns, m.Users.Empty},
	} {
		known := func(name string) (fieldInfo, bool) {
			for _, f := range sec.fields {
				if f.name == name {
					return f, true
				}
			}
			return fieldInfo{}, false
		}
		names := make([]string, len(sec.fields))
		for i, f := range sec.fields {
			names[i] = f.name
		}
		for _, k := range sortedKeys(sec.columns) {
			if _, ok := known(k); !ok {
				add(line(sec.name, "columns", k), "%s.columns: unknown Convirza field %q%s", sec.name, k, didYouMean(k, names))
				continue
			}
			if strings.TrimSpace(sec.columns[k]) == "" {
				add(line(sec.name, "columns", k), "%s.columns.%s: the CRM column is empty", sec.name, k)
			}
		}
		for _, k := range sortedKeys(sec.empty) {
			f, ok := known(k)
			p := sec.empty[k]
			switch {
			case !ok:
				add(line(sec.name, "empty", k), "%s.empty: unknown Convirza field %q%s", sec.name, k, didYouMean(k, names))
			case p != EmptyClear && p != EmptyIgnore:
				add(line(sec.name, "empty", k), "%s.empty.%s: %q is neither clear nor ignore", sec.name, k, string(p))
			case p == EmptyClear && !f.clearable:
				add(line(sec.name, "empty", k), "%s.empty.%s: %s cannot be cleared", sec.name, k, k)
			}
		}
	}
	gc := m.Groups.Columns
	if gc["industry"] != "" && gc["industry_id"] != "" && !m.Groups.OptionalColumns {
		add(line("groups", "columns", "industry_id"), "groups.columns maps both industry and industry_id; map one")
	}
	if gc["parent_ext_id"] != "" && gc["parent_name"] != "" && !m.Groups.OptionalColumns {
		add(line("groups", "columns", "parent_name"), "groups.columns maps both parent_ext_id and parent_name; map one")
	}
	if !m.Groups.OptionalColumns {
		for _, f := range []string{"org_unit_ext_id", "org_unit_name"} {
			if gc[f] == "" {
				add(line("groups", "columns"), "groups.columns does not map %s, which every group needs", f)
			}
		}
	}
	switch m.Users.Match {
	case "", state.MatchEmail, state.MatchExtID:
	default:
		add(line("users", "match"), "users.match: %q is neither email nor user_ext_id", string(m.Users.Match))
	}
	if !m.Users.OptionalColumns {
		if m.Users.Columns["email"] == "" {
			add(line("users", "columns"), "users.columns does not map email, which every user needs")
		}
		if m.Users.Match == state.MatchExtID && m.Users.Columns["user_ext_id"] == "" {
			add(line("users", "match"), "users.match is user_ext_id but users.columns does not map user_ext_id")
		}
	}
	if r := m.Users.Defaults.Role; r != "" {
		if _, ok := state.ParseRole(r); !ok {
			add(line("users", "defaults", "role"), "users.defaults.role: unknown role %q (use admin, standard or readonly)", r)
		}
	}
	if r := m.PhoneRegion; r != "" && !normalize.ValidRegion(r) {
		add(line("phone_region"), "phone_region: %q is not a region phonenumbers knows (use a code such as US, CA, GB)", r)
	}
	for _, k := range sortedKeys(m.Users.Roles) {
		if _, ok := state.ParseRole(m.Users.Roles[k]); !ok || strings.TrimSpace(k) == "" {
			add(line("users", "roles", k), "users.roles: %q -> %q: map a CRM word to admin, standard or readonly", k, m.Users.Roles[k])
		}
	}
	if _, err := ParseEncoding(m.Encoding); err != nil {
		add(line("encoding"), "encoding: %v", err)
	}
	if _, err := ParseDelimiter(m.Delimiter); err != nil {
		add(line("delimiter"), "delimiter: %v", err)
	}
	for _, k := range sortedKeys(m.Groups.Industries) {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(m.Groups.Industries[k]) == "" {
			add(line("groups", "industries"), "groups.industries: %q -> %q: both sides must be given", k, m.Groups.Industries[k])
		}
	}
	return errs
}

// section resolves the part of the mapping for one kind of file. canonical
// forces the canonical column names (the combined JSON format).
func (m *Mapping) section(k kind, canonical bool) *section {
	s := &section{kind: k}
	var cols map[string]string
	var empty map[string]EmptyPolicy
	if k == kindGroups {
		cols, empty, s.optional = m.Groups.Columns, m.Groups.Empty, m.Groups.OptionalColumns
	} else {
		cols, empty, s.optional = m.Users.Columns, m.Users.Empty, m.Users.OptionalColumns
		s.match = m.Users.Match
		if s.match == "" {
			s.match = state.MatchEmail
		}
		if r, ok := state.ParseRole(m.Users.Defaults.Role); ok {
			s.defaultRole = r
		}
		s.roles = m.roleSynonyms()
	}
	if len(cols) == 0 || canonical {
		cols, s.optional = nil, true
	}
	for i, f := range fieldsOf(k) {
		switch {
		case cols == nil:
			s.columns[i] = f.name
		default:
			s.columns[i] = strings.TrimSpace(cols[f.name])
		}
		s.empty[i] = EmptyIgnore
		if p, ok := empty[f.name]; ok {
			s.empty[i] = p
		}
	}
	if k == kindUsers {
		if _, set := empty["group_ext_id"]; !set {
			s.empty[uGroupExtID] = EmptyClear // an empty group is the root
		}
	}
	return s
}

func (m *Mapping) industrySynonyms() map[string]string {
	if len(m.Groups.Industries) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.Groups.Industries))
	for k, v := range m.Groups.Industries {
		out[normalize.Key(k)] = normalize.Text(v)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lineOf finds the line of a key path in a YAML document, or of the
// deepest part of it that exists (0 when none does).
func lineOf(f *ast.File, path ...string) int {
	if f == nil || len(f.Docs) == 0 {
		return 0
	}
	node := f.Docs[0].Body
	line := 0
	for _, key := range path {
		var next ast.Node
		for _, mv := range mappingValues(node) {
			if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == key {
				if tk := mv.Key.GetToken(); tk.Position != nil {
					line = tk.Position.Line
				}
				next = mv.Value
				break
			}
		}
		if next == nil {
			return line
		}
		node = next
	}
	return line
}

func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch n := n.(type) {
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	}
	return nil
}
