package plan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// Calculate plans the changes that make current match desired under
// opts.Policy, ordered so that they can run one by one, and evaluates the
// safety gates.
//
// It is pure: no I/O, no clock, no logging, and the same inputs give the
// same Plan. Row and gate problems are data in the Plan (Invalid, Gates,
// Refused); the error is for misuse only (nil inputs, an unknown policy, a
// current state without its root group).
func Calculate(desired *state.DesiredState, current *state.CurrentState, opts Options) (*Plan, error) {
	if desired == nil {
		return nil, errors.New("calculate plan: no desired state")
	}
	if current == nil {
		return nil, errors.New("calculate plan: no current state")
	}
	policy, err := ParsePolicy(string(opts.Policy))
	if err != nil {
		return nil, fmt.Errorf("calculate plan: %w", err)
	}
	// The phone region is read once, by the loader, from the mapping;
	// Options.PhoneRegion, when set, must say the same.
	region := normalize.Region(desired.PhoneRegion)
	if opts.PhoneRegion != "" {
		if desired.PhoneRegion != "" && normalize.Region(opts.PhoneRegion) != region {
			return nil, fmt.Errorf("calculate plan: the export was read in phone region %s, and the plan is asked for region %s", region, normalize.Region(opts.PhoneRegion))
		}
		region = normalize.Region(opts.PhoneRegion)
	}
	p := &planner{d: desired, c: current, opts: opts, policy: policy, region: region}
	switch policy {
	case PolicyUpsert:
		p.allowC, p.allowM = true, true
	case PolicyCreateOnly:
		p.allowC = true
	case PolicyUpdateOnly:
		p.allowM = true
	case PolicyMirror:
		p.allowC, p.allowM, p.allowD = true, true, true
	}
	if err := p.indexCurrent(); err != nil {
		return nil, err
	}
	p.indexIndustries()
	p.invalidKeys()
	if desired.GroupsManaged {
		p.resolveGroups()
	}
	if desired.UsersManaged {
		p.resolveUsers()
	}
	p.settle()
	p.schedule()
	return p.finish(), nil
}

// planner holds one calculation. Group nodes are indexed by int32: the
// current groups under the root in breadth-first order (the root is node
// 0), then the groups the plan creates.
type planner struct {
	d      *state.DesiredState
	c      *state.CurrentState
	opts   Options
	policy Policy
	region string

	allowC, allowM, allowD bool

	nodes   []gnode
	nExist  int32            // nodes[:nExist] exist in Convirza now
	byExt   map[string]int32 // ext id -> node, for ext ids held once
	dupExt  map[string][]int32
	rootExt string
	rootKey string // extKey(rootExt)

	// sib is the sibling index by name key: parent node -> key -> the
	// children holding it. Built per parent on first use; the scheduler
	// keeps it up to date as changes land.
	sib map[int32]map[string][]int32

	users     []cuser
	userByKey map[string]int32 // match key -> user, for keys held once
	userByEml map[string]int32 // email key -> user (MatchExtID only)
	dupUser   map[string]bool
	dupEmail  map[string]bool

	indByKey map[string]int64
	indByID  map[int64]string
	synonyms map[string]string
	lastInd  struct {
		word, name string
		id         int64
		ok         bool
	} // the last industry resolved
	indHints  map[string]string // an unknown industry word -> its message (suggest.go)
	roleMemo  map[state.Role]state.Role
	badGroups map[string]bool // ext ids of the loader's invalid group rows
	badUsers  map[string]bool

	rows    []grow
	rowByEx map[string]int32
	topo    []int32 // rows, each parent before its children
	urows   []urow

	problems  []state.Problem
	deletesOn bool
	placed    []int32 // nodes with a create, move or rename to place, in topo order

	changes    []Change
	changeNode []int32 // per change: the group node it is about or under
	changeUser []int32 // per change: the current user it is about, or -1
	refused    []Change
	refNode    []int32
	unchanged  Counts
}

type gnode struct {
	g      *state.Group // nil for a group the plan creates
	parent int32        // current parent; -1 for the root and for new groups
	first  int32        // current children: nodes[first:first+nkids]
	nkids  int32
	depth  int32
	row    int32 // the valid-or-not desired row matched to it, -1 if none
	ext    string
	users  int32 // users of any status but deleted
	active int32 // active users

	inExport bool // a row of the export has its ext id

	// decided by settle
	fpar   int32 // parent after the plan (the current one when it stays)
	fname  string
	exists bool // exists after the plan
	del    bool // deleted by the plan
	refuse string
}

type cuser struct {
	u       *state.User
	node    int32
	matched int32 // desired user row, -1 if none
	// lost marks an inactive user whose group is not a live group of the
	// state (it was deleted): it is matched like any user and placed at the
	// root, and a row for it moves it to its group as it is reactivated.
	lost bool
}

type matchKind uint8

const (
	matchNone matchKind = iota
	matchExt
	matchAdopt
	matchCreate
)

