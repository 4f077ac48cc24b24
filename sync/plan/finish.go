package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// finish assembles the Plan: numbering, invalid rows, counts, gates, tree.
func (p *planner) finish() *Plan {
	acc := p.opts.Account
	acc.RootID = p.c.RootID
	if root := p.groups[0].g; acc.RootExtID == "" && acc.RootName == "" {
		acc.RootExtID, acc.RootName = root.ExtID, root.Name
	}
	if acc.CallerUserID == 0 {
		acc.CallerUserID = p.c.CallerUserID
	}
	plan := &Plan{
		Version:      Version,
		Account:      acc,
		Policy:       p.policy,
		UsersManaged: p.d.UsersManaged,
		Forced:       p.opts.Force,
		PhoneRegion:  p.region,
		Changes:      p.changes,
		Unchanged:    p.unchanged,
	}
	if plan.Changes == nil {
		plan.Changes = []Change{}
	}
	for i := range p.refused {
		p.refused[i].ID = len(p.changes) + i + 1
		p.refused[i].After = nil
	}
	plan.Refused = p.refused
	sortProblems(p.problems)
	if n := len(p.d.Invalid) + len(p.problems); n > 0 {
		plan.Invalid = make([]state.Problem, 0, n)
		plan.Invalid = append(append(plan.Invalid, p.d.Invalid...), p.problems...)
	}
	for k := groupIdx(1); k < p.nExisting; k++ {
		if p.groups[k].ext != "" {
			plan.Owned.Groups++
		}
	}
	if p.d.UsersManaged {
		plan.Owned.Users = len(p.users)
	}
	plan.Gates = p.gates(plan)
	plan.Tree = p.tree()
	return plan
}

// gates evaluates the safety gates of DESIGN.md.
func (p *planner) gates(plan *Plan) []Gate {
	owned := plan.Owned.Groups + plan.Owned.Users
	gs := []Gate{
		p.limitGate("max-deletes", p.opts.MaxDeletes.orDefault(DefaultMaxDeletes), p.blast(true), owned, "deleted or deactivated"),
		p.limitGate("max-changes", p.opts.MaxChanges.orDefault(DefaultMaxChanges), p.blast(false), owned, "changed"),
		p.invalidGate(plan),
	}
	if p.policy == PolicyMirror && p.d.GroupsManaged {
		gs = append(gs, p.shrinkGate(plan.Owned.Groups))
	}
	return gs
}

func (p *planner) limitGate(name string, lim Limit, count, owned int, verb string) Gate {
	g := Gate{Name: name, Limit: lim.String(), Count: count, Total: owned, Allowed: -1}
	allowed, applies := lim.allowed(owned, MinPercentBase)
	what := fmt.Sprintf("%d objects would be %s (a deleted or moved group counts with its subtree and users)", count, verb)
	switch {
	case lim.Off():
		g.Message = what + "; no limit"
	case !applies:
		g.Message = fmt.Sprintf("%s; the limit %s applies from %d owned objects, and there are %d", what, lim, MinPercentBase, owned)
	default:
		g.Allowed = allowed
		g.Tripped = count > allowed
		of := ""
		if _, pct := lim.Percent(); pct {
			of = fmt.Sprintf(" of %d owned objects", owned)
		}
		if g.Tripped {
			g.Message = fmt.Sprintf("%s, more than the %d that the limit %s%s allows", what, allowed, lim, of)
		} else {
			g.Message = fmt.Sprintf("%s; the limit %s%s allows %d", what, lim, of, allowed)
		}
	}
	if g.Tripped && p.opts.Force {
		g.Forced = true
		g.Message += "; passed with --force"
	}
	return g
}

// blast counts the objects the changes touch, each once: a deleted (or,
// unless deletesOnly, moved) group with its whole current subtree and the
// users in it, and every other object changed (deletesOnly: deactivated).
// A group changed in place does not hide the changes of the users in it:
// each of them is an object changed too.
func (p *planner) blast(deletesOnly bool) int {
	inSubtree := make([]bool, len(p.groups)) // under a deleted or moved group
	count := 0
	var stack []groupIdx
	for i := range p.changes {
		c := &p.changes[i]
		if c.Kind != KindGroup || !(c.Action == Delete || c.Action == Move && !deletesOnly) {
			continue
		}
		stack = append(stack[:0], p.changeNode[i])
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if inSubtree[n] {
				continue
			}
			inSubtree[n] = true
			nd := &p.groups[n]
			count += 1 + int(nd.users)
			for k := nd.firstKid; k < nd.endKid; k++ {
				stack = append(stack, k)
			}
		}
	}
	groupSeen := make([]bool, len(p.groups))
	userSeen := make([]bool, len(p.users))
	for i := range p.changes {
		c := &p.changes[i]
		switch {
		case c.Kind == KindGroup:
			if n := p.changeNode[i]; !deletesOnly && !inSubtree[n] && !groupSeen[n] {
				groupSeen[n] = true
				count++
			}
		case deletesOnly && c.Action != Deactivate:
		case p.changeUser[i] == noUser:
			count++ // a new user
		default:
			u := p.changeUser[i]
			if !inSubtree[p.users[u].group] && !userSeen[u] {
				userSeen[u] = true
				count++
			}
		}
	}
	return count
}

// invalidRows counts the distinct rows among the problems.
func invalidRows(ps []state.Problem) int {
	type rowKey struct {
		file      string
		line      int
		kind, key string
		msg       string
	}
	seen := make(map[rowKey]bool, len(ps))
	for _, pr := range ps {
		k := rowKey{file: pr.Source.File, line: pr.Source.Line, kind: pr.Kind}
		if pr.Source.Line == 0 {
			k.key, k.msg = pr.Key, pr.Column+"\x00"+pr.Message
		}
		seen[k] = true
	}
	return len(seen)
}

