package report

import (
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// foldList is how many entries each list of a folded text report shows
// (changes outside the tree, refused changes, kinds of invalid rows).
const foldList = 10

// foldReserve is the lines a folded text report keeps for all but the
// tree: the header, the lists, the summary, the gates and the hint.
func foldReserve(p *plan.Plan, m *model) int {
	list := func(n int) int {
		if n == 0 {
			return 0
		}
		return min(n, foldList+1) + 2
	}
	kinds := 0
	if len(p.Invalid) > 0 {
		kinds = len(ProblemKinds(p.Invalid))
	}
	return 6 + 8 + len(p.Gates) + 4 + list(len(m.outside)) + list(len(p.Refused)) + list(kinds)
}

// textLines counts the lines the whole text report of p takes, or a number
// past limit as soon as it passes it.
func textLines(p *plan.Plan, m *model, limit int) int {
	n := 12 + len(p.Gates) // header, summary, gates and blank lines
	if len(p.Changes) > 0 {
		for _, t := range m.tops {
			if n = nodeLines(t, n, limit); n > limit {
				return n
			}
		}
	}
	for _, c := range m.outside {
		n += 1 + len(c.Fields)
	}
	n += len(p.Refused)
	for _, pr := range p.Invalid {
		n += 1 + strings.Count(pr.Message, "\n")
	}
	return n
}

// nodeLines adds the lines a node of the full tree takes to n.
func nodeLines(t *treeNode, n, limit int) int {
	n++
	if len(t.groups) > 1 {
		n += len(t.groups)
	}
	for _, c := range t.groups {
		n += len(c.Fields)
	}
	for _, c := range t.users {
		n += 1 + len(c.Fields)
	}
	if t.node.Folded > 0 {
		n++
	}
	for _, ch := range t.children {
		if n > limit {
			return n
		}
		n = nodeLines(ch, n, limit)
	}
	return n
}

// actionCounts counts changes by action.
type actionCounts [plan.Reactivate + 1]int

func (a *actionCounts) add(c *plan.Change) {
	if c.Action >= 0 && int(c.Action) < len(a) {
		a[c.Action]++
	}
}

func (a *actionCounts) plus(b *actionCounts) {
	for i := range a {
		a[i] += b[i]
	}
}

func (a *actionCounts) total() int {
	n := 0
	for _, k := range a {
		n += k
	}
	return n
}

// String is "3,960 changes (3,950 create, 10 update)".
func (a *actionCounts) String() string {
	var parts []string
	for i, k := range a {
		if k > 0 {
			parts = append(parts, num(k)+" "+ActionWord(plan.Action(i)))
		}
	}
	s := Plural(a.total(), "change", "changes")
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// folder draws a folded tree: every node it shows takes one line, and a
// node is opened (its users and child groups listed) only while the lines
// allow, a level at a time, so the top of the hierarchy shows first.
type folder struct {
	r     *textReport
	below map[*treeNode]*actionCounts // the changes under a node, its own left out
	open  map[*treeNode]int           // an open node: how many of its items show
}

func (r *textReport) foldedTree(m *model, budget int) {
	f := &folder{r: r, below: map[*treeNode]*actionCounts{}, open: map[*treeNode]int{}}
	for _, t := range m.tops {
		f.count(t)
	}
	tops := m.tops
	if len(tops) > budget {
		tops = tops[:max(budget-1, 1)]
	}
	// Open the hierarchy a whole level at a time, while the level fits:
	// every branch then shows to the same depth. When even the first level
	// does not fit, the tops show as many of their items as fit.
	used := len(tops)
	level := tops
	for first := true; len(level) > 0; first = false {
		need := 0
		for _, t := range level {
			need += len(t.users) + len(t.children)
		}
		avail := budget - used
		if need > avail && !first {
			break
		}
		var next []*treeNode
		cut := false
		for _, t := range level {
			items := len(t.users) + len(t.children)
			if items == 0 {
				continue
			}
			show := items
			if items > avail {
				cut = true
				if avail < 2 {
					break
				}
				show = avail - 1 // and a line for the rest
			}
			f.open[t] = show
			avail -= show
			used += show
			if show < items {
				avail--
				used++
			}
			if k := show - len(t.users); k > 0 {
				next = append(next, t.children[:k]...)
			}
		}
		if cut { // go no deeper than a level cut short
			break
		}
		level = next
	}
	r.ew.str("\n")
	for _, t := range tops {
		f.node(t, "", "", true)
	}
	if rest := m.tops[len(tops):]; len(rest) > 0 {
		var a actionCounts
		for _, t := range rest {
			a.plus(f.below[t])
			for _, c := range t.groups {
				a.add(c)
			}
		}
		r.ew.str(r.paint(ansiDim, "… and "+Plural(len(rest), "more branch", "more branches")+" with "+a.String()), "\n")
	}
}

// count fills below for t and its subtree, and returns the changes of t's
// subtree, t's own included.
func (f *folder) count(t *treeNode) *actionCounts {
	a := &actionCounts{}
	for _, c := range t.users {
		a.add(c)
	}
	for _, ch := range t.children {
		a.plus(f.count(ch))
	}
	f.below[t] = a
	all := *a
	for _, c := range t.groups {
		all.add(c)
	}
	return &all
}

// node draws one node on one line, then, when it is open, its items.
func (f *folder) node(t *treeNode, lead, pad string, top bool) {
	r := f.r
	head := nodeHead(t, top)
	switch len(t.groups) {
	case 0:
	case 1:
		head = r.marker(t.groups[0].Action) + " " + head + "  " + r.info(t.groups[0])
	default:
		words := make([]string, 0, len(t.groups))
		for _, c := range t.groups {
			words = append(words, ActionWord(c.Action))
		}
		head = r.marker(t.groups[0].Action) + " " + head + "  " + Plural(len(t.groups), "change", "changes") + ": " + strings.Join(words, ", ")
	}
	show, open := f.open[t]
	if b := f.below[t]; !open && b.total() > 0 {
		head += r.paint(ansiDim, "  ⋯ "+b.String()+" below")
	}
	r.ew.str(lead, head, "\n")
	if !open {
		return
	}
	items := len(t.users) + len(t.children)
	for i := range show {
		l, p := pad+connMid, pad+padMid
		if i == items-1 {
			l, p = pad+connLast, pad+padLast
		}
		if i < len(t.users) {
			c := t.users[i]
			line := r.marker(c.Action) + " user " + clean(changeName(c))
			if refs := changeRefs(c); refs != "" {
				line += "  (" + refs + ")"
			}
			r.ew.str(l, line, "  ", r.info(c), "\n")
			continue
		}
		f.node(t.children[i-len(t.users)], l, p, false)
	}
	if show < items {
		var a actionCounts
		users := 0
		for i := show; i < items; i++ {
			if i < len(t.users) {
				a.add(t.users[i])
				users++
				continue
			}
			ch := t.children[i-len(t.users)]
			a.plus(f.below[ch])
			for _, c := range ch.groups {
				a.add(c)
			}
		}
		what := Plural(items-show-users, "more group", "more groups")
		if users > 0 {
			what = Plural(users, "more user", "more users") + " and " + Plural(items-show-users, "group", "groups")
		}
		r.ew.str(pad+connLast, r.paint(ansiDim, "… and "+what+" with "+a.String()), "\n")
	}
}

// foldedLists draws the lists of a folded report: their first entries and
// counts.
func (r *textReport) foldedLists(p *plan.Plan, m *model) {
	if len(m.outside) > 0 {
		r.ew.str("\nChanges outside the tree (", num(len(m.outside)), "):\n")
		for i, c := range m.outside {
			if i == foldList {
				r.ew.str("  … and ", num(len(m.outside)-i), " more\n")
				break
			}
			line := r.marker(c.Action) + " " + string(c.Kind) + " " + clean(changeName(c))
			r.ew.str("  ", line, "  ", r.info(c), "\n")
		}
	}
	if len(p.Refused) > 0 {
		r.ew.str("\nRefused (", num(len(p.Refused)), "): wanted by the policy, forbidden by a rule; not in this plan\n")
		for i := range p.Refused {
			if i == foldList {
				r.ew.str("  … and ", num(len(p.Refused)-i), " more\n")
				break
			}
			c := &p.Refused[i]
			line := "  " + r.paint(ansiBoldRed, "!") + " " + ActionWord(c.Action) + " " + string(c.Kind) + " " + clean(changeName(c))
			if c.Reason != "" {
				line += ": " + clean(c.Reason)
			}
			r.ew.str(line, "\n")
		}
	}
	if len(p.Invalid) > 0 {
		r.ew.str("\nInvalid rows skipped (", num(len(p.Invalid)), "), by kind:\n")
		kinds := ProblemKinds(p.Invalid)
		for i, k := range kinds {
			if i == foldList {
				n := 0
				for _, k := range kinds[i:] {
					n += len(k.Problems)
				}
				r.ew.str("  … and ", Plural(len(kinds)-i, "more kind", "more kinds"), " (", num(n), ")\n")
				break
			}
			r.ew.str("  ", num(len(k.Problems)), " × ", k.Label, " (first: ", clean(k.Problems[0].Source.String()), ")\n")
		}
	}
}
