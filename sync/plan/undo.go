package plan

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strconv"

	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// ReasonNoUndoDelete is the reason an undo plan gives for each delete that
// was applied: Convirza's deletes are final.
const ReasonNoUndoDelete = "a delete cannot be undone"

// ReasonNoUndoIndustry is the reason an undo plan gives for a group's
// industry that the run set where there was none: putting it back would
// clear it, and the API documents no way to unset an industry (see
// convirza.ErrNoIndustryClear).
const ReasonNoUndoIndustry = "the industry the run set cannot be unset: the API documents no way to clear a group's industry"

// Undo returns a plan that restores what res says was applied of p: patched
// fields back to their before-values (moves and renames reversed, the
// temporary names of a rename swap included), deactivations and
// reactivations reversed, and the groups and users the run created deleted,
// users first and groups leaf first. Each change of the undo plan waits
// (After) on the undo of every change that depended on it, so the plan runs
// in reverse. Deletes cannot be undone: each is listed in Refused, with
// ReasonNoUndoDelete. Changes that were not done leave nothing to undo.
//
// The undo plan is a normal plan of the same version, account and phone
// region, which Apply and CheckStale accept; its before-values are the
// values the run wrote. Undo is pure.
func Undo(p *Plan, res []Result) *Plan {
	out := &Plan{Version: p.Version, Account: p.Account, Policy: p.Policy, UsersManaged: p.UsersManaged, PhoneRegion: p.PhoneRegion, Changes: []Change{}}
	if res == nil {
		return out
	}
	byChange := map[int]Result{}
	for _, r := range res {
		if r.Change != 0 {
			byChange[r.Change] = r
		}
	}
	// The ids of the groups the run created, for the refs that name them
	// by ext id.
	created := map[string]int64{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if r, ok := byChange[c.ID]; ok && r.Outcome.Done() && c.Action == Create && c.Kind == KindGroup && r.ObjectID != 0 {
			created[c.CreateKey()] = r.ObjectID
		}
	}
	resolve := func(r Ref) Ref {
		if r.Symbolic() {
			if id, ok := created[r.ExtID]; ok {
				r.ID = id
			}
		}
		return r
	}

	// The inverse of every change that was done, by index into p.Changes.
	inverse := map[int]Change{}
	for i := range p.Changes {
		c := &p.Changes[i]
		r, ok := byChange[c.ID]
		if !ok || !r.Outcome.Done() {
			continue
		}
		if c.Action == Delete {
			ref := *c
			ref.ID, ref.After, ref.Source = 0, nil, nil
			ref.Parent = resolve(c.Parent)
			if r.ObjectID != 0 {
				ref.ObjectID = r.ObjectID
			}
			ref.Reason = ReasonNoUndoDelete
			out.Refused = append(out.Refused, ref)
			continue
		}
		u, ok := invert(c, r, resolve)
		if !ok {
			continue
		}
		if kept, cleared := splitIndustryClear(u.Fields); len(cleared) > 0 {
			ref := u
			ref.Fields, ref.Reason = cleared, ReasonNoUndoIndustry
			out.Refused = append(out.Refused, ref)
			if u.Fields = kept; len(kept) == 0 && u.Action == Update {
				continue // nothing else to put back
			}
		}
		inverse[i] = u
	}

	// Dependencies, reversed: when c waited on d, the undo of d waits on the
	// undo of c. A change without an undo (a delete) passes its own
	// dependencies on.
	g, err := NewGraph(p.Changes)
	var deps [][]int
	if err == nil {
		deps = g.Deps
	} else {
		// Apply refuses such a plan, so nothing of it was applied; run the
		// undo strictly one by one all the same.
		deps = make([][]int, len(p.Changes))
		for i := 1; i < len(p.Changes); i++ {
			deps[i] = []int{i - 1}
		}
	}
	undoAfter := map[int][]int{} // index j -> the indexes whose undo j's undo waits on
	for i := range inverse {
		seen := map[int]bool{}
		var walk func(k int)
		walk = func(k int) {
			for _, d := range deps[k] {
				if seen[d] {
					continue
				}
				seen[d] = true
				if _, ok := inverse[d]; ok {
					undoAfter[d] = append(undoAfter[d], i)
				} else {
					walk(d)
				}
			}
		}
		walk(i)
	}

	// Order: Kahn's algorithm over the reversed edges, the latest change of
	// p first among those ready, so that the undo runs p backwards.
	waitingOn := map[int]int{}
	dependents := map[int][]int{}
	for j, after := range undoAfter {
		slices.Sort(after)
		after = slices.Compact(after)
		undoAfter[j] = after
		waitingOn[j] = len(after)
		for _, i := range after {
			dependents[i] = append(dependents[i], j)
		}
	}
	ready := &IndexHeap{}
	for i := range inverse {
		if waitingOn[i] == 0 {
			heap.Push(ready, -i)
		}
	}
	newID := map[int]int{}
	var order []int
	for ready.Len() > 0 {
		i := -heap.Pop(ready).(int)
		order = append(order, i)
		newID[i] = len(order)
		for _, j := range dependents[i] {
			if waitingOn[j]--; waitingOn[j] == 0 {
				heap.Push(ready, -j)
			}
		}
	}
	for _, i := range order {
		u := inverse[i]
		u.ID = newID[i]
		for _, a := range undoAfter[i] {
			u.After = append(u.After, newID[a])
		}
		slices.Sort(u.After)
		out.Changes = append(out.Changes, u)
	}
	out.Tree = undoTree(p.Tree, out.Changes, resolve)
	return out
}

