package plan

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// The scheduler turns the decided end state into Changes in a safe order.
//
// It simulates Convirza as the changes land, one by one: which groups
// exist, where each sits, under which name, how many children and active
// users each holds. An operation runs only when it is valid at that moment:
// its parent exists, no sibling holds its name, a move does not put a group
// under its own descendant, a delete finds its group empty. Otherwise it
// waits for the event that may unblock it (a name freed, a group created,
// moved or emptied). Ready operations run lowest first, in the order they
// were built, so the output is deterministic.
//
// When nothing is ready but work remains, a swap or a cycle of names holds
// it up: the lowest blocked operation gets its way by giving the holder of
// its name (or itself, for a move whose names are both taken) a temporary
// name derived from its key, and the final rename follows.
//
// Every change records in After the changes it depends on: the previous
// change of the same object, the create of its parent, the change that last
// freed the name it takes, the last moves of its new parent's ancestors,
// and for a delete, whatever took its children and users out. So apply may
// run changes concurrently in any order that honours After.

type opKind uint8

const (
	opPlace  opKind = iota // create a group, or move and rename it into place
	opUser                 // create, update or reactivate a user
	opDeact                // deactivate a user
	opDelete               // delete a group
)

type blockKind uint8

const (
	blockNone  blockKind = iota
	blockFinal           // its final name under its final parent is held
	blockInter           // both ways through an intermediate name are held
)

type op struct {
	kind opKind
	node groupIdx // the group placed or deleted; a user op's target group, or noGroup
	from groupIdx // a user op: the group an active user leaves, or noGroup
	into groupIdx // a user op: the group an active user is in after, or noGroup
	user userIdx  // a user op: the current user, or noUser

	change int32 // the prepared change of a user op or a delete, in sched.prep; -1 if none

	done, queued bool
	gen          int32
	block        blockKind
	slot         slotKey
}

type evKind uint8

const (
	evCreated evKind = iota
	evSlot
	evEmptied
	evMoved
)

type event struct {
	kind evKind
	node groupIdx
	key  string
}

type blockedEntry struct{ op, gen int32 }

// scheduled is what the schedule stage returns: the changes in their
// order, the refused ones, and the counts of what is unchanged.
type scheduled struct {
	changes    []Change
	changeNode []groupIdx // per change: the group node it is about or under
	changeUser []userIdx  // per change: the current user it is about, or noUser
	refused    []Change
	refNode    []groupIdx // per refused change: the group node it is about or under
	unchanged  Counts
}

type sched struct {
	p       *planner
	out     scheduled
	ops     []op
	prep    []Change
	ready   readyOps
	blocked []blockedEntry
	waiters map[event][]int32
	pending int

	parent    []groupIdx
	name      []string
	exists    []bool
	kids      []int32
	active    []int32
	last      []int // last change per group node
	placeBy   []int // the change that created the node, or last moved it
	tempNamed []bool
	placeOp   []int32
	delOp     []int32
	freedBy   map[slotKey]int
	outDeps   map[groupIdx][]int
	finalKeys map[slotKey]bool
}

// schedule is the schedule stage: it turns the decided end state into
// changes in a safe order.
func (p *planner) schedule() scheduled {
	s := &sched{p: p, last: make([]int, len(p.groups))}
	p.emitFieldChanges(s)
	p.buildOps(s)
	if len(s.ops) == 0 {
		return s.out
	}
	s.out.changes = slices.Grow(s.out.changes, len(s.ops)+len(s.ops)/8)
	n := len(p.groups)
	s.parent, s.name = make([]groupIdx, n), make([]string, n)
	s.exists, s.kids, s.active = make([]bool, n), make([]int32, n), make([]int32, n)
	s.placeBy, s.tempNamed = make([]int, n), make([]bool, n)
	s.placeOp, s.delOp = make([]int32, n), make([]int32, n)
	s.waiters, s.freedBy, s.outDeps = map[event][]int32{}, map[slotKey]int{}, map[groupIdx][]int{}
	s.finalKeys = make(map[slotKey]bool, len(p.placed))
	for k := range p.groups {
		nd := &p.groups[k]
		s.placeOp[k], s.delOp[k], s.parent[k] = -1, -1, noGroup
		if nd.g != nil {
			s.parent[k], s.name[k], s.exists[k] = nd.parent, nd.g.Name, true
			s.kids[k], s.active[k] = int32(nd.endKid-nd.firstKid), nd.active
		}
	}
	for _, k := range p.placed {
		s.finalKeys[slotKey{p.groups[k].finalParent, normalize.Key(p.groups[k].finalName)}] = true
	}
	for i := range s.ops {
		o := &s.ops[i]
		switch o.kind {
		case opPlace:
			s.placeOp[o.node] = int32(i)
		case opDelete:
			s.delOp[o.node] = int32(i)
		}
		s.pending++
		s.wake(int32(i))
	}
	budget := 4*len(s.ops) + 16
	for s.pending > 0 {
		for len(s.ready) > 0 {
			oi := heap.Pop(&s.ready).(int32)
			o := &s.ops[oi]
			o.queued = false
			if o.done {
				continue
			}
			o.gen++
			o.block = blockNone
			s.run(oi)
		}
		if s.pending == 0 {
			break
		}
		if budget--; budget < 0 || !s.breakDeadlock() {
			s.giveUp()
			break
		}
	}
	return s.out
}

