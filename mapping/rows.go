package mapping

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/keyjoin"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// groupSet collects the group rows of an export, valid or not, until the
// checks across rows have run.
type groupSet struct {
	seen  bool // a groups export was read
	file  string
	rows  []state.DesiredGroup
	bad   []bool
	pname []string // parent_name per row; nil while no row has one
	// the column names for problems found across rows
	extCol, parentCol, parentNameCol, nameCol string
	byKey                                     *keyIndex // idKey(ext id) -> first row
}

func (s *groupSet) reserve(n int) {
	if n > cap(s.rows) {
		s.rows = append(make([]state.DesiredGroup, 0, n), s.rows...)
		s.bad = append(make([]bool, 0, n), s.bad...)
	}
}

// next makes room for a row and returns it, zeroed, for groupRow to fill
// in place (a large row built on the stack and copied cost a copy per row
// and a bulk write barrier while the GC runs); done then records its fate
// and parent name.
func (s *groupSet) next() *state.DesiredGroup {
	s.rows = append(s.rows, state.DesiredGroup{})
	return &s.rows[len(s.rows)-1]
}

func (s *groupSet) done(pname string, bad bool) {
	if pname != "" && s.pname == nil {
		s.pname = make([]string, len(s.rows)-1, cap(s.rows))
	}
	if s.pname != nil {
		s.pname = append(s.pname, pname)
	}
	s.bad = append(s.bad, bad)
}

// compact leaves out the invalid rows, in place.
func (s *groupSet) compact() []state.DesiredGroup {
	out := s.rows[:0]
	for i := range s.rows {
		if !s.bad[i] {
			out = append(out, s.rows[i])
		}
	}
	clear(s.rows[len(out):])
	s.rows, s.bad, s.pname = nil, nil, nil
	if len(out) == 0 {
		return nil
	}
	return out
}

type userSet struct {
	seen                       bool
	rows                       []state.DesiredUser
	bad                        []bool
	emailCol, extCol, groupCol string
	keys                       *state.UserKeys // the index of the valid rows, by finishUsers
}

func (s *userSet) reserve(n int) {
	if n > cap(s.rows) {
		s.rows = append(make([]state.DesiredUser, 0, n), s.rows...)
		s.bad = append(make([]bool, 0, n), s.bad...)
	}
}

func (s *userSet) add(u state.DesiredUser, bad bool) {
	s.rows = append(s.rows, u)
	s.bad = append(s.bad, bad)
}

func (s *userSet) compact() []state.DesiredUser {
	out := s.rows[:0]
	for i := range s.rows {
		if !s.bad[i] {
			out = append(out, s.rows[i])
		}
	}
	clear(s.rows[len(out):])
	s.rows, s.bad = nil, nil
	if len(out) == 0 {
		return nil
	}
	return out
}

func linesOf(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	if len(s) == 1 {
		return "line " + s[0]
	}
	return "lines " + strings.Join(s, ", ")
}

