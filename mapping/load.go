package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// LoadOptions says what to load.
type LoadOptions struct {
	// GroupsPath is the groups export (CSV, a JSON array of rows, or a
	// combined JSON file {"groups": [...], "users": [...]}).
	GroupsPath string
	// UsersPath is the users export. It may name the same combined JSON
	// file as GroupsPath; that is the same as giving it to GroupsPath alone.
	UsersPath string
	// Format is "" (by extension: .csv, .tsv, .txt, .json or .xlsx, or
	// by the first bytes), "csv", "json" or "xlsx".
	Format string
	// Encoding is the text encoding of CSV and JSON exports (see
	// Encodings); "" takes the mapping's, else UTF-8, or UTF-16 when the
	// file starts with its byte-order mark.
	Encoding string
	// Delimiter is the CSV separator; "" takes the mapping's, else the
	// one the header line uses among , ; tab |.
	Delimiter string
	// Sheet is the worksheet of an XLSX export; "" takes the mapping's,
	// else the first.
	Sheet string
	// Mapping is nil for DefaultMapping.
	Mapping *Mapping
	// RootExtID is the root group's ext id, when it has one: a
	// parent_ext_id or group_ext_id naming it puts the row directly under
	// the root (it is stored as ""), rather than naming no row.
	RootExtID string
	// FS, when set, is where the paths are opened (an embed.FS, say);
	// nil means the operating system's files.
	FS fs.FS
}

// Load reads the exports in one pass and returns the desired state, with
// every invalid row in Invalid (and left out of Groups and Users) and every
// warning in Warnings, both sorted by file and line.
//
// The error is only for failures of a whole file: it cannot be opened or
// parsed any further (a JSON syntax error), the header lacks mapped
// columns, or the export has no rows (ErrNoRows). It is one *FileError or
// several joined. Even with an error, the returned state, when not nil,
// holds what could be read and its problems, so that `validate` can list
// everything; never plan from it.
//
// Load only reports: whether invalid rows may be skipped (--max-invalid)
// is the planner's decision.
func Load(opts LoadOptions) (*state.DesiredState, error) {
	m := opts.Mapping
	if m == nil {
		m = DefaultMapping()
	}
	if opts.GroupsPath == "" && opts.UsersPath == "" {
		return nil, errors.New("load the export: no groups or users file given")
	}
	switch opts.Format {
	case "", "csv", "json", "xlsx":
	default:
		return nil, fmt.Errorf("load the export: unknown input format %q (use csv, json or xlsx)", opts.Format)
	}
	l := newLoader(m, opts.RootExtID)
	if err := l.readSettings(opts); err != nil {
		return nil, err
	}
	l.fsys = opts.FS
	var errs []*FileError
	same := opts.GroupsPath != "" && opts.UsersPath != "" && filepath.Clean(opts.GroupsPath) == filepath.Clean(opts.UsersPath)
	if opts.GroupsPath != "" {
		errs = append(errs, l.readFile(opts.GroupsPath, opts.Format, kindGroups, same)...)
	}
	if opts.UsersPath != "" && !same {
		errs = append(errs, l.readFile(opts.UsersPath, opts.Format, kindUsers, false)...)
	}
	ds := l.finish()
	return ds, joinFileErrors(errs)
}

// loader holds the state of one Load.
type loader struct {
	fsys      fs.FS // nil: the operating system's files
	m         *Mapping
	rootExtID string
	rootKey   string
	region    string            // the mapping's phone region, "US" when not given
	countries map[string]string // country -> its phone region ("" unknown)
	ds        *state.DesiredState
	problems  []problem
	files     map[string]int    // file -> order, for sorting problems
	enc       string            // "" (auto) or one of Encodings
	comma     rune              // 0 (detect) or the CSV delimiter
	sheet     string            // "" (the first) or an XLSX sheet
	sheets    map[string]string // file -> the sheet read, for XLSX exports
	g         groupSet
	u         userSet
	slab      strSlab
	// the role memo of parseRole, for one section at a time
	roleSec  *section
	roleMemo map[string]*state.Role
	lastRole string // the cell parseRole read last, and its role
	lastR    *state.Role
	roles    map[state.Role]*state.Role
	// states remembers what each distinct state cell reads as; cities and
	// industries share one pointer per distinct value (see intern)
	states     map[string]stateCell
	lastState  string // the last cell stateOf read, and what it reads as
	lastSC     stateCell
	cities     internMemo
	industries internMemo
}