// emitFieldChanges emits the updates and adoptions of groups: they change
// no name or place, so they need nothing before them.
func (p *planner) emitFieldChanges(s *sched) {
	for _, i := range p.topo {
		r := &p.groupRows[i]
		if r.invalid || r.node == noGroup || r.match == matchCreate {
			continue
		}
		nd := &p.groups[r.node]
		g := nd.g
		fields := p.groupDiffs(g, r)
		if r.match == matchAdopt {
			if !r.kept {
				continue
			}
			fields = append(fields, FieldChange{Field: FieldExtID, Before: g.ExtID, After: r.ext})
			if !p.same(FieldName, g.Name, r.name) {
				fields = append(fields, FieldChange{Field: FieldName, Before: g.Name, After: r.name})
			}
			sortFields(fields)
			s.emit(Change{
				Action: Adopt, Kind: KindGroup, Key: r.ext, ObjectID: g.ID, Name: nd.finalName,
				Parent: p.ref(nd.parent), Fields: fields, Source: srcOf(r.d.Source),
				Reason: "a group of the same name without an ext id is already there: it is adopted, not created again",
			}, r.node, r.node, noUser, nil)
			continue
		}
		if len(fields) == 0 {
			wantPar := rootGroup
			if r.parentRow != noRow {
				wantPar = p.groupRows[r.parentRow].node
			}
			if wantPar == nd.parent && p.same(FieldName, g.Name, r.name) {
				s.out.unchanged.Groups++
			}
			continue
		}
		if !r.kept {
			continue
		}
		sortFields(fields)
		s.emit(Change{
			Action: Update, Kind: KindGroup, Key: r.ext, ObjectID: g.ID, Name: nd.finalName,
			Parent: p.ref(nd.parent), Fields: fields, Source: srcOf(r.d.Source),
			Reason: "fields differ from the export",
		}, r.node, r.node, noUser, nil)
	}
}

func (p *planner) groupDiffs(g *state.Group, r *groupRow) []FieldChange {
	var fs []FieldChange
	d := r.d
	if d.Address != nil && !p.same(FieldAddress, g.Address, *d.Address) {
		fs = append(fs, FieldChange{Field: FieldAddress, Before: g.Address, After: normalize.Text(*d.Address)})
	}
	if d.City != nil && !p.same(FieldCity, g.City, *d.City) {
		fs = append(fs, FieldChange{Field: FieldCity, Before: g.City, After: normalize.Text(*d.City)})
	}
	if d.State != nil && !p.same(FieldState, g.State, *d.State) {
		fs = append(fs, FieldChange{Field: FieldState, Before: g.State, After: normalize.Text(*d.State)})
	}
	if d.Zip != nil && !p.same(FieldZip, g.Zip, *d.Zip) {
		fs = append(fs, FieldChange{Field: FieldZip, Before: g.Zip, After: normalize.Text(*d.Zip)})
	}
	if d.Phone != nil && !p.same(FieldPhone, g.Phone, *d.Phone) {
		fs = append(fs, FieldChange{Field: FieldPhone, Before: g.Phone, After: normalize.PhoneValue(*d.Phone, p.region)})
	}
	if r.hasInd && r.indID != g.IndustryID {
		before := g.IndustryName
		if name, ok := p.indByID[g.IndustryID]; ok {
			before = name
		}
		fs = append(fs, FieldChange{Field: FieldIndustryID, Before: fmtID(g.IndustryID), After: fmtID(r.indID), BeforeLabel: before, AfterLabel: r.indName})
	}
	return fs
}