func (p *planner) invalidGate(plan *Plan) Gate {
	lim := p.opts.MaxInvalid.orDefault(DefaultMaxInvalid)
	rows := invalidRows(plan.Invalid)
	base := len(p.d.Groups) + len(p.d.Users) + invalidRows(p.d.Invalid)
	g := Gate{Name: "max-invalid", Limit: lim.String(), Count: rows, Total: base, Allowed: -1}
	allowed, applies := lim.allowed(base, 0)
	if applies {
		g.Allowed = allowed
		g.Tripped = rows > allowed
	}
	switch {
	case rows == 0:
		g.Message = "no invalid rows"
	case g.Tripped:
		g.Message = fmt.Sprintf("%d invalid rows, more than the %d that the limit %s allows; --force does not pass this gate", rows, allowed, lim)
	default:
		g.Message = fmt.Sprintf("%d invalid rows are skipped (limit %s)", rows, lim)
	}
	if rows > 0 && p.removalsKept {
		g.Message += fmt.Sprintf("; with invalid rows there are no deletes or deactivations in this run (%d departed objects kept)", p.departed())
	}
	return g
}

// departed counts the owned objects that left the export.
func (p *planner) departed() int {
	n := 0
	if p.d.GroupsManaged {
		for k := groupIdx(1); k < p.nExisting; k++ {
			if nd := &p.groups[k]; nd.ext != "" && !nd.inExport && !p.badGroups[extKey(nd.ext)] {
				n++
			}
		}
	}
	if p.d.UsersManaged {
		for i := range p.users {
			if cu := &p.users[i]; cu.row == noUserRow && p.user(cu).Active() && !p.badUsers[p.userKey(p.user(cu))] {
				n++
			}
		}
	}
	return n
}

func (p *planner) shrinkGate(owned int) Gate {
	missing := 0
	for k := groupIdx(1); k < p.nExisting; k++ {
		if nd := &p.groups[k]; nd.ext != "" && !nd.inExport && !p.badGroups[extKey(nd.ext)] {
			missing++
		}
	}
	g := Gate{Name: "shrink", Limit: "50%", Count: missing, Total: owned, Allowed: -1}
	empty := len(p.d.Groups)+len(p.d.Users)+len(p.d.Invalid) == 0
	switch {
	case empty && owned > 0:
		g.Allowed, g.Tripped = 0, true
		g.Message = fmt.Sprintf("the export is empty and %d owned groups would go; an empty export is always refused, --force does not pass it", owned)
		return g
	case owned < MinPercentBase:
		g.Message = fmt.Sprintf("%d of %d owned groups are missing from the export; the check applies from %d owned groups", missing, owned, MinPercentBase)
	default:
		g.Allowed = owned / 2
		g.Tripped = missing > g.Allowed
		if g.Tripped {
			g.Message = fmt.Sprintf("%d of %d owned groups are missing from the export, more than half (%d): the export looks truncated", missing, owned, g.Allowed)
		} else {
			g.Message = fmt.Sprintf("%d of %d owned groups are missing from the export; up to %d may be", missing, owned, g.Allowed)
		}
	}
	if g.Tripped && p.opts.Force {
		g.Forced = true
		g.Message += "; passed with --force"
	}
	return g
}

// tree lists the groups the changes touch, by their place after the plan
// (a deleted group where it was), with their ancestors up to the root:
// parents before children, siblings by name. Each node counts the groups
// below it that are not listed.
func (p *planner) tree() []Node {
	if len(p.changes)+len(p.refused) == 0 {
		return nil
	}
	in := make([]bool, len(p.groups))
	touch := func(n groupIdx) {
		for ; n != noGroup && !in[n]; n = p.groups[n].finalParent {
			in[n] = true
		}
	}
	for _, n := range p.changeNode {
		touch(n)
	}
	for _, n := range p.refNode {
		touch(n)
	}
	kids := map[groupIdx][]groupIdx{}
	for k := groupIdx(1); k < groupIdx(len(p.groups)); k++ {
		if in[k] {
			kids[p.groups[k].finalParent] = append(kids[p.groups[k].finalParent], k)
		}
	}
	// every group after the plan that is not listed folds into its
	// nearest listed ancestor
	folded := make([]int, len(p.groups))
	near := make([]groupIdx, len(p.groups))
	for k := range near {
		near[k] = -2 // unknown
	}
	near[0] = 0
	var chain []groupIdx
	for k := groupIdx(1); k < groupIdx(len(p.groups)); k++ {
		if in[k] || !p.groups[k].existsAfter {
			continue
		}
		chain = chain[:0]
		x := k
		for near[x] == -2 && !in[x] {
			chain = append(chain, x)
			x = p.groups[x].finalParent
		}
		a := x
		if !in[x] {
			a = near[x]
		}
		for _, c := range chain {
			near[c] = a
		}
		folded[a]++
	}
	var out []Node
	stack := []groupIdx{rootGroup}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		node := Node{Ref: p.ref(n), Folded: folded[n]}
		if n != 0 {
			node.Parent = p.ref(p.groups[n].finalParent)
		}
		out = append(out, node)
		ks := kids[n]
		slices.SortFunc(ks, func(a, b groupIdx) int {
			ra, rb := p.ref(a), p.ref(b)
			return cmp.Or(
				strings.Compare(normalize.Key(ra.Name), normalize.Key(rb.Name)),
				strings.Compare(ra.Name, rb.Name),
				strings.Compare(ra.ExtID, rb.ExtID),
				cmp.Compare(ra.ID, rb.ID),
				cmp.Compare(a, b),
			)
		})
		for i := len(ks) - 1; i >= 0; i-- {
			stack = append(stack, ks[i])
		}
	}
	return out
}