type problem struct {
	state.Problem
	file int
	seq  int
}

func newLoader(m *Mapping, rootExtID string) *loader {
	l := &loader{
		m:         m,
		rootExtID: strings.TrimSpace(rootExtID),
		region:    normalize.Region(m.PhoneRegion),
		files:     map[string]int{},
		sheets:    map[string]string{},
		ds: &state.DesiredState{
			UserMatch:        m.Users.Match,
			PhoneRegion:      normalize.Region(m.PhoneRegion),
			IndustrySynonyms: m.industrySynonyms(),
		},
	}
	if l.ds.UserMatch == "" {
		l.ds.UserMatch = state.MatchEmail
	}
	if l.rootExtID != "" {
		l.rootKey = idKey(l.rootExtID)
	}
	return l
}

// readSettings takes the encoding, delimiter and sheet from the options,
// else from the mapping.
func (l *loader) readSettings(opts LoadOptions) error {
	enc, delim, sheet := opts.Encoding, opts.Delimiter, opts.Sheet
	if enc == "" {
		enc = l.m.Encoding
	}
	if delim == "" {
		delim = l.m.Delimiter
	}
	if sheet == "" {
		sheet = l.m.Sheet
	}
	var err error
	if l.enc, err = ParseEncoding(enc); err != nil {
		return fmt.Errorf("load the export: %w", err)
	}
	if l.comma, err = ParseDelimiter(delim); err != nil {
		return fmt.Errorf("load the export: %w", err)
	}
	l.sheet = strings.TrimSpace(sheet)
	return nil
}

// source is the position of a row: a file and line, and for a workbook
// the sheet.
func (l *loader) source(file string, line int) state.Source {
	return state.Source{File: file, Line: line, Sheet: l.sheets[file]}
}

func (l *loader) fileOrder(file string) int {
	if o, ok := l.files[file]; ok {
		return o
	}
	l.files[file] = len(l.files)
	return len(l.files) - 1
}

func (l *loader) add(sev state.Severity, k kind, file string, line int, column, key, msg string) {
	l.problems = append(l.problems, problem{
		Problem: state.Problem{Source: l.source(file, line), Kind: k.String(), Key: key, Column: column, Severity: sev, Message: msg},
		file:    l.fileOrder(file),
		seq:     len(l.problems),
	})
}

// readFile reads one export file. both is true when the same file was
// given for groups and users.
func (l *loader) readFile(path, format string, k kind, both bool) []*FileError {
	name := filepath.Base(path)
	var f fs.File
	var err error
	if l.fsys != nil {
		f, err = l.fsys.Open(path)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return []*FileError{{File: name, Message: "open the " + k.plural() + " export", Err: err}}
	}
	defer f.Close()
	l.fileOrder(name)
	rs, ok := f.(io.ReadSeeker) // OS and embedded files are
	if !ok {
		return []*FileError{{File: name, Message: "the " + k.plural() + " export cannot be read from this file system: it does not seek"}}
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return l.readSource(rs, name, format, k, both, size)
}

// formatOf tells an export's format from its name and first bytes: a zip
// archive is an Excel workbook whatever its name says.
func formatOf(name, format string, head []byte) (string, *FileError) {
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) && format != "json" {
		return "xlsx", nil
	}
	if format != "" {
		return format, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt", ".tab":
		return "csv", nil
	case ".json":
		return "json", nil
	case ".xlsx", ".xlsm":
		return "xlsx", nil
	case ".xls":
		return "", &FileError{File: name, Message: "this is an old-style Excel workbook (.xls), which cannot be read: save it from Excel as .xlsx, or as \"CSV UTF-8\""}
	}
	return "", &FileError{File: name, Message: fmt.Sprintf("cannot tell the format of %s from its extension; use --input-format csv, json or xlsx", name)}
}