func (p *planner) createFields(n groupIdx) []FieldChange {
	nd := &p.groups[n]
	r := &p.groupRows[nd.row]
	d := r.d
	fs := []FieldChange{
		{Field: FieldName, After: r.name},
		{Field: FieldExtID, After: r.ext},
		p.groupField(FieldParent, noGroup, nd.finalParent),
	}
	add := func(field string, v *string, conv func(string) string) {
		if v != nil {
			if s := conv(*v); s != "" {
				fs = append(fs, FieldChange{Field: field, After: s})
			}
		}
	}
	add(FieldAddress, d.Address, normalize.Text)
	add(FieldCity, d.City, normalize.Text)
	add(FieldState, d.State, normalize.Text)
	add(FieldZip, d.Zip, normalize.Text)
	add(FieldPhone, d.Phone, func(s string) string { return normalize.PhoneValue(s, p.region) })
	if r.hasInd {
		fs = append(fs, FieldChange{Field: FieldIndustryID, After: fmtID(r.indID), AfterLabel: r.indName})
	}
	sortFields(fs)
	return fs
}

// groupField is a change of a field that holds a group id: the parent of a
// group, the group of a user. from noGroup means none (a create).
func (p *planner) groupField(field string, from, to groupIdx) FieldChange {
	f := FieldChange{Field: field, After: p.idOf(to), AfterLabel: p.label(to)}
	if from != noGroup {
		f.Before, f.BeforeLabel = p.idOf(from), p.label(from)
	}
	return f
}

func (p *planner) idOf(n groupIdx) string {
	if g := p.groups[n].g; g != nil {
		return strconv.FormatInt(g.ID, 10)
	}
	return ""
}

// srcOf copies a row's source, so that a plan shares nothing with its
// inputs.
func srcOf(s state.Source) *state.Source { return &s }

func sortFields(fs []FieldChange) {
	slices.SortFunc(fs, func(a, b FieldChange) int { return strings.Compare(a.Field, b.Field) })
}

func (p *planner) source(n groupIdx) *state.Source {
	if r := p.groups[n].row; r != noRow && !p.groupRows[r].invalid {
		return srcOf(p.groupRows[r].d.Source)
	}
	return nil
}

// buildOps prepares the operations in their priority order: groups to
// place (parents first), users, deactivations, deletes (leaf first).
func (p *planner) buildOps(s *sched) {
	for _, n := range p.placed {
		s.ops = append(s.ops, op{kind: opPlace, node: n, from: noGroup, into: noGroup, user: noUser, change: -1})
	}
	if p.d.UsersManaged {
		p.buildUserOps(s)
	}
	var dels, refused []groupIdx
	for k := p.nExisting - 1; k > 0; k-- {
		switch nd := &p.groups[k]; {
		case nd.deleted:
			dels = append(dels, k)
		case nd.deleteRefused != "":
			refused = append(refused, k)
		}
	}
	leafFirst := func(a, b groupIdx) int {
		na, nb := &p.groups[a], &p.groups[b]
		if na.depth != nb.depth {
			return int(nb.depth - na.depth)
		}
		if c := strings.Compare(na.ext, nb.ext); c != 0 {
			return c
		}
		return int(a - b)
	}
	slices.SortFunc(dels, leafFirst)
	slices.SortFunc(refused, leafFirst)
	for _, k := range dels {
		s.ops = append(s.ops, op{kind: opDelete, node: k, from: noGroup, into: noGroup, user: noUser, change: s.prepare(p.deleteChange(k, "its ext id left the export"))})
	}
	for _, k := range refused {
		c := p.deleteChange(k, "not deleted: "+p.groups[k].deleteRefused)
		s.refuse(c, k)
	}
}

func (p *planner) deleteChange(k groupIdx, reason string) Change {
	nd := &p.groups[k]
	return Change{Action: Delete, Kind: KindGroup, Key: nd.ext, ObjectID: nd.g.ID, Name: nd.g.Name, Parent: p.ref(nd.parent), Reason: reason}
}

func (s *sched) refuse(c Change, node groupIdx) {
	s.out.refused = append(s.out.refused, c)
	s.out.refNode = append(s.out.refNode, node)
}