// invert returns the change that takes c back, given its result.
func invert(c *Change, r Result, resolve func(Ref) Ref) (Change, bool) {
	id := r.ObjectID
	if id == 0 {
		id = c.ObjectID
	}
	u := Change{Kind: c.Kind, Key: c.Key, ObjectID: id, Name: c.Name, Parent: resolve(c.Parent)}
	switch c.Action {
	case Create:
		if id == 0 {
			return Change{}, false
		}
		u.Action = Delete
		u.Reason = fmt.Sprintf("undo change %d: remove the %s it created", c.ID, c.Kind)
		return u, true
	case Update, Adopt:
		u.Action = Update
	case Rename, Move:
		u.Action = c.Action
	case Deactivate:
		u.Action = Reactivate
	case Reactivate:
		u.Action = Deactivate
	default:
		return Change{}, false
	}
	u.Reason = fmt.Sprintf("undo change %d (%s)", c.ID, c.Action)
	if c.Reason != "" {
		u.Reason += ": " + c.Reason
	}
	if c.FromParent != nil {
		// It moved from FromParent to Parent; it goes back.
		from := resolve(*c.FromParent)
		to := resolve(c.Parent)
		u.Parent, u.FromParent = from, &to
	}
	pf := c.Kind.ParentField()
	for _, f := range c.Fields {
		before, beforeLabel := f.After, f.AfterLabel
		if f.Field == pf && before == "" {
			if ref := resolve(c.Parent); ref.ID != 0 {
				before = strconv.FormatInt(ref.ID, 10)
				if beforeLabel == "" {
					beforeLabel = ref.String()
				}
			}
		}
		u.Fields = append(u.Fields, FieldChange{Field: f.Field, Before: before, After: f.Before, BeforeLabel: beforeLabel, AfterLabel: f.BeforeLabel})
		switch f.Field {
		case FieldName, FieldUsername:
			u.Name = f.Before
		}
	}
	return u, true
}

// splitIndustryClear parts an undo's fields into those it can send and the
// industry it would have to clear.
func splitIndustryClear(fs []FieldChange) (kept, cleared []FieldChange) {
	for _, f := range fs {
		if f.Field == FieldIndustryID && (f.After == "" || f.After == "0") {
			cleared = append(cleared, f)
		} else {
			kept = append(kept, f)
		}
	}
	return kept, cleared
}

// undoTree is the tree of an undo plan: p's tree with the groups p created
// named by id, and each group that the undo moves back put under the group
// it moves to, when the tree holds that group. Parents come before
// children, siblings by name.
func undoTree(tree []Node, changes []Change, resolve func(Ref) Ref) []Node {
	if len(tree) == 0 {
		return nil
	}
	key := func(r Ref) string {
		if r.ExtID != "" {
			return "ext:" + r.ExtID
		}
		return "id:" + strconv.FormatInt(r.ID, 10)
	}
	nodes := make([]Node, len(tree))
	at := map[string]int{}
	for i, n := range tree {
		n.Ref, n.Parent = resolve(n.Ref), resolve(n.Parent)
		nodes[i] = n
		at[key(n.Ref)] = i
		if n.Ref.ID != 0 {
			at["id:"+strconv.FormatInt(n.Ref.ID, 10)] = i
		}
	}
	find := func(r Ref) (int, bool) {
		if r.ExtID != "" {
			if i, ok := at["ext:"+r.ExtID]; ok {
				return i, true
			}
		}
		if r.ID != 0 {
			i, ok := at["id:"+strconv.FormatInt(r.ID, 10)]
			return i, ok
		}
		return 0, false
	}
	for _, c := range changes {
		if c.Kind != KindGroup || c.Action != Move {
			continue
		}
		i, ok := find(Ref{ID: c.ObjectID, ExtID: c.Key})
		if !ok {
			continue
		}
		if j, ok := find(c.Parent); ok {
			nodes[i].Parent = nodes[j].Ref
		}
	}
	// Parents before children (depth first from the nodes whose parent is
	// not in the tree), siblings by name.
	children := map[int][]int{}
	var roots []int
	for i, n := range nodes {
		if j, ok := find(n.Parent); ok && !n.Parent.IsZero() && j != i {
			children[j] = append(children[j], i)
		} else {
			roots = append(roots, i)
		}
	}
	byName := func(a, b int) int {
		return cmp.Or(cmp.Compare(normalize.Key(nodes[a].Ref.Name), normalize.Key(nodes[b].Ref.Name)),
			cmp.Compare(nodes[a].Ref.ExtID, nodes[b].Ref.ExtID), cmp.Compare(nodes[a].Ref.ID, nodes[b].Ref.ID))
	}
	out := make([]Node, 0, len(nodes))
	placed := make([]bool, len(nodes))
	var visit func(i int)
	visit = func(i int) {
		if placed[i] {
			return
		}
		placed[i] = true
		out = append(out, nodes[i])
		kids := children[i]
		slices.SortFunc(kids, byName)
		for _, k := range kids {
			visit(k)
		}
	}
	slices.SortFunc(roots, byName)
	for _, i := range roots {
		visit(i)
	}
	// A cycle cannot come from a tree and moves back to where groups were;
	// keep any node it would leave out all the same.
	for i := range nodes {
		visit(i)
	}
	return out
}