// readSource reads one export from the start of src.
func (l *loader) readSource(src io.ReadSeeker, name, format string, k kind, both bool, size int64) []*FileError {
	var head [4]byte
	n, _ := io.ReadFull(src, head[:])
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return []*FileError{{File: name, Message: "read the " + k.plural() + " export", Err: err}}
	}
	format, fe := formatOf(name, format, head[:n])
	if fe != nil {
		return []*FileError{fe}
	}
	switch format {
	case "csv", "xlsx":
		if both {
			return []*FileError{{File: name, Message: "a file given for both groups and users must be a combined JSON file ({\"groups\": [...], \"users\": [...]})"}}
		}
		var fe *FileError
		if format == "csv" {
			fe = l.readCSV(src, name, k, size)
		} else {
			fe = l.readXLSX(src, name, k)
		}
		if fe != nil {
			return []*FileError{fe}
		}
		return nil
	}
	return l.readJSON(src, name, k)
}

// rowIn is one row as read, by field, before conversion.
type rowIn struct {
	file string
	line int
	vals [maxFields]string
	has  [maxFields]bool    // the row carries the field's column
	cols *[maxFields]string // the column name of each field, for problems
	// faults holds read errors of single cells (invalid UTF-8, a JSON
	// value of the wrong type); mask says which are set. It is nil for
	// the rows that have none.
	faults *[maxFields]string
	mask   uint32
	// nulls says which cells held a null marker: they read as empty, and
	// vals keeps the marker, for messages.
	nulls uint32
}

func (r *rowIn) fault(f field, msg string) {
	if r.faults == nil {
		r.faults = new([maxFields]string)
	}
	r.faults[f] = msg
	r.mask |= 1 << f
}

// clean applies cleanCell to every carried cell without a fault: vals then
// holds the cleaned value (a null marker stays, with its bit in nulls),
// and a cell cleanCell refuses gets its fault. Every reader cleans its rows
// right after the blank check and before conversion: the CSV reader does
// it on the goroutine that parses, which had time to spare while the
// conversion was the slower stage.
func (r *rowIn) clean(fields []fieldInfo) {
	for f := range fields {
		if !r.has[f] || r.mask&(1<<f) != 0 {
			continue
		}
		v, null, fault := cleanCell(&fields[f], r.vals[f])
		switch {
		case fault != "":
			r.fault(field(f), fault)
		case null:
			r.vals[f] = strings.TrimSpace(r.vals[f])
			r.nulls |= 1 << f
		default:
			r.vals[f] = v
		}
	}
}

// blank reports whether every carried cell is empty.
func (r *rowIn) blank(n int) bool {
	for f := 0; f < n; f++ {
		if r.has[f] && strings.TrimSpace(r.vals[f]) != "" {
			return false
		}
	}
	return r.mask == 0
}

// rowConv converts one row's cells; it records the row's problems.
type rowConv struct {
	l   *loader
	r   *rowIn
	sec *section
	key string
	bad bool
}

func (c *rowConv) err(f field, format string, args ...any) {
	c.bad = true
	c.l.add(state.SeverityError, c.sec.kind, c.r.file, c.r.line, c.r.cols[f], c.key, fmt.Sprintf(format, args...))
}

func (c *rowConv) warn(f field, format string, args ...any) {
	c.l.add(state.SeverityWarning, c.sec.kind, c.r.file, c.r.line, c.r.cols[f], c.key, fmt.Sprintf(format, args...))
}

// get returns a field's cleaned value and whether the row carries it.
// A cell fault is reported and reads as not carried.
func (c *rowConv) get(f field) (string, bool) {
	if !c.r.has[f] {
		return "", false
	}
	if c.r.mask&(1<<f) != 0 {
		c.err(f, "%s", c.r.faults[f])
		return "", false
	}
	return c.r.value(f), true
}

// value is a carried cell's cleaned value: "" for a null marker.
func (r *rowIn) value(f field) string {
	if r.nulls&(1<<f) != 0 {
		return ""
	}
	return r.vals[f]
}

// peek returns a field's cleaned value without reporting a fault.
func (c *rowConv) peek(f field) string {
	if !c.r.has[f] || c.r.mask&(1<<f) != 0 {
		return ""
	}
	return c.r.value(f)
}

// required returns a required field's value, reporting it when missing.
func (c *rowConv) required(f field, what string) string {
	if !c.r.has[f] {
		c.err(f, "missing %s", what)
		return ""
	}
	v, ok := c.get(f) // reports a fault
	if ok && v == "" {
		if c.r.nulls&(1<<f) != 0 {
			c.err(f, "missing %s (the cell holds %q, a null marker)", what, c.r.vals[f])
		} else {
			c.err(f, "missing %s", what)
		}
	}
	return v
}