func (p *planner) buildUserOps(s *sched) {
	caller := p.c.CallerUserID
	for i := range p.userRows {
		r := &p.userRows[i]
		if r.invalid {
			continue
		}
		if r.current == noUser {
			if !r.kept {
				continue
			}
			t := max(r.target, 0)
			if !p.groups[t].existsAfter {
				continue
			}
			s.ops = append(s.ops, op{kind: opUser, node: t, from: noGroup, into: t, user: noUser, change: s.prepare(p.userCreate(r, t))})
			continue
		}
		cu := &p.users[r.current]
		u := p.user(cu)
		fields, denied, target := p.userDiffs(r, cu)
		if len(fields) == 0 && len(denied) == 0 && u.Active() {
			s.out.unchanged.Users++
			continue
		}
		if !r.kept {
			continue
		}
		base := Change{Kind: KindUser, Key: p.rowKey(r), ObjectID: u.ID, Name: r.email(), Parent: p.ref(cu.group), Source: srcOf(r.d.Source)}
		if len(denied) > 0 {
			c := base
			c.Action, c.Fields = Update, denied
			c.Reason = "refused: the caller's own user is never written"
			s.refuse(c, cu.group)
		}
		o := op{kind: opUser, node: noGroup, from: noGroup, into: noGroup, user: r.current}
		if target != noGroup {
			o.node = target
			base.Parent = p.ref(target)
		}
		switch {
		case !u.Active():
			fields = append(fields, FieldChange{Field: FieldUserStatus, Before: string(u.Status), After: string(state.StatusActive)})
			sortFields(fields)
			base.Action, base.Fields, base.Reason = Reactivate, fields, "inactive in Convirza, back in the export"
			o.into = cu.group
			if target != noGroup {
				o.into = target
			}
		case len(fields) > 0:
			base.Action, base.Fields, base.Reason = Update, fields, "fields differ from the export"
			if target != noGroup {
				o.from, o.into = cu.group, target
			}
		default:
			continue
		}
		o.change = s.prepare(base)
		s.ops = append(s.ops, o)
	}
	if !p.deletesOn {
		return
	}
	for i := range p.users {
		cu := &p.users[i]
		if cu.row != noUserRow || !p.user(cu).Active() {
			continue
		}
		c := Change{
			Action: Deactivate, Kind: KindUser, Key: p.userKey(p.user(cu)), ObjectID: p.user(cu).ID, Name: p.user(cu).Email,
			Parent: p.ref(cu.group), Reason: "left the export",
			Fields: []FieldChange{{Field: FieldUserStatus, Before: string(p.user(cu).Status), After: string(state.StatusInactive)}},
		}
		if caller != 0 && p.user(cu).ID == caller {
			c.Reason = "refused: the caller's own user is never deactivated"
			s.refuse(c, cu.group)
			continue
		}
		s.ops = append(s.ops, op{kind: opDeact, node: noGroup, from: cu.group, into: noGroup, user: userIdx(i), change: s.prepare(c)})
	}
}

func (p *planner) userKey(u *state.User) string {
	if p.d.UserMatch == state.MatchExtID && strings.TrimSpace(u.ExtID) != "" {
		return normalize.UserExtIDKey(u.ExtID)
	}
	return normalize.EmailKey(u.Email)
}

func (p *planner) userCreate(r *userRow, t groupIdx) Change {
	d := r.d
	role := r.wantRole()
	if role == "" {
		role = state.RoleStandard
	}
	text := func(v *string) string {
		if v == nil {
			return ""
		}
		return normalize.Text(*v)
	}
	fs := []FieldChange{
		{Field: FieldUsername, After: r.email()},
		{Field: FieldFirstName, After: text(d.FirstName)},
		{Field: FieldLastName, After: text(d.LastName)},
		p.groupField(FieldUserGroup, noGroup, t),
		{Field: FieldRole, After: role.APIName()},
	}
	if d.ExtID != nil && strings.TrimSpace(*d.ExtID) != "" {
		fs = append(fs, FieldChange{Field: FieldUserExtID, After: strings.TrimSpace(*d.ExtID)})
	}
	sortFields(fs)
	return Change{
		Action: Create, Kind: KindUser, Key: p.rowKey(r), Name: r.email(), Parent: p.ref(t), Fields: fs,
		Source: srcOf(r.d.Source), NewUser: true, Reason: "new in the export",
	}
}