// finishGroups finds duplicates, resolves parents and finds cycles.
func (l *loader) finishGroups() {
	s := &l.g
	rows := s.rows
	gerr := func(i int, col, msg string) {
		s.bad[i] = true
		l.add(state.SeverityError, kindGroups, rows[i].Source.File, rows[i].Source.Line, col, rows[i].ExtID, msg)
	}

	// Duplicate keys: every copy is invalid, since none can be told right.
	// The index keeps the first copy; the lines of the others are gathered
	// per key.
	s.byKey = newKeyIndex(len(rows), func(i int32) string { return idKey(rows[i].ExtID) })
	var dups map[int32][]int32 // first copy -> the others
	var dupOrder []int32
	// The pairs the index is built from are sorted again by siblingNames.
	pairs, scratch := make([]state.KeyHash, len(rows)), make([]state.KeyHash, len(rows))
	s.byKey.build(len(rows), pairs, scratch, func(i, j int32) {
		if dups == nil {
			dups = map[int32][]int32{}
		}
		if dups[j] == nil {
			dupOrder = append(dupOrder, j)
		}
		dups[j] = append(dups[j], i) // in increasing order: build goes by hash, then row
	})
	slices.Sort(dupOrder)
	for _, j := range dupOrder {
		copies := append([]int32{j}, dups[j]...)
		for _, i := range copies {
			var others []int
			for _, o := range copies {
				if o != i {
					others = append(others, rows[o].Source.Line)
				}
			}
			gerr(int(i), s.extCol, fmt.Sprintf("duplicate org_unit_ext_id %q: also on %s", rows[i].ExtID, linesOf(others)))
		}
	}

	// Parents.
	parent := make([]int32, len(rows))
	var byName, byFold map[string][]int32
	if s.pname != nil {
		byName, byFold = map[string][]int32{}, map[string][]int32{}
		for i := range rows {
			if rows[i].ExtID != "" && rows[i].Name != "" {
				byName[rows[i].Name] = append(byName[rows[i].Name], int32(i))
				k := normalize.Key(rows[i].Name)
				byFold[k] = append(byFold[k], int32(i))
			}
		}
	}
	lastKey, lastIdx := "", int32(-1)
	for i := range rows {
		parent[i] = -1
		if s.pname != nil && s.pname[i] != "" {
			name := s.pname[i]
			match := byName[name]
			if len(match) == 0 {
				match = byFold[normalize.Key(name)]
			}
			switch len(match) {
			case 0:
				gerr(i, s.parentNameCol, fmt.Sprintf("parent_name %q matches no row of the export", name))
			case 1:
				parent[i] = match[0]
				rows[i].ParentExtID = rows[match[0]].ExtID
			default:
				lines := make([]int, len(match))
				for k, j := range match {
					lines[k] = rows[j].Source.Line
				}
				gerr(i, s.parentNameCol, fmt.Sprintf("parent_name %q matches %d rows (%s); name the parent by ext id instead", name, len(match), linesOf(lines)))
			}
			continue
		}
		p := rows[i].ParentExtID
		if p == "" {
			continue
		}
		k := idKey(p)
		if l.rootKey != "" && k == l.rootKey {
			rows[i].ParentExtID = ""
			continue
		}
		var j int32
		var ok bool
		if k == lastKey { // siblings often follow each other
			j, ok = lastIdx, true
		} else if j, ok = s.byKey.lookup(k); ok {
			lastKey, lastIdx = k, j
		}
		if !ok {
			gerr(i, s.parentCol, fmt.Sprintf("parent_ext_id %q names no row of the export and is not the root's ext id (for a partial export, pass --root)", p))
			rows[i].ParentExtID = ""
			continue
		}
		parent[i] = j
		rows[i].ParentExtID = rows[j].ExtID
	}

	// Cycles: walk up from each row; a walk that meets itself is a cycle.
	const (
		white = iota
		onPath
		done
	)
	color := make([]uint8, len(rows))
	var path []int32
	col := s.parentCol
	if s.pname != nil && col == "" {
		col = s.parentNameCol
	}
	for i := range rows {
		if color[i] != white {
			continue
		}
		path = path[:0]
		j := int32(i)
		for j >= 0 && color[j] == white {
			color[j] = onPath
			path = append(path, j)
			j = parent[j]
		}
		if j >= 0 && color[j] == onPath {
			start := len(path) - 1
			for path[start] != j {
				start--
			}
			cycle := path[start:]
			for k := range cycle {
				c := col
				if s.pname != nil && s.pname[cycle[k]] != "" {
					c = s.parentNameCol
				}
				gerr(int(cycle[k]), c, "parent cycle: "+cycleText(rows, cycle, k))
			}
		}
		for _, p := range path {
			color[p] = done
		}
	}
	l.siblingNames(parent, gerr, pairs, scratch)
	l.dependents(parent, gerr, col)
}

// siblingNames finds rows that want one name (ignoring case and spacing)
// under one parent: Convirza holds one group of a name per parent, so none
// of them can be told right.
func (l *loader) siblingNames(parent []int32, gerr func(i int, col, msg string), buf, scratch []state.KeyHash) {
	s := &l.g
	rows := s.rows
	// (parent, name key) pairs hashed and sorted by keyjoin, so that the
	// copies of a pair sit side by side: a million inserts into a hash
	// table were a cache miss each. A tidy ASCII name is folded and hashed
	// on the stack, without the string normalize.Key would make.
	var folded []string // normalize.Key of the names off the fast path, per row
	fast := func(i int32) bool { return folded == nil || folded[i] == "" }
	idx := buf[:0]
	var lower [256]byte
	for i := range rows {
		name := rows[i].Name
		if s.bad[i] || name == "" || parent[i] < 0 && rows[i].ParentExtID != "" {
			continue
		}
		var h uint64
		if n, ok := foldASCII(name, lower[:]); ok {
			h = keyjoin.HashBytes(lower[:n])
		} else {
			if folded == nil {
				folded = make([]string, len(rows))
			}
			folded[i] = normalize.Key(name)
			h = keyjoin.Hash(folded[i])
		}
		h ^= (uint64(uint32(parent[i])) + 1) * 0x9e3779b97f4a7c15
		h ^= h >> 29
		idx = append(idx, state.KeyHash{Hash: h, Index: int32(i)})
	}
	idx = keyjoin.Sort(idx, scratch[:len(idx)])
	same := func(a, b int32) bool {
		if parent[a] != parent[b] {
			return false
		}
		if fast(a) && fast(b) {
			return strings.EqualFold(rows[a].Name, rows[b].Name) // ASCII both
		}
		return normalize.Key(rows[a].Name) == normalize.Key(rows[b].Name)
	}
	others := map[int32][]int32{}
	var order []int32
	keyjoin.DupsFunc(idx, same, func(set []int32) {
		order = append(order, set[0])
		others[set[0]] = set[1:]
	})
	for _, j := range order {
		copies := append([]int32{j}, others[j]...)
		under := "the root"
		if p := parent[j]; p >= 0 {
			under = fmt.Sprintf("%q", rows[p].ExtID)
		}
		for _, i := range copies {
			var lines []int
			for _, o := range copies {
				if o != i {
					lines = append(lines, rows[o].Source.Line)
				}
			}
			gerr(int(i), s.nameCol, fmt.Sprintf("the name %q under %s is also wanted on %s: one parent holds one group of a name", rows[i].Name, under, linesOf(lines)))
		}
	}
}