// opt returns the pointer for an optional field the row carries: nil when
// the cell is empty and ignored, a pointer to "" when empty and cleared.
func (c *rowConv) opt(f field, v string) *string {
	if v == "" {
		if c.sec.empty[f] == EmptyClear {
			return c.l.slab.ptr("")
		}
		return nil
	}
	return c.l.slab.ptr(v)
}

// groupRow converts and keeps one group row.
func (l *loader) groupRow(r *rowIn, sec *section) {
	c := rowConv{l: l, r: r, sec: sec}
	if r.has[gExtID] && r.mask&(1<<gExtID) == 0 {
		c.key = r.value(gExtID)
	}
	g := l.g.next()
	g.Source = l.source(r.file, r.line)
	g.ExtID = c.required(gExtID, "org_unit_ext_id, the group's key")
	g.Name = normalize.Text(c.required(gName, "org_unit_name"))

	pid, _ := c.get(gParentExtID)
	pname, _ := c.get(gParentName)
	pname = normalize.Text(pname)
	if pid != "" && pname != "" {
		c.err(gParentName, "both parent_ext_id and parent_name are given; give one")
		pname = ""
	}
	g.ParentExtID = pid

	country, _ := c.get(gCountry)
	country = normalize.Text(country)
	hint := ""
	if country == "" && l.region == "US" {
		// No country: the US rules apply, unless the state and the postal
		// code both say plainly that the row is Canadian.
		prov := l.stateOf(c.peek(gState)).prov
		_, post := canadianPostal(c.peek(gZip))
		if prov && post {
			country = "Canada"
		} else {
			hint = countryHint
		}
	}
	region, known := l.rowRegion(country)
	us := region == "US"

	if v, ok := c.get(gAddress); ok {
		g.Address = c.opt(gAddress, normalize.Text(v))
	}
	if v, ok := c.get(gCity); ok {
		if v = normalize.Text(v); v != "" {
			g.City = l.intern(&l.cities, v)
		} else {
			g.City = c.opt(gCity, v)
		}
	}
	if v, ok := c.get(gState); ok {
		switch {
		case v != "" && us:
			if sc := l.stateOf(v); sc.code != nil {
				g.State = sc.code
			} else {
				c.err(gState, "not a US state: %q%s", v, hint)
			}
		case v != "":
			g.State = c.opt(gState, normalize.Text(v))
		default:
			g.State = c.opt(gState, v)
		}
	}
	if v, ok := c.get(gZip); ok {
		if v != "" {
			if us {
				z, padded, err := normalize.Zip(v)
				switch {
				case err != nil:
					c.err(gZip, "not a US ZIP code: %q%s", v, hint)
					ok = false
				case padded:
					c.warn(gZip, "ZIP %q padded to %q (Excel dropped the leading zero)", v, z)
				}
				v = z
			} else {
				v = normalize.Text(v)
			}
		}
		if ok {
			g.Zip = c.opt(gZip, v)
		}
	}
	if v, ok := c.get(gPhone); ok {
		if v != "" {
			e164, ext, err := normalize.PhoneWithExt(v, region)
			if !known {
				// A country this tool does not know: only a number with its
				// country code can be read.
				e164, ext, err = normalize.PhoneWithExt(v, "ZZ")
			}
			switch {
			case err != nil && !known:
				c.err(gPhone, "bad phone number %q: the country %q is not one this tool knows, so the number must start with its country code (+…)", v, country)
				ok = false
			case err != nil:
				c.err(gPhone, "bad phone number %q: not a valid number of region %s (%s)", v, region, l.regionWhy(country))
				ok = false
			case ext != "":
				c.warn(gPhone, "extension %q dropped: Convirza keeps the number without it", ext)
			}
			v = e164
		}
		if ok {
			g.Phone = c.opt(gPhone, v)
		}
	}
	ind, _ := c.get(gIndustry)
	indID, _ := c.get(gIndustryID)
	ind = normalize.Text(ind)
	switch {
	case ind != "" && indID != "":
		c.err(gIndustryID, "both industry and industry_id are given; give one")
	case indID != "":
		n, err := strconv.ParseInt(indID, 10, 64)
		if err != nil || n <= 0 {
			c.err(gIndustryID, "industry_id %q is not a positive whole number", indID)
		} else {
			g.IndustryID = &n
		}
	case ind != "":
		g.Industry = l.intern(&l.industries, ind)
	}
	l.g.done(pname, c.bad)
}