// userDiffs returns the changed fields of a matched user, the ones refused
// because the user is the caller, and the new group (noGroup if it stays).
func (p *planner) userDiffs(r *userRow, cu *currentUser) (fields, denied []FieldChange, target groupIdx) {
	u, d := p.user(cu), r.d
	target = noGroup
	isCaller := p.c.CallerUserID != 0 && u.ID == p.c.CallerUserID
	if d.FirstName != nil && !p.same(FieldFirstName, u.FirstName, *d.FirstName) {
		fields = append(fields, FieldChange{Field: FieldFirstName, Before: u.FirstName, After: normalize.Text(*d.FirstName)})
	}
	if d.LastName != nil && !p.same(FieldLastName, u.LastName, *d.LastName) {
		fields = append(fields, FieldChange{Field: FieldLastName, Before: u.LastName, After: normalize.Text(*d.LastName)})
	}
	if want := r.wantRole(); want != "" {
		cur := p.canonRole(u.Role)
		if cur != want {
			before := roleAPI(cur)
			if cur == "" {
				before = string(u.Role)
			}
			f := FieldChange{Field: FieldRole, Before: before, After: want.APIName()}
			if isCaller && roleRank(want) < roleRank(cur) {
				denied = append(denied, f)
			} else {
				fields = append(fields, f)
			}
		}
	}
	if t := r.target; t != noGroup && (t != cu.group || cu.lost) && p.groups[t].existsAfter {
		f := p.groupField(FieldUserGroup, cu.group, t)
		if cu.lost {
			f.Before, f.BeforeLabel = strconv.FormatInt(u.GroupID, 10), "deleted group "+strconv.FormatInt(u.GroupID, 10)
		}
		if isCaller {
			denied = append(denied, f)
		} else {
			fields = append(fields, f)
			target = t
		}
	}
	if d.ExtID != nil && !p.same(FieldUserExtID, u.ExtID, *d.ExtID) {
		fields = append(fields, FieldChange{Field: FieldUserExtID, Before: u.ExtID, After: strings.TrimSpace(*d.ExtID)})
	}
	if p.d.UserMatch == state.MatchExtID && !p.same(FieldUsername, u.Email, r.email()) {
		fields = append(fields, FieldChange{Field: FieldUsername, Before: u.Email, After: r.email()})
	}
	if isCaller {
		// The caller's own user is never written (apply's CheckScope
		// refuses it too): what the export wants of it is refused.
		denied, fields = append(denied, fields...), nil
	}
	sortFields(fields)
	sortFields(denied)
	return fields, denied, target
}

// prepare keeps a change for an op to emit later.
func (s *sched) prepare(c Change) int32 {
	s.prep = append(s.prep, c)
	return int32(len(s.prep) - 1)
}

// emit appends a change. obj is the group node whose previous change it
// must follow (noGroup for users); tree is the group it shows under; user is the
// current user, for the blast radius (noUser for groups and new users).
func (s *sched) emit(c Change, obj, tree groupIdx, user userIdx, deps []int) int {
	id := len(s.out.changes) + 1
	c.ID = id
	if obj != noGroup {
		if l := s.last[obj]; l > 0 {
			deps = append(deps, l)
		}
		s.last[obj] = id
	}
	c.After = cleanDeps(deps)
	s.out.changes = append(s.out.changes, c)
	s.out.changeNode = append(s.out.changeNode, tree)
	s.out.changeUser = append(s.out.changeUser, user)
	return id
}

func cleanDeps(d []int) []int {
	d = slices.DeleteFunc(d, func(x int) bool { return x <= 0 })
	if len(d) == 0 {
		return nil
	}
	slices.Sort(d)
	return slices.Clip(slices.Compact(d))
}

func (s *sched) run(oi int32) {
	o := &s.ops[oi]
	switch o.kind {
	case opPlace:
		s.runPlace(oi)
	case opUser:
		if o.node != noGroup && !s.exists[o.node] {
			s.wait(oi, event{kind: evCreated, node: o.node})
			return
		}
		var deps []int
		if o.node >= s.p.nExisting {
			deps = append(deps, s.placeBy[o.node])
		}
		tree := o.into
		if tree == noGroup && o.user != noUser {
			tree = s.p.users[o.user].group
		}
		id := s.emit(s.prep[o.change], noGroup, tree, o.user, deps)
		if o.into != noGroup {
			s.active[o.into]++
		}
		if o.from != noGroup {
			s.leave(o.from, id)
		}
		s.finish(oi)
	case opDeact:
		id := s.emit(s.prep[o.change], noGroup, o.from, o.user, nil)
		s.leave(o.from, id)
		s.finish(oi)
	case opDelete:
		n := o.node
		if s.kids[n] > 0 || s.active[n] > 0 {
			s.wait(oi, event{kind: evEmptied, node: n})
			return
		}
		par, key := s.parent[n], normalize.Key(s.name[n])
		c := s.prep[o.change]
		c.Name = s.name[n]
		id := s.emit(c, n, n, noUser, s.outDeps[n])
		s.vacate(par, key, n, id)
		s.exists[n] = false
		s.kids[par]--
		s.outDeps[par] = append(s.outDeps[par], id)
		s.checkEmpty(par)
		s.finish(oi)
	}
}

