package report

import (
	"bufio"
	"io"
	"sort"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// treeNode is one node of Plan.Tree with the changes that belong to it.
type treeNode struct {
	node     plan.Node
	parent   *treeNode
	children []*treeNode
	// groups are the group's own changes, in plan order (a rename swap
	// shows its steps in the order they run).
	groups []*plan.Change
	// users are the changes of users in this group, by key, then plan order.
	users []*plan.Change
}

// model is a plan arranged for drawing. It is built from Plan.Tree and the
// changes' refs only: it never compares before and after states.
type model struct {
	// tops are drawn at the left margin: the root, then any node whose
	// parent the tree does not hold.
	tops []*treeNode
	// outside are the changes that name no node of the tree; they are
	// drawn apart so that no change is ever left out of a report.
	outside []*plan.Change
}

// build arranges a plan's changes on its tree.
func build(p *plan.Plan) *model {
	nodes := make([]*treeNode, len(p.Tree))
	byID := map[int64]*treeNode{}
	byExt := map[string]*treeNode{}
	for i, n := range p.Tree {
		t := &treeNode{node: n}
		nodes[i] = t
		if n.Ref.ID != 0 {
			if _, dup := byID[n.Ref.ID]; !dup {
				byID[n.Ref.ID] = t
			}
		}
		if n.Ref.ExtID != "" {
			if _, dup := byExt[n.Ref.ExtID]; !dup {
				byExt[n.Ref.ExtID] = t
			}
		}
	}
	lookup := func(r plan.Ref) *treeNode {
		if r.ID != 0 {
			if t, ok := byID[r.ID]; ok {
				return t
			}
		}
		if r.ExtID != "" {
			return byExt[r.ExtID]
		}
		return nil
	}

	m := &model{}
	for _, t := range nodes {
		if !t.node.Parent.IsZero() {
			if par := lookup(t.node.Parent); par != nil && par != t {
				t.parent = par
				par.children = append(par.children, t)
				continue
			}
		}
		m.tops = append(m.tops, t)
	}
	// A malformed tree may hold a cycle that no top reaches: cut it at its
	// first node in tree order, so every node is drawn, once.
	seen := map[*treeNode]bool{}
	var mark func(*treeNode)
	mark = func(t *treeNode) {
		seen[t] = true
		for _, c := range t.children {
			if !seen[c] {
				mark(c)
			}
		}
	}
	for _, t := range m.tops {
		mark(t)
	}
	for _, t := range nodes {
		if seen[t] {
			continue
		}
		par := t.parent
		for i, c := range par.children {
			if c == t {
				par.children = append(par.children[:i:i], par.children[i+1:]...)
				break
			}
		}
		t.parent = nil
		m.tops = append(m.tops, t)
		mark(t)
	}

	var root *treeNode
	for _, t := range m.tops {
		if t.node.Parent.IsZero() {
			root = t
			break
		}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		var t *treeNode
		if c.Kind == plan.KindUser {
			if c.Parent.IsZero() {
				t = root
			} else {
				t = lookup(c.Parent)
			}
			if t != nil {
				t.users = append(t.users, c)
				continue
			}
		} else {
			if c.ObjectID != 0 {
				t = byID[c.ObjectID]
			}
			if t == nil && c.Key != "" {
				t = byExt[c.Key]
			}
			if t != nil {
				t.groups = append(t.groups, c)
				continue
			}
		}
		m.outside = append(m.outside, c)
	}
	for _, t := range nodes {
		sort.SliceStable(t.users, func(i, j int) bool { return t.users[i].Key < t.users[j].Key })
	}
	return m
}

// name is what people call the group of a node.
func (t *treeNode) name() string {
	if t.node.Ref.Name != "" {
		return t.node.Ref.Name
	}
	for _, c := range t.groups {
		if c.Name != "" {
			return c.Name
		}
	}
	if s := refLabel(t.node.Ref); s != "" {
		return s
	}
	return "(unnamed group)"
}

// refs names a node's ext id and Convirza id: "east · id 1001", or
// "bos-2 · new" for a group this plan creates.
func (t *treeNode) refs() []string {
	var out []string
	if t.node.Ref.ExtID != "" {
		out = append(out, clean(t.node.Ref.ExtID))
	}
	if t.node.Ref.ID != 0 {
		out = append(out, "id "+itoa64(t.node.Ref.ID))
	} else {
		for _, c := range t.groups {
			if c.Action == plan.Create {
				out = append(out, "new")
				break
			}
		}
	}
	return out
}

// errWriter buffers a report and keeps its first write error.
type errWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

func newErrWriter(w io.Writer) *errWriter { return &errWriter{w: bufio.NewWriterSize(w, 64<<10)} }

func (e *errWriter) str(ss ...string) {
	for _, s := range ss {
		if e.err != nil {
			return
		}
		var n int
		n, e.err = e.w.WriteString(s)
		e.n += n
	}
}

func (e *errWriter) flush() error {
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}