// rowRegion is the phone region of a row of the given country (see
// normalize.RowRegion), remembered: an export spells a few countries a
// hundred thousand times.
func (l *loader) rowRegion(country string) (string, bool) {
	if country == "" {
		return l.region, true
	}
	if r, ok := l.countries[country]; ok {
		return r, r != ""
	}
	r, known := normalize.RowRegion(country, l.region)
	if l.countries == nil {
		l.countries = map[string]string{}
	}
	if len(l.countries) < 1024 {
		l.countries[country] = r
	}
	return r, known
}

// stateCell is what a state cell reads as.
type stateCell struct {
	code *string // the USPS code, when the cell names a US state
	prov bool    // the cell names a Canadian province or territory
}

// memoLimit bounds each memo of cell values: a column with more distinct
// values than this is free text, and its further values are not kept.
const memoLimit = 4096

// stateOf reads a cleaned state cell, remembered: an export spells a few
// dozen states a hundred thousand times.
func (l *loader) stateOf(v string) stateCell {
	if v == l.lastState && l.states != nil { // a row reads its state twice
		return l.lastSC
	}
	if sc, ok := l.states[v]; ok {
		l.lastState, l.lastSC = v, sc
		return sc
	}
	var sc stateCell
	if code, ok := normalize.State(v); ok {
		sc.code = &code
	}
	_, sc.prov = canadianProvince(v)
	if l.states == nil {
		l.states = map[string]stateCell{}
	}
	if len(l.states) < memoLimit {
		v = strings.Clone(v)
		l.states[v] = sc
		l.lastState, l.lastSC = v, sc
	}
	return sc
}

// internMemo holds one pointer per distinct value of a column, so that
// rows repeating a value share it (nothing writes through a desired row's
// pointers).
type internMemo struct {
	m    map[string]*string
	last *string // the value returned last: runs of one value are common
}

// intern returns memo's pointer to v.
func (l *loader) intern(memo *internMemo, v string) *string {
	if memo.last != nil && *memo.last == v {
		return memo.last
	}
	if p, ok := memo.m[v]; ok {
		memo.last = p
		return p
	}
	if memo.m == nil {
		memo.m = map[string]*string{}
	}
	if len(memo.m) >= memoLimit {
		return l.slab.ptr(v)
	}
	c := strings.Clone(v)
	p := &c
	memo.m[c], memo.last = p, p
	return p
}

// regionWhy says where a row's phone region comes from, for messages.
func (l *loader) regionWhy(country string) string {
	if country != "" {
		return fmt.Sprintf("the row's country %q", country)
	}
	return "the mapping's phone_region, US unless set"
}

// userRow converts and keeps one user row.
func (l *loader) userRow(r *rowIn, sec *section) {
	c := rowConv{l: l, r: r, sec: sec}
	if r.has[uEmail] && r.mask&(1<<uEmail) == 0 {
		c.key = r.vals[uEmail] // a null marker included, as written
	}
	if c.key == "" && r.has[uExtID] && r.mask&(1<<uExtID) == 0 {
		c.key = r.value(uExtID)
	}
	var u state.DesiredUser
	u.Source = l.source(r.file, r.line)
	if email := c.required(uEmail, "email"); email != "" {
		if validEmail(email) {
			u.Email = email
		} else {
			c.err(uEmail, "bad email %q", email)
		}
	}
	if v, ok := c.get(uFirstName); ok {
		u.FirstName = c.opt(uFirstName, normalize.Text(v))
	}
	if v, ok := c.get(uLastName); ok {
		u.LastName = c.opt(uLastName, normalize.Text(v))
	}
	v, ok := c.get(uRole)
	switch {
	case ok && v != "":
		if u.Role = l.parseRole(sec, v); u.Role == nil {
			c.err(uRole, "%s", unknownRole(v))
		}
	case sec.defaultRole != "" && (ok || !r.has[uRole]): // empty or absent, not faulty
		u.Role = l.rolePtr(sec.defaultRole)
	}
	if v, ok := c.get(uGroupExtID); ok {
		u.GroupExtID = c.opt(uGroupExtID, v)
	}
	if sec.match == state.MatchExtID {
		if v := c.required(uExtID, "user_ext_id, the user's key (users.match is user_ext_id)"); v != "" {
			u.ExtID = l.slab.ptr(v)
		}
	} else if v, ok := c.get(uExtID); ok {
		u.ExtID = c.opt(uExtID, v)
	}
	l.u.add(u, c.bad)
}