// leave records that an active user left group n with change id.
func (s *sched) leave(n groupIdx, id int) {
	s.active[n]--
	s.outDeps[n] = append(s.outDeps[n], id)
	s.checkEmpty(n)
}

func (s *sched) runPlace(oi int32) {
	o := &s.ops[oi]
	n := o.node
	nd := &s.p.groups[n]
	q, fname := nd.finalParent, nd.finalName
	fkey := normalize.Key(fname)
	if n >= s.p.nExisting {
		switch {
		case !s.exists[q]:
			s.wait(oi, event{kind: evCreated, node: q})
		case !s.free(q, fkey, n):
			s.blockOn(oi, blockFinal, q, fkey)
		default:
			s.create(n)
			s.finish(oi)
		}
		return
	}
	par, cname := s.parent[n], s.name[n]
	ckey := normalize.Key(cname)
	if par == q {
		if cname != fname {
			if !s.free(q, fkey, n) {
				s.blockOn(oi, blockFinal, q, fkey)
				return
			}
			s.rename(n, fname, s.renameReason(n))
		}
		s.finish(oi)
		return
	}
	if !s.exists[q] {
		s.wait(oi, event{kind: evCreated, node: q})
		return
	}
	if path := s.cyclePath(n, q); path != nil {
		for _, x := range path {
			s.wait(oi, event{kind: evMoved, node: x})
		}
		return
	}
	moveReason := "its parent changed in the export"
	switch {
	case cname == fname:
		if !s.free(q, ckey, n) {
			s.blockOn(oi, blockFinal, q, ckey)
			return
		}
		s.move(n, q, moveReason)
	case !s.free(q, fkey, n):
		s.blockOn(oi, blockFinal, q, fkey)
		return
	case ckey == fkey || s.free(q, ckey, n) && !s.free(par, fkey, n):
		s.move(n, q, moveReason)
		s.rename(n, fname, s.renameReason(n))
	case s.free(par, fkey, n):
		s.rename(n, fname, s.renameReason(n))
		s.move(n, q, moveReason)
	default:
		o.block = blockInter
		s.wait(oi, event{kind: evSlot, node: par, key: fkey})
		s.wait(oi, event{kind: evSlot, node: q, key: ckey})
		s.blocked = append(s.blocked, blockedEntry{oi, o.gen})
		return
	}
	s.finish(oi)
}

func (s *sched) renameReason(n groupIdx) string {
	if s.tempNamed[n] {
		return "its final name, after a temporary one"
	}
	return "its name changed in the export"
}

// cyclePath returns the groups from q up to (not including) n when q sits
// below n, so that moving n under q would make a cycle; nil otherwise.
func (s *sched) cyclePath(n, q groupIdx) []groupIdx {
	depth := 0
	for x := q; x != noGroup; x = s.parent[x] {
		if x == n {
			path := make([]groupIdx, 0, depth)
			for y := q; y != n; y = s.parent[y] {
				path = append(path, y)
			}
			return path
		}
		depth++
	}
	return nil
}

func (s *sched) free(parent groupIdx, key string, n groupIdx) bool {
	for _, o := range s.p.siblings(parent)[key] {
		if o != n {
			return false
		}
	}
	return true
}

func (s *sched) occupy(parent groupIdx, key string, n groupIdx) {
	m := s.p.siblings(parent)
	m[key] = append(m[key], n)
}

func (s *sched) vacate(parent groupIdx, key string, n groupIdx, id int) {
	m := s.p.siblings(parent)
	held := slices.DeleteFunc(m[key], func(x groupIdx) bool { return x == n })
	if len(held) > 0 {
		m[key] = held
		return
	}
	delete(m, key)
	s.freedBy[slotKey{parent, key}] = id
	s.fire(event{kind: evSlot, node: parent, key: key})
}