type grow struct {
	d       *state.DesiredGroup
	ext     string
	name    string
	prow    int32 // parent row; -1 is the root
	cur     int32 // the current group with this ext id, -1 if none (or several)
	node    int32
	match   matchKind
	invalid bool

	hasInd  bool
	indID   int64
	indName string
}

type urow struct {
	d        *state.DesiredUser
	key      string
	user     int32 // matched current user, -1 for a create
	grow     int32 // the group row of group_ext_id, -1 if none
	target   int32 // group node of group_ext_id, -1 when not managed
	role     uint8 // the role's id, 0 when not managed
	invalid  bool
	emailFix bool // matched by email although users match by user_ext_id
}

func (r *urow) email() string { return strings.TrimSpace(r.d.Email) }

func (r *urow) wantRole() state.Role {
	role, _ := state.RoleFromID(int(r.role))
	return role
}

// problem records a row the plan leaves out.
func (p *planner) problem(src state.Source, kind Kind, key, column, format string, args ...any) {
	p.problems = append(p.problems, state.Problem{
		Source: src, Kind: string(kind), Key: key, Column: column,
		Severity: state.SeverityError, Message: fmt.Sprintf(format, args...),
	})
}

func (p *planner) groupProblem(i int32, column, format string, args ...any) {
	r := &p.rows[i]
	if r.invalid {
		return
	}
	r.invalid = true
	key := r.ext
	if key == "" {
		key = strings.TrimSpace(r.d.ExtID)
	}
	p.problem(r.d.Source, KindGroup, key, column, format, args...)
}

func (p *planner) userProblem(i int32, column, format string, args ...any) {
	r := &p.urows[i]
	if r.invalid {
		return
	}
	r.invalid = true
	key := r.key
	if key == "" {
		key = r.email()
	}
	p.problem(r.d.Source, KindUser, key, column, format, args...)
}

func (p *planner) invalidCount() int { return len(p.d.Invalid) + len(p.problems) }

// indexCurrent builds the node table from the root's subtree: groups that
// are deleted, or not below the root, are left out and never touched.
func (p *planner) indexCurrent() error {
	gs := p.c.Groups
	pos := make(map[int64]int32, len(gs))
	for i := len(gs) - 1; i >= 0; i-- { // backwards: the first of two copies wins
		if gs[i].Status != state.StatusDeleted {
			pos[gs[i].ID] = int32(i)
		}
	}
	ri, ok := pos[p.c.RootID]
	if !ok {
		return fmt.Errorf("calculate plan: root group %d is not among the current groups, or is deleted", p.c.RootID)
	}
	// children of each current group, by index into gs
	cnt := make([]int32, len(gs)+1)
	par := make([]int32, len(gs))
	for i := range gs {
		par[i] = -1
		if j, ok := pos[gs[i].ID]; !ok || j != int32(i) || int32(i) == ri {
			continue
		}
		if j, ok := pos[gs[i].ParentID]; ok && j != int32(i) {
			par[i] = j
			cnt[j+1]++
		}
	}
	for i := 1; i < len(cnt); i++ {
		cnt[i] += cnt[i-1]
	}
	kids := make([]int32, cnt[len(gs)])
	fill := slices.Clone(cnt[:len(gs)])
	for i := range gs {
		if j := par[i]; j >= 0 {
			kids[fill[j]] = int32(i)
			fill[j]++
		}
	}
	// breadth-first from the root; children in the order of the listing
	nodeOf := make([]int32, len(gs))
	for i := range nodeOf {
		nodeOf[i] = -1
	}
	// room for the creates too: the tail of a large slice that is never
	// written costs no memory
	p.nodes = make([]gnode, 0, len(gs)+len(p.d.Groups))
	p.nodes = append(p.nodes, gnode{g: &gs[ri], parent: -1, row: -1})
	nodeOf[ri] = 0
	order := []int32{ri}
	for k := 0; k < len(order); k++ {
		gi := order[k]
		p.nodes[k].first = int32(len(p.nodes))
		for _, ci := range kids[cnt[gi]:cnt[gi+1]] {
			if nodeOf[ci] >= 0 {
				continue
			}
			nodeOf[ci] = int32(len(p.nodes))
			p.nodes = append(p.nodes, gnode{g: &gs[ci], parent: int32(k), depth: p.nodes[k].depth + 1, row: -1})
			order = append(order, ci)
		}
		p.nodes[k].nkids = int32(len(p.nodes)) - p.nodes[k].first
	}
	p.nExist = int32(len(p.nodes))
	p.byExt = make(map[string]int32, len(p.nodes))
	p.rootExt = strings.TrimSpace(p.nodes[0].g.ExtID)
	p.rootKey = extKey(p.rootExt)
	p.nodes[0].ext = p.rootExt
	for k := range p.nodes {
		n := &p.nodes[k]
		n.fpar, n.fname, n.exists = n.parent, n.g.Name, true
		if k == 0 {
			continue
		}
		n.ext = strings.TrimSpace(n.g.ExtID)
		if n.ext == "" {
			continue
		}
		key := extKey(n.ext)
		size := len(p.byExt)
		p.byExt[key] = int32(k)
		if len(p.byExt) > size {
			continue
		}
		// a second group with this ext id (rare): list them all
		if p.dupExt == nil {
			p.dupExt = map[string][]int32{}
		}
		if len(p.dupExt[key]) == 0 {
			for o := int32(1); o < int32(k); o++ {
				if extKey(p.nodes[o].ext) == key {
					p.dupExt[key] = append(p.dupExt[key], o)
				}
			}
		}
		p.dupExt[key] = append(p.dupExt[key], int32(k))
	}
	for e := range p.dupExt {
		delete(p.byExt, e)
	}

	us := p.c.Users
	p.users = make([]cuser, 0, len(us))
	lastID, n := int64(-1), int32(-1)
	for i := range us {
		u := &us[i]
		if u.Status == state.StatusDeleted {
			continue
		}
		lost := false
		if u.GroupID != lastID {
			lastID, n = u.GroupID, -1
			if gi, ok := pos[u.GroupID]; ok {
				n = nodeOf[gi]
			}
		}
		if n < 0 {
			if _, live := pos[u.GroupID]; live || u.Active() {
				continue // outside the root
			}
			// An inactive user whose group is gone: a mirror run deactivated
			// it, then deleted its group (a group with active users cannot
			// be deleted). It still holds its username, so it must be found.
			lost = true
		}
		if lost {
			p.users = append(p.users, cuser{u: u, node: 0, matched: -1, lost: true})
			continue
		}
		p.users = append(p.users, cuser{u: u, node: n, matched: -1})
		p.nodes[n].users++
		if u.Active() {
			p.nodes[n].active++
		}
	}
	return nil
}