// dependents makes the rows below an invalid row invalid too, each naming
// the invalid row it depends on: they cannot be created where the export
// puts them.
func (l *loader) dependents(parent []int32, gerr func(i int, col, msg string), col string) {
	s := &l.g
	rows := s.rows
	const (
		unknown = iota
		fine
		broken
	)
	fate := make([]uint8, len(rows))
	var path []int32
	for i := range rows {
		path = path[:0]
		j := int32(i)
		for j >= 0 && fate[j] == unknown && !s.bad[j] {
			path = append(path, j)
			j = parent[j]
		}
		bad := j >= 0 && (fate[j] == broken || s.bad[j])
		// path runs from row i up to the first row whose fate is known;
		// settle it from the top down, so that each row names its parent.
		for k := len(path) - 1; k >= 0; k-- {
			r := path[k]
			if !bad {
				fate[r] = fine
				continue
			}
			p := parent[r]
			fate[r] = broken
			gerr(int(r), col, fmt.Sprintf("parent row %q (%s) is invalid; this row depends on it", rows[p].ExtID, rows[p].Source))
		}
		if s.bad[i] {
			fate[i] = broken
		}
	}
}

// cycleText renders a cycle starting at its k-th row: "A -> B -> A".
func cycleText(rows []state.DesiredGroup, cycle []int32, k int) string {
	const most = 12
	var b strings.Builder
	for n := 0; n <= len(cycle); n++ {
		if n > 0 {
			b.WriteString(" -> ")
		}
		if n == most && len(cycle) > most {
			fmt.Fprintf(&b, "… (%d more) -> ", len(cycle)-most)
			n = len(cycle)
		}
		fmt.Fprintf(&b, "%q", rows[cycle[(k+n)%len(cycle)]].ExtID)
	}
	return b.String()
}

// finishUsers finds duplicate emails and ext ids and checks group_ext_id.
func (l *loader) finishUsers() {
	s := &l.u
	rows := s.rows
	uerr := func(i int, col, msg string) {
		s.bad[i] = true
		key := rows[i].Email
		if key == "" && rows[i].ExtID != nil {
			key = *rows[i].ExtID
		}
		l.add(state.SeverityError, kindUsers, rows[i].Source.File, rows[i].Source.Line, col, key, msg)
	}
	// Duplicate keys, found by the join's index (package keyjoin), which
	// is handed to the planner afterwards: the planner joins it to
	// Convirza's users instead of folding and hashing every key again.
	// The two indexes are made on goroutines of their own while this one
	// resolves the users' groups: they read the rows' emails and ext ids,
	// which the resolution leaves alone, and the problems are added
	// afterwards, in the order of the checks. (Measured on a 1M-user
	// export: the phase takes about 25% less wall time than three passes
	// in a row; one fused pass was slower than three.)
	emailKey := func(i int32) string { return keyjoin.UserEmailKey(&rows[i]) }
	extKey := func(i int32) string {
		if rows[i].ExtID == nil || *rows[i].ExtID == "" {
			return ""
		}
		return normalize.UserExtIDKey(*rows[i].ExtID)
	}
	var byEmail, byExt []state.KeyHash
	var faults []userFault
	var wg sync.WaitGroup
	wg.Go(func() { byEmail = keyjoin.Hashes(len(rows), emailKey, nil) })
	wg.Go(func() { byExt = keyjoin.Hashes(len(rows), extKey, nil) })
	for i := range rows {
		if msg := l.resolveGroup(&rows[i]); msg != "" {
			faults = append(faults, userFault{i, msg})
		}
	}
	wg.Wait()

	dups := func(sorted []state.KeyHash, key func(int32) string, col, what string, shown func(int32) string) {
		keyjoin.Dups(sorted, key, func(set []int32) {
			j := set[0]
			others := make([]int, 0, len(set)-1)
			for _, i := range set[1:] {
				uerr(int(i), col, fmt.Sprintf("duplicate %s %q: also on line %d", what, shown(i), rows[j].Source.Line))
				others = append(others, rows[i].Source.Line)
			}
			uerr(int(j), col, fmt.Sprintf("duplicate %s %q: also on %s", what, shown(j), linesOf(others)))
		})
	}
	dups(byEmail, emailKey, s.emailCol, "email (ignoring case)", func(i int32) string { return rows[i].Email })
	dups(byExt, extKey, s.extCol, "user_ext_id", func(i int32) string { return *rows[i].ExtID })
	for _, f := range faults {
		uerr(f.row, s.groupCol, f.msg)
	}
	s.keys = l.userKeys(byEmail, byExt)
}