func (s *sched) create(n groupIdx) {
	p := s.p
	nd := &p.groups[n]
	q, key := nd.finalParent, normalize.Key(nd.finalName)
	deps := []int{s.freedBy[slotKey{q, key}]}
	if q >= p.nExisting {
		deps = append(deps, s.placeBy[q])
	}
	r := &p.groupRows[nd.row]
	id := s.emit(Change{
		Action: Create, Kind: KindGroup, Key: r.ext, Name: nd.finalName, Parent: p.ref(q),
		Fields: p.createFields(n), Source: srcOf(r.d.Source), Reason: "new in the export",
	}, n, n, noUser, deps)
	s.occupy(q, key, n)
	s.parent[n], s.name[n], s.exists[n] = q, nd.finalName, true
	s.kids[q]++
	s.placeBy[n] = id
	s.fire(event{kind: evCreated, node: n})
}

func (s *sched) rename(n groupIdx, name, reason string) {
	p := s.p
	par, old := s.parent[n], s.name[n]
	ok, nk := normalize.Key(old), normalize.Key(name)
	var deps []int
	if nk != ok {
		deps = append(deps, s.freedBy[slotKey{par, nk}])
	}
	id := s.emit(Change{
		Action: Rename, Kind: KindGroup, Key: p.finalExt(n), ObjectID: p.groups[n].g.ID, Name: name,
		Parent: p.ref(par), Source: p.source(n), Reason: reason,
		Fields: []FieldChange{{Field: FieldName, Before: old, After: name}},
	}, n, n, noUser, deps)
	s.name[n] = name
	if nk != ok {
		s.occupy(par, nk, n)
		s.vacate(par, ok, n, id)
	}
}

func (s *sched) move(n, q groupIdx, reason string) {
	p := s.p
	par, key := s.parent[n], normalize.Key(s.name[n])
	deps := []int{s.freedBy[slotKey{q, key}]}
	for x := q; x != noGroup; x = s.parent[x] {
		deps = append(deps, s.placeBy[x])
	}
	from := p.ref(par)
	id := s.emit(Change{
		Action: Move, Kind: KindGroup, Key: p.finalExt(n), ObjectID: p.groups[n].g.ID, Name: s.name[n],
		Parent: p.ref(q), FromParent: &from, Source: p.source(n), Reason: reason,
		Fields: []FieldChange{p.groupField(FieldParent, par, q)},
	}, n, n, noUser, deps)
	s.occupy(q, key, n)
	s.vacate(par, key, n, id)
	s.parent[n] = q
	s.kids[par]--
	s.kids[q]++
	s.placeBy[n] = id
	s.outDeps[par] = append(s.outDeps[par], id)
	s.checkEmpty(par)
	s.fire(event{kind: evMoved, node: n})
}

func (s *sched) checkEmpty(n groupIdx) {
	if s.kids[n] == 0 && s.active[n] == 0 {
		s.fire(event{kind: evEmptied, node: n})
	}
}

func (s *sched) finish(oi int32) {
	s.ops[oi].done = true
	s.pending--
}

func (s *sched) wait(oi int32, ev event) {
	s.waiters[ev] = append(s.waiters[ev], oi)
}

func (s *sched) blockOn(oi int32, kind blockKind, parent groupIdx, key string) {
	o := &s.ops[oi]
	o.block, o.slot = kind, slotKey{parent, key}
	s.wait(oi, event{kind: evSlot, node: parent, key: key})
	s.blocked = append(s.blocked, blockedEntry{oi, o.gen})
}

func (s *sched) fire(ev event) {
	ws, ok := s.waiters[ev]
	if !ok {
		return
	}
	delete(s.waiters, ev)
	for _, oi := range ws {
		s.wake(oi)
	}
}

func (s *sched) wake(oi int32) {
	o := &s.ops[oi]
	if o.done || o.queued {
		return
	}
	o.queued = true
	heap.Push(&s.ready, oi)
}

func (s *sched) pendingNode(n groupIdx) bool {
	if k := s.placeOp[n]; k >= 0 && !s.ops[k].done {
		return true
	}
	k := s.delOp[n]
	return k >= 0 && !s.ops[k].done
}