// parseRole reads a role cell, through the mapping's users.roles first. A
// column holds a handful of distinct values, so each is parsed once per
// section, and the rows share one pointer per role (nothing writes through
// a desired row's pointers).
func (l *loader) parseRole(sec *section, v string) *state.Role {
	if l.roleSec != sec {
		l.roleSec, l.roleMemo, l.lastRole, l.lastR = sec, map[string]*state.Role{}, "", nil
	}
	if v == l.lastRole && l.lastR != nil { // runs of one role are common
		return l.lastR
	}
	if r, ok := l.roleMemo[v]; ok {
		if r != nil {
			l.lastRole, l.lastR = v, r
		}
		return r
	}
	role, ok := sec.roles[normalize.Key(v)]
	if !ok {
		role, ok = state.ParseRole(v)
	}
	var r *state.Role
	if ok {
		r = l.rolePtr(role)
	}
	if len(l.roleMemo) < 64 { // a column of free text is not memoised
		l.roleMemo[strings.Clone(v)] = r
	}
	return r
}

// rolePtr returns the one shared pointer to role.
func (l *loader) rolePtr(role state.Role) *state.Role {
	if r, ok := l.roles[role]; ok {
		return r
	}
	if l.roles == nil {
		l.roles = map[state.Role]*state.Role{}
	}
	r := &role
	l.roles[role] = r
	return r
}

// finish runs the checks across rows, leaves invalid rows out and sorts
// the problems.
func (l *loader) finish() *state.DesiredState {
	ds := l.ds
	if l.g.seen {
		l.finishGroups()
		ds.GroupsManaged = true
	}
	if l.u.seen {
		l.finishUsers()
		ds.UsersManaged = true
	}
	ds.Groups = l.g.compact()
	ds.Users = l.u.compact()
	ds.UserKeys, l.u.keys = l.u.keys, nil
	l.g.byKey = nil
	slices.SortFunc(l.problems, func(a, b problem) int {
		if a.file != b.file {
			return a.file - b.file
		}
		if a.Source.Line != b.Source.Line {
			return a.Source.Line - b.Source.Line
		}
		return a.seq - b.seq
	})
	for _, p := range l.problems {
		if p.Severity == state.SeverityError {
			ds.Invalid = append(ds.Invalid, p.Problem)
		} else {
			ds.Warnings = append(ds.Warnings, p.Problem)
		}
	}
	return ds
}

// ProblemSummary counts what Load found.
type ProblemSummary struct {
	// InvalidRows counts the rows left out (a row with three errors counts
	// once); InvalidGroups and InvalidUsers split it.
	InvalidRows   int `json:"invalid_rows"`
	InvalidGroups int `json:"invalid_groups"`
	InvalidUsers  int `json:"invalid_users"`
	Errors        int `json:"errors"`
	Warnings      int `json:"warnings"`
	Groups        int `json:"groups"` // valid group rows
	Users         int `json:"users"`  // valid user rows
}

// Problems summarizes a loaded state. Several problems on one row count as
// one invalid row: that is the unit --max-invalid counts.
func Problems(ds *state.DesiredState) ProblemSummary {
	s := ProblemSummary{Errors: len(ds.Invalid), Warnings: len(ds.Warnings), Groups: len(ds.Groups), Users: len(ds.Users)}
	seen := map[state.Source]bool{}
	for _, p := range ds.Invalid {
		if seen[p.Source] {
			continue
		}
		seen[p.Source] = true
		s.InvalidRows++
		if p.Kind == kindUsers.String() {
			s.InvalidUsers++
		} else {
			s.InvalidGroups++
		}
	}
	return s
}

func (s ProblemSummary) String() string {
	return fmt.Sprintf("%d groups and %d users valid; %d invalid rows (%d groups, %d users) with %d errors; %d warnings",
		s.Groups, s.Users, s.InvalidRows, s.InvalidGroups, s.InvalidUsers, s.Errors, s.Warnings)
}