// userFault is a problem of a user row, found before the problems are added.
type userFault struct {
	row int
	msg string
}

// resolveGroup checks a user's group_ext_id against the group rows and
// spells it as its group row does (the root's ext id becomes ""). It
// writes only the row's GroupExtID, and returns a fault or "".
func (l *loader) resolveGroup(u *state.DesiredUser) string {
	g := u.GroupExtID
	if g == nil || *g == "" {
		return ""
	}
	k := idKey(*g)
	if l.rootKey != "" && k == l.rootKey {
		u.GroupExtID = l.slab.ptr("")
		return ""
	}
	if !l.g.seen {
		return "" // matched against Convirza's groups by the planner
	}
	j, ok := l.g.byKey.lookup(k)
	switch {
	case !ok:
		return fmt.Sprintf("group_ext_id %q names no group of the export and is not the root's ext id", *g)
	case l.g.bad[j]:
		return fmt.Sprintf("group row %q (%s) is invalid; this user depends on it", l.g.rows[j].ExtID, l.g.rows[j].Source)
	}
	if ext := l.g.rows[j].ExtID; ext != *g {
		u.GroupExtID = l.slab.ptr(ext)
	}
	return ""
}

// userKeys makes the index handed to the planner from the indexes of the
// duplicate checks, which hold every row: the invalid rows are left out
// and the others renumbered as compact numbers them. Under users.match
// user_ext_id the ext ids are the key; an ext id counts only on a row
// with an email, as keyjoin.UserKey says.
//
// The renumbering is read from a table made in row order: looking each
// pair's row up in the rows themselves, in the order of the hashes, was a
// cache miss per user. An email index needs no email check (a row without
// an email has no email key), so with no invalid row it is kept as it is.
func (l *loader) userKeys(byEmail, byExt []state.KeyHash) *state.UserKeys {
	s := &l.u
	bad := count(s.bad)
	var at []int32 // the row's index among the valid rows, or -1
	renumber := func(withEmail bool) {
		at = make([]int32, len(s.rows))
		n := int32(0)
		for i := range s.rows {
			switch {
			case s.bad[i]:
				at[i] = -1
				continue
			case withEmail && s.rows[i].Email == "":
				at[i] = -1
			default:
				at[i] = n
			}
			n++
		}
	}
	keep := func(i int32) (int32, bool) { return at[i], at[i] >= 0 }
	x := &state.UserKeys{Match: state.MatchEmail, Users: len(s.rows) - bad}
	if bad > 0 {
		renumber(false)
		byEmail = keyjoin.Keep(byEmail, keep)
	}
	if l.ds.UserMatch == state.MatchExtID {
		renumber(true)
		x.Match, x.ByKey, x.ByEmail = state.MatchExtID, keyjoin.Keep(byExt, keep), byEmail
	} else {
		x.ByKey = byEmail
	}
	return x
}

// count is the number of true values in b.
func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// foldASCII writes the lower case of a tidy ASCII name (no space at its
// ends, none doubled, no control characters) into buf, which is then its
// normalize.Key; ok is false for any other name.
func foldASCII(s string, buf []byte) (int, bool) {
	if len(s) > len(buf) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80, c < ' ', c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' '):
			return 0, false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return len(s), true
}