func (p *planner) indexIndustries() {
	p.indByKey = make(map[string]int64, len(p.c.Industries))
	p.indByID = make(map[int64]string, len(p.c.Industries))
	for _, in := range p.c.Industries {
		if _, ok := p.indByID[in.ID]; !ok {
			p.indByID[in.ID] = in.Name
		}
		k := normalize.Key(in.Name)
		if old, ok := p.indByKey[k]; !ok || in.ID < old {
			p.indByKey[k] = in.ID
		}
	}
	p.synonyms = make(map[string]string, len(p.d.IndustrySynonyms))
	keys := make([]string, 0, len(p.d.IndustrySynonyms))
	for k := range p.d.IndustrySynonyms {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a deterministic winner when two words fold alike
	for _, k := range keys {
		if _, ok := p.synonyms[normalize.Key(k)]; !ok {
			p.synonyms[normalize.Key(k)] = p.d.IndustrySynonyms[k]
		}
	}
}

func (p *planner) invalidKeys() {
	p.badGroups, p.badUsers = map[string]bool{}, map[string]bool{}
	for _, pr := range p.d.Invalid {
		switch Kind(pr.Kind) {
		case KindGroup:
			p.badGroups[extKey(pr.Key)] = true
		case KindUser:
			p.badUsers[strings.TrimSpace(pr.Key)] = true
			p.badUsers[normalize.Key(pr.Key)] = true
		}
	}
}

// resolveIndustry maps an export's industry word to an id. The last answer
// is kept: rows tend to repeat a word.
func (p *planner) resolveIndustry(word string) (int64, string, bool) {
	if p.lastInd.ok && p.lastInd.word == word {
		return p.lastInd.id, p.lastInd.name, true
	}
	id, name, ok := p.lookupIndustry(word)
	if ok {
		p.lastInd.word, p.lastInd.id, p.lastInd.name, p.lastInd.ok = word, id, name, true
	}
	return id, name, ok
}

func (p *planner) lookupIndustry(word string) (int64, string, bool) {
	k := normalize.Key(word)
	if k == "" {
		return 0, "", false // a clear, which matchGroup refuses first
	}
	if syn, ok := p.synonyms[k]; ok {
		k = normalize.Key(syn)
	}
	if id, ok := p.indByKey[k]; ok {
		return id, p.indByID[id], true
	}
	if id, err := parseID(k); err == nil {
		if name, ok := p.indByID[id]; ok {
			return id, name, true
		}
	}
	return 0, "", false
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err == nil && id <= 0 {
		err = errors.New("not an id")
	}
	return id, err
}

// siblings returns the children of parent holding the name key, from the
// sibling index, building the parent's index on first use.
func (p *planner) siblings(parent int32) map[string][]int32 {
	if m, ok := p.sib[parent]; ok {
		return m
	}
	if p.sib == nil {
		p.sib = map[int32]map[string][]int32{}
	}
	n := &p.nodes[parent]
	m := make(map[string][]int32, n.nkids)
	for c := n.first; c < n.first+n.nkids; c++ {
		k := normalize.Key(p.nodes[c].g.Name)
		m[k] = append(m[k], c)
	}
	p.sib[parent] = m
	return m
}

// resolveGroups validates the group rows, orders them parent first and
// matches each to a current group: by ext id, by adoption, or as a create.
func (p *planner) resolveGroups() {
	gs := p.d.Groups
	p.rows = make([]grow, len(gs))
	p.rowByEx = make(map[string]int32, len(gs))
	dupSeen := map[string]bool{}
	for i := range gs {
		r := &p.rows[i]
		r.d, r.prow, r.node = &gs[i], -1, -1
		r.ext = strings.TrimSpace(gs[i].ExtID)
		r.name = normalize.Text(gs[i].Name)
		i32 := int32(i)
		switch {
		case r.ext == "":
			p.groupProblem(i32, FieldExtID, "missing org_unit_ext_id")
			continue
		case r.name == "":
			p.groupProblem(i32, FieldName, "missing org_unit_name")
		case p.isRootExt(r.ext):
			p.groupProblem(i32, FieldExtID, "%q is the root group's ext id; the root is never a row", r.ext)
		}
		size := len(p.rowByEx)
		p.rowByEx[r.ext] = i32
		if len(p.rowByEx) > size {
			continue
		}
		// a second row with this ext id (rare): the first keeps the key
		j := int32(0)
		for p.rows[j].ext != r.ext {
			j++
		}
		p.rowByEx[r.ext] = j
		p.groupProblem(i32, FieldExtID, "duplicate org_unit_ext_id %q, also at %s", r.ext, p.rows[j].d.Source)
		if !dupSeen[r.ext] {
			dupSeen[r.ext] = true
			p.groupProblem(j, FieldExtID, "duplicate org_unit_ext_id %q, also at %s", r.ext, gs[i].Source)
		}
	}
	// which current groups the export names, whatever becomes of the rows
	for i := range p.rows {
		r := &p.rows[i]
		r.cur = -1
		if r.ext == "" {
			continue
		}
		if n, ok := p.byExt[extKey(r.ext)]; ok {
			r.cur = n
			p.nodes[n].inExport = true
		} else if ids := p.dupExt[extKey(r.ext)]; len(ids) > 0 {
			for _, n := range ids {
				p.nodes[n].inExport = true
			}
		}
	}
	for i := range p.rows {
		r := &p.rows[i]
		pe := strings.TrimSpace(r.d.ParentExtID)
		if r.ext == "" || pe == "" || p.isRootExt(pe) {
			continue
		}
		j, ok := p.rowByEx[pe]
		switch {
		case ok && j == int32(i):
			p.groupProblem(int32(i), "parent_ext_id", "the group is its own parent")
		case ok:
			r.prow = j
		case p.badGroups[extKey(pe)]:
			p.groupProblem(int32(i), "parent_ext_id", "parent row %q is invalid", pe)
		default:
			p.groupProblem(int32(i), "parent_ext_id", "parent_ext_id %q names no row of the export and is not the root's ext id", pe)
		}
	}
	// topological order, export order otherwise; cycles are invalid
	mark := make([]uint8, len(p.rows)) // 0 new, 1 on the stack, 2 placed
	p.topo = make([]int32, 0, len(p.rows))
	var stack []int32
	for i := range p.rows {
		for c := int32(i); c >= 0 && mark[c] == 0; c = p.rows[c].prow {
			mark[c] = 1
			stack = append(stack, c)
			if pr := p.rows[c].prow; pr >= 0 && mark[pr] == 1 {
				for k := len(stack) - 1; k >= 0; k-- {
					p.groupProblem(stack[k], "parent_ext_id", "parent cycle through %q", p.rows[pr].ext)
					if stack[k] == pr {
						break
					}
				}
				break
			}
		}
		for k := len(stack) - 1; k >= 0; k-- {
			mark[stack[k]] = 2
			p.topo = append(p.topo, stack[k])
		}
		stack = stack[:0]
	}
	for _, i := range p.topo {
		p.matchGroup(i)
	}
}

func (p *planner) matchGroup(i int32) {
	r := &p.rows[i]
	if r.invalid {
		return
	}
	if r.prow >= 0 && p.rows[r.prow].invalid {
		p.groupProblem(i, "parent_ext_id", "parent row %q is invalid", p.rows[r.prow].ext)
		return
	}
	d := r.d
	switch {
	case d.IndustryID != nil && *d.IndustryID == 0, d.Industry != nil && normalize.Key(*d.Industry) == "":
		// The API documents no way to unset industry_id; the mapping
		// refuses "empty: clear" on it, and so does the plan.
		p.groupProblem(i, FieldIndustryID, "the industry cannot be cleared: the API documents no way to unset it")
		return
	case d.IndustryID != nil:
		r.hasInd, r.indID = true, *d.IndustryID
		name, ok := p.indByID[r.indID]
		if !ok && len(p.indByID) > 0 {
			p.groupProblem(i, FieldIndustryID, "unknown industry id %d", r.indID)
			return
		}
		r.indName = name
	case d.Industry != nil:
		id, name, ok := p.resolveIndustry(*d.Industry)
		if !ok {
			p.groupProblem(i, "industry", "%s", p.unknownIndustry(*d.Industry))
			return
		}
		r.hasInd, r.indID, r.indName = true, id, name
	}
	if ids := p.dupExt[extKey(r.ext)]; len(ids) > 0 {
		p.groupProblem(i, FieldExtID, "%d groups in Convirza have org_unit_ext_id %q (%s); refusing to guess", len(ids), r.ext, p.idList(ids))
		return
	}
	pn := int32(0)
	if r.prow >= 0 {
		pn = p.rows[r.prow].node
	}
	if n := r.cur; n >= 0 {
		if g := p.nodes[n].g; !g.Active() {
			p.groupProblem(i, FieldExtID, "group %d (%q) is %s in Convirza; its status cannot be written, so it is neither changed nor created again", g.ID, g.Name, g.Status)
			return
		}
		r.node, r.match = n, matchExt
		p.nodes[n].row = i
		return
	}
	if pn < p.nExist {
		var cands []int32
		for _, c := range p.siblings(pn)[normalize.Key(r.name)] {
			if p.nodes[c].ext == "" {
				cands = append(cands, c)
			}
		}
		switch {
		case len(cands) > 1:
			p.groupProblem(i, FieldName, "%d groups named %q without an ext id sit under %s (%s); refusing to guess which to adopt", len(cands), r.name, p.label(pn), p.idList(cands))
			return
		case len(cands) == 1 && p.nodes[cands[0]].row >= 0:
			other := p.nodes[cands[0]].row
			p.groupProblem(i, FieldName, "the name %q under %s is also wanted by row %s", r.name, p.label(pn), p.rows[other].d.Source)
			p.groupProblem(other, FieldName, "the name %q under %s is also wanted by row %s", r.name, p.label(pn), r.d.Source)
			return
		case len(cands) == 1 && !p.nodes[cands[0]].g.Active():
			g := p.nodes[cands[0]].g
			p.groupProblem(i, FieldName, "group %d (%q) under %s would be adopted, but it is %s in Convirza; its status cannot be written", g.ID, g.Name, p.label(pn), g.Status)
			return
		case len(cands) == 1:
			r.node, r.match = cands[0], matchAdopt
			p.nodes[cands[0]].row = i
			return
		}
	}
	r.node, r.match = int32(len(p.nodes)), matchCreate
	p.nodes = append(p.nodes, gnode{parent: -1, row: i, ext: r.ext, fpar: pn, fname: r.name})
}

func (p *planner) idList(ns []int32) string {
	s := make([]string, len(ns))
	for k, n := range ns {
		s[k] = fmt.Sprintf("id %d", p.nodes[n].g.ID)
	}
	return strings.Join(s, ", ")
}

// label names a group for people: its ext id, else its name.
func (p *planner) label(n int32) string {
	nd := &p.nodes[n]
	if e := p.finalExt(n); e != "" {
		return e
	}
	if nd.g != nil {
		if nd.g.Name != "" {
			return nd.g.Name
		}
		return fmt.Sprintf("id:%d", nd.g.ID)
	}
	return nd.fname
}

func (p *planner) finalExt(n int32) string {
	nd := &p.nodes[n]
	if nd.row >= 0 && !p.rows[nd.row].invalid && (nd.g == nil || p.rows[nd.row].match == matchAdopt && p.allowM) {
		return p.rows[nd.row].ext
	}
	return nd.ext
}

// ref names a group node as it is after the plan.
func (p *planner) ref(n int32) Ref {
	if n < 0 {
		return Ref{}
	}
	nd := &p.nodes[n]
	r := Ref{ExtID: p.finalExt(n), Name: nd.fname}
	if nd.g != nil {
		r.ID = nd.g.ID
		if !nd.exists {
			r.Name = nd.g.Name
		}
	}
	return r
}

// resolveUsers validates the user rows and matches each to a current user.
func (p *planner) resolveUsers() {
	byExt := p.d.UserMatch == state.MatchExtID
	p.userByKey = make(map[string]int32, len(p.users))
	p.dupUser = map[string]bool{}
	if byExt {
		p.userByEml = make(map[string]int32, len(p.users))
		p.dupEmail = map[string]bool{}
	}
	for i := range p.users {
		u := p.users[i].u
		k := normalize.Key(u.Email)
		if byExt {
			n := len(p.userByEml)
			p.userByEml[k] = int32(i)
			if len(p.userByEml) == n {
				p.dupEmail[k] = true
			}
			k = normalize.UserExtIDKey(u.ExtID)
		}
		if k == "" {
			continue
		}
		n := len(p.userByKey)
		p.userByKey[k] = int32(i)
		if len(p.userByKey) == n {
			p.dupUser[k] = true
		}
	}
	for k := range p.dupUser {
		delete(p.userByKey, k)
	}
	for k := range p.dupEmail {
		delete(p.userByEml, k)
	}

	p.urows = make([]urow, len(p.d.Users))
	var creates map[string]int32
	for i := range p.d.Users {
		du := &p.d.Users[i]
		r := &p.urows[i]
		i32 := int32(i)
		r.d, r.user, r.grow, r.target = du, -1, -1, -1
		email := r.email()
		r.key = normalize.Key(email)
		if byExt {
			r.key = ""
			if du.ExtID != nil {
				r.key = normalize.UserExtIDKey(*du.ExtID)
			}
		}
		switch {
		case email == "":
			p.userProblem(i32, "email", "missing email")
			continue
		case r.key == "":
			p.userProblem(i32, FieldUserExtID, "missing user_ext_id, which users are matched by")
			continue
		}
		if du.Role != nil {
			role := p.canonRole(*du.Role)
			if role == "" {
				p.userProblem(i32, FieldRole, "unknown role %q", string(*du.Role))
				continue
			}
			r.role = uint8(role.ID())
		}
		u, ok := p.userByKey[r.key]
		cur := int32(-1)
		if ok {
			cur = p.users[u].node
		}
		if du.GroupExtID != nil && !p.resolveUserGroup(i32, strings.TrimSpace(*du.GroupExtID), cur) {
			continue
		}
		if p.dupUser[r.key] {
			p.userProblem(i32, "", "several users in Convirza match %q; refusing to guess", r.key)
			continue
		}
		if !ok && byExt {
			ek := normalize.Key(email)
			if e, found := p.userByEml[ek]; found {
				if other := strings.TrimSpace(p.users[e].u.ExtID); other != "" {
					p.userProblem(i32, "email", "email %s belongs to user %d, whose user_ext_id is %q", email, p.users[e].u.ID, other)
					continue
				}
				u, ok, r.emailFix = e, true, true
			} else if p.dupEmail[ek] {
				p.userProblem(i32, "email", "several users in Convirza have the email %s", email)
				continue
			}
		}
		if !ok {
			if creates == nil {
				creates = map[string]int32{}
			}
			if j, dup := creates[normalize.Key(email)]; dup {
				p.userProblem(i32, "email", "duplicate email %s, also at %s", email, p.urows[j].d.Source)
				continue
			}
			creates[normalize.Key(email)] = i32
			continue
		}
		if j := p.users[u].matched; j >= 0 {
			p.userProblem(i32, "", "matches the same Convirza user as row %s", p.urows[j].d.Source)
			continue
		}
		r.user = u
		p.users[u].matched = i32
	}
}

// resolveUserGroup resolves a user row's group_ext_id. cur is the group the
// matched user is in now (-1 for a new user): when the row names it, as
// most rows do, no lookup is needed.
func (p *planner) resolveUserGroup(i int32, ge string, cur int32) bool {
	r := &p.urows[i]
	if ge == "" || p.isRootExt(ge) {
		r.target = 0
		return true
	}
	if p.d.GroupsManaged {
		j, ok := int32(-1), false
		if cur > 0 {
			if row := p.nodes[cur].row; row >= 0 && p.rows[row].ext == ge {
				j, ok = row, true
			}
		}
		if !ok {
			j, ok = p.rowByEx[ge]
		}
		switch {
		case ok:
			r.grow = j
			if p.rows[j].invalid {
				p.userProblem(i, "group_ext_id", "group row %q is invalid", ge)
				return false
			}
			r.target = p.rows[j].node
			return true
		case p.badGroups[extKey(ge)]:
			p.userProblem(i, "group_ext_id", "group row %q is invalid", ge)
		default:
			p.userProblem(i, "group_ext_id", "group_ext_id %q names no group of the export", ge)
		}
		return false
	}
	gk := extKey(ge)
	if ids := p.dupExt[gk]; len(ids) > 0 {
		p.userProblem(i, "group_ext_id", "%d groups in Convirza have org_unit_ext_id %q (%s); refusing to guess", len(ids), ge, p.idList(ids))
		return false
	}
	n, ok := cur, cur > 0 && extKey(p.nodes[cur].ext) == gk
	if !ok {
		n, ok = p.byExt[gk]
	}
	if !ok {
		p.userProblem(i, "group_ext_id", "no group under the root has org_unit_ext_id %q", ge)
		return false
	}
	if g := p.nodes[n].g; !g.Active() {
		p.userProblem(i, "group_ext_id", "group %d (%q) is %s in Convirza", g.ID, g.Name, g.Status)
		return false
	}
	r.target = n
	return true
}

// settle decides where every group ends up, which groups are deleted and
// which deletes are refused, and finds the rows whose name cannot be had.
// A row found invalid here changes the rest (its group stays as it is,
// deletes go off), so it repeats until nothing new is found.
func (p *planner) settle() {
	p.propagate()
	for {
		p.deletesOn = p.allowD && p.invalidCount() == 0
		p.computeFinals()
		p.computeDeletes()
		if !p.checkCycles() && !p.checkClashes() {
			return
		}
		p.propagate()
	}
}

// willExist reports whether a node exists after the plan.
func (p *planner) willExist(n int32) bool {
	if n < p.nExist {
		return !p.nodes[n].del
	}
	r := &p.rows[p.nodes[n].row]
	return p.allowC && !r.invalid
}

func (p *planner) computeFinals() {
	for k := range p.nodes {
		n := &p.nodes[k]
		n.del, n.refuse = false, ""
		if n.g != nil {
			n.fpar, n.fname, n.exists = n.parent, n.g.Name, true
		}
	}
	for k := p.nExist; k < int32(len(p.nodes)); k++ {
		p.nodes[k].exists = p.willExist(k)
	}
	p.placed = p.placed[:0]
	for _, i := range p.topo {
		r := &p.rows[i]
		if r.invalid || r.node < 0 {
			continue
		}
		n := &p.nodes[r.node]
		fp := int32(0)
		if r.prow >= 0 {
			fp = p.rows[r.prow].node
		}
		if n.g == nil {
			n.fpar = fp
			if n.exists {
				p.placed = append(p.placed, r.node)
			}
			continue
		}
		if !p.allowM {
			continue
		}
		if p.nodes[fp].exists {
			n.fpar = fp
		}
		if !p.same(FieldName, n.g.Name, r.name) {
			n.fname = r.name
		}
		if n.fpar != n.parent || n.fname != n.g.Name {
			if r.match == matchAdopt { // adoption folds the name into its PATCH
				continue
			}
			p.placed = append(p.placed, r.node)
		}
	}
}

// userFinal is the group a current user sits in after the plan, and
// whether the user is active then.
func (p *planner) userFinal(i int) (int32, bool) {
	cu := &p.users[i]
	caller := p.c.CallerUserID != 0 && cu.u.ID == p.c.CallerUserID
	if !p.d.UsersManaged {
		return cu.node, cu.u.Active()
	}
	if cu.matched < 0 || p.urows[cu.matched].invalid {
		if cu.matched < 0 && p.deletesOn && !caller {
			return cu.node, false
		}
		return cu.node, cu.u.Active()
	}
	if !p.allowM {
		return cu.node, cu.u.Active()
	}
	r := &p.urows[cu.matched]
	if r.target >= 0 && !caller && p.nodes[r.target].exists {
		return r.target, true
	}
	return cu.node, true
}

// computeDeletes marks the owned groups that left the export for deletion,
// leaf first, and refuses those that would still hold something.
func (p *planner) computeDeletes() {
	if !p.deletesOn || !p.d.GroupsManaged {
		return
	}
	var cands []int32
	for k := p.nExist - 1; k > 0; k-- {
		n := &p.nodes[k]
		if n.ext != "" && n.row < 0 && !n.inExport && !p.badGroups[extKey(n.ext)] {
			cands = append(cands, k)
		}
	}
	if len(cands) == 0 {
		return
	}
	remain := make([]int32, p.nExist)
	callerIn := int32(-1)
	for i := range p.users {
		g, active := p.userFinal(i)
		if active && g < p.nExist {
			remain[g]++
			if p.c.CallerUserID != 0 && p.users[i].u.ID == p.c.CallerUserID {
				callerIn = g
			}
		}
	}
	// reverse breadth-first order: children before their parent
	for _, k := range cands {
		n := &p.nodes[k]
		switch {
		case k == callerIn:
			n.refuse = "it holds the caller's own user, who is never deactivated or moved"
		case remain[k] > 0 && !p.d.UsersManaged:
			n.refuse = fmt.Sprintf("it still has %d active users, and users are not managed (--users)", remain[k])
		case remain[k] > 0:
			n.refuse = fmt.Sprintf("it still has %d active users that the plan keeps there", remain[k])
		}
		for c := n.first; c < n.first+n.nkids && n.refuse == ""; c++ {
			ch := &p.nodes[c]
			if ch.del || ch.fpar != k {
				continue
			}
			switch {
			case ch.refuse != "":
				n.refuse = fmt.Sprintf("group %s below it cannot be deleted", p.label(c))
			case ch.ext == "":
				n.refuse = fmt.Sprintf("it holds group %q, which has no ext id and is not owned", ch.g.Name)
			default:
				n.refuse = fmt.Sprintf("it holds group %s, which the plan keeps there", p.label(c))
			}
		}
		if n.refuse == "" {
			n.del, n.exists = true, false
		}
	}
}

// checkCycles finds the groups whose move would put them below
// themselves: that happens only when a group on the way cannot go where the
// export says (its new parent is not created under update-only). Those rows
// are invalid; it reports whether it found any.
func (p *planner) checkCycles() bool {
	before := len(p.problems)
	mark := make([]uint8, len(p.nodes)) // 0 new, 1 on the walk, 2 known to reach the root
	var walk []int32
	for _, n := range p.placed {
		walk = walk[:0]
		x := n
		for x >= 0 && mark[x] == 0 {
			mark[x] = 1
			walk = append(walk, x)
			x = p.nodes[x].fpar
		}
		if x >= 0 && mark[x] == 1 {
			y := x
			for {
				nd := &p.nodes[y]
				if nd.g != nil && nd.fpar != nd.parent && nd.row >= 0 {
					p.groupProblem(nd.row, "parent_ext_id", "moving under %s would put the group below itself: not every group on the way can move as the export says under the %s policy", p.label(nd.fpar), p.policy)
				}
				if y = nd.fpar; y == x {
					break
				}
			}
		}
		for _, y := range walk {
			mark[y] = 2
		}
	}
	return len(p.problems) > before
}

type slotKey struct {
	parent int32
	key    string
}

// checkClashes finds the groups whose place after the plan (parent and
// name) is held by a group that stays, or wanted by another row. It marks
// those rows invalid and reports whether it found any.
func (p *planner) checkClashes() bool {
	before := len(p.problems)
	want := make(map[slotKey]int32, len(p.placed))
	for _, n := range p.placed {
		nd := &p.nodes[n]
		s := slotKey{nd.fpar, normalize.Key(nd.fname)}
		if nd.g != nil && nd.fpar == nd.parent && normalize.Key(nd.g.Name) == s.key {
			continue // a change of case: the name is its own
		}
		row := nd.row
		if other, ok := want[s]; ok {
			p.groupProblem(row, FieldName, "the name %q under %s is also wanted by row %s", nd.fname, p.label(nd.fpar), p.rows[p.nodes[other].row].d.Source)
			p.groupProblem(p.nodes[other].row, FieldName, "the name %q under %s is also wanted by row %s", nd.fname, p.label(nd.fpar), p.rows[row].d.Source)
			continue
		}
		want[s] = n
		if nd.fpar >= p.nExist {
			continue // a new parent holds only what the plan puts there
		}
		for _, o := range p.siblings(nd.fpar)[s.key] {
			on := &p.nodes[o]
			if o == n || on.del || on.fpar != nd.fpar || normalize.Key(on.fname) != s.key {
				continue // it goes away, or is n itself
			}
			if on.row >= 0 && !p.rows[on.row].invalid && p.rows[on.row].prow == p.rows[row].prow {
				p.groupProblem(row, FieldName, "the name %q under %s is also wanted by row %s", nd.fname, p.label(nd.fpar), p.rows[on.row].d.Source)
				p.groupProblem(on.row, FieldName, "the name %q under %s is also wanted by row %s", nd.fname, p.label(nd.fpar), p.rows[row].d.Source)
				break
			}
			who := fmt.Sprintf("group %d", on.g.ID)
			if on.ext != "" {
				who += fmt.Sprintf(" (ext id %q)", on.ext)
			} else {
				who += " (no ext id)"
			}
			p.groupProblem(row, FieldName, "the name %q under %s is taken by %s, which the plan does not move, rename or delete", nd.fname, p.label(nd.fpar), who)
			break
		}
	}
	return len(p.problems) > before
}

// propagate makes the rows below an invalid row, and the users in it,
// invalid too.
func (p *planner) propagate() {
	for _, i := range p.topo {
		r := &p.rows[i]
		if !r.invalid && r.prow >= 0 && p.rows[r.prow].invalid {
			p.groupProblem(i, "parent_ext_id", "parent row %q is invalid", p.rows[r.prow].ext)
		}
	}
	for i := range p.urows {
		r := &p.urows[i]
		if !r.invalid && r.grow >= 0 && p.rows[r.grow].invalid {
			p.userProblem(int32(i), "group_ext_id", "group row %q is invalid", p.rows[r.grow].ext)
		}
	}
}

// sortProblems orders the plan's own findings by source, then key.
func sortProblems(ps []state.Problem) {
	slices.SortStableFunc(ps, func(a, b state.Problem) int {
		return cmp.Or(
			cmp.Compare(a.Source.File, b.Source.File),
			cmp.Compare(a.Source.Line, b.Source.Line),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// extKey is the key ext ids are matched by across the export and Convirza:
// a Salesforce id's 18- and 15-character forms, and a GUID's spellings,
// are one key (normalize.ExtIDKey). What is written is always the id as
// exported.
func extKey(s string) string { return normalize.ExtIDKey(s) }

// isRootExt reports whether an ext id of the export names the root.
func (p *planner) isRootExt(ext string) bool {
	return p.rootKey != "" && extKey(ext) == p.rootKey
}