// breakDeadlock frees the way for the lowest blocked operation that a
// temporary name can help, and reports whether it did.
func (s *sched) breakDeadlock() bool {
	slices.SortFunc(s.blocked, func(a, b blockedEntry) int { return int(b.op - a.op) })
	for len(s.blocked) > 0 {
		e := s.blocked[len(s.blocked)-1]
		s.blocked = s.blocked[:len(s.blocked)-1]
		o := &s.ops[e.op]
		if o.done || o.queued || o.gen != e.gen {
			continue
		}
		n := o.node
		switch o.block {
		case blockFinal:
			for _, m := range slices.Clone(s.p.siblings(o.slot.parent)[o.slot.key]) {
				if m == n || m >= s.p.nExisting || !s.pendingNode(m) {
					continue
				}
				s.rename(m, s.tempName(m, s.parent[m], noGroup),
					fmt.Sprintf("temporary name, so that %s can take the name %q first (a swap or a cycle of names)", s.p.label(n), s.name[m]))
				s.tempNamed[m] = true
				s.wake(e.op)
				if k := s.placeOp[m]; k >= 0 {
					s.wake(k) // its names changed: it looks again
				}
				return true
			}
		case blockInter:
			if s.viaTemp(e.op) {
				return true
			}
		}
	}
	return false
}

// viaTemp moves a group whose old name is taken under its new parent and
// whose new name is taken under its old one: a temporary name, the move,
// then the final name.
func (s *sched) viaTemp(oi int32) bool {
	n := s.ops[oi].node
	nd := &s.p.groups[n]
	q, fname := nd.finalParent, nd.finalName
	par, cname := s.parent[n], s.name[n]
	if par == q || !s.exists[q] || s.cyclePath(n, q) != nil || !s.free(q, normalize.Key(fname), n) ||
		s.free(par, normalize.Key(fname), n) || s.free(q, normalize.Key(cname), n) {
		s.wake(oi) // no longer blocked that way: it looks again
		return true
	}
	tmp := s.tempName(n, par, q)
	s.rename(n, tmp, fmt.Sprintf("temporary name, to move under %s while %q is taken there and %q here", s.p.label(q), cname, fname))
	s.tempNamed[n] = true
	s.move(n, q, "its parent changed in the export")
	s.rename(n, fname, s.renameReason(n))
	s.finish(oi)
	return true
}

// tempName derives a temporary name from the group's key: the same plan
// always picks the same one. It is free under a (and b, unless it is noGroup), now
// and after the plan.
func (s *sched) tempName(n, a, b groupIdx) string {
	base := s.p.groups[n].g.Name
	key := s.p.finalExt(n)
	if key == "" {
		key = strconv.FormatInt(s.p.groups[n].g.ID, 10)
	}
	for attempt := 0; ; attempt++ {
		h := fnv.New32a()
		h.Write([]byte(key))
		if attempt > 0 {
			h.Write([]byte("#" + strconv.Itoa(attempt)))
		}
		name := fmt.Sprintf("%s (renaming %04x)", base, h.Sum32()&0xffff)
		k := normalize.Key(name)
		if k != normalize.Key(s.name[n]) && s.free(a, k, n) && !s.finalKeys[slotKey{a, k}] && (b == noGroup || s.free(b, k, n) && !s.finalKeys[slotKey{b, k}]) {
			return name
		}
	}
}

// giveUp refuses what could not be ordered. It does not happen for a
// consistent state (the property tests check that); it keeps a bug from
// becoming an unsafe plan.
func (s *sched) giveUp() {
	p := s.p
	for i := range s.ops {
		o := &s.ops[i]
		if o.done {
			continue
		}
		var c Change
		if o.change >= 0 {
			c = s.prep[o.change]
		}
		node := o.node
		if o.kind == opPlace {
			nd := &p.groups[o.node]
			c = Change{Action: Move, Kind: KindGroup, Key: p.finalExt(o.node), Name: nd.finalName, Parent: p.ref(nd.finalParent), Source: p.source(o.node)}
			if nd.g == nil {
				c.Action = Create
			} else {
				c.ObjectID = nd.g.ID
			}
		}
		c.Reason = "refused: no order of the changes keeps every step valid"
		c.After = nil
		s.refuse(c, node)
		o.done = true
	}
	s.pending = 0
}

// readyOps is the min-heap of the ready operations' indexes: the lowest,
// built first, runs first (container/heap).
type readyOps []int32

func (h readyOps) Len() int           { return len(h) }
func (h readyOps) Less(i, j int) bool { return h[i] < h[j] }
func (h readyOps) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *readyOps) Push(x any)        { *h = append(*h, x.(int32)) }
func (h *readyOps) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
