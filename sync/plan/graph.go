package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Graph is a plan's changes as a dependency graph, by index into
// Plan.Changes. Apply runs a plan in its order; Undo reverses it.
type Graph struct {
	Deps       [][]int     // Deps[i]: the changes i waits on, ascending
	Dependents [][]int     // Dependents[i]: the changes that wait on i, ascending
	Index      map[int]int // Change.ID -> index
}

// CreateKey is the ext id a group create makes, or the match key of a
// user create.
func (c *Change) CreateKey() string {
	if c.Kind == KindGroup {
		if f, ok := c.Field(FieldExtID); ok && f.After != "" {
			return f.After
		}
	}
	return c.Key
}

// Symbolic reports whether a ref names a group only by ext id, so that its
// id is known only once the plan's create of it has succeeded.
func (r Ref) Symbolic() bool { return r.ID == 0 && r.ExtID != "" }

// ParentField is the field that places an object of the kind: the parent
// of a group, the group of a user.
func (k Kind) ParentField() string {
	if k == KindUser {
		return FieldUserGroup
	}
	return FieldParent
}

// Describe names a change for people: "update group ORG-1".
func (c *Change) Describe() string {
	name := c.Key
	if name == "" {
		name = c.Name
	}
	if name == "" && c.ObjectID != 0 {
		name = fmt.Sprintf("id:%d", c.ObjectID)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", c.Action, c.Kind, name))
}

// NewGraph builds the dependency graph of a plan's changes: the explicit
// After lists, plus the waits the data implies (a change under a group that
// the plan creates, or about an object that the plan creates, waits on that
// create). It refuses duplicate ids, unknown ids and cycles.
func NewGraph(cs []Change) (*Graph, error) {
	g := &Graph{Deps: make([][]int, len(cs)), Dependents: make([][]int, len(cs)), Index: make(map[int]int, len(cs))}
	groupCreates := map[string]int{}
	userCreates := map[string]int{}
	for i := range cs {
		c := &cs[i]
		if prev, dup := g.Index[c.ID]; dup {
			return nil, fmt.Errorf("changes %d and %d both have id %d", prev+1, i+1, c.ID)
		}
		g.Index[c.ID] = i
		if c.Action != Create {
			continue
		}
		k := c.CreateKey()
		if k == "" {
			continue
		}
		m := userCreates
		if c.Kind == KindGroup {
			m = groupCreates
		}
		if _, ok := m[k]; !ok {
			m[k] = i
		}
	}
	for i := range cs {
		c := &cs[i]
		var d []int
		for _, a := range c.After {
			j, ok := g.Index[a]
			if !ok {
				return nil, fmt.Errorf("change %d waits on change %d, which is not in the plan", c.ID, a)
			}
			if j == i {
				return nil, fmt.Errorf("change %d waits on itself", c.ID)
			}
			d = append(d, j)
		}
		if c.Parent.Symbolic() {
			if j, ok := groupCreates[c.Parent.ExtID]; ok && j != i {
				d = append(d, j)
			}
		}
		if c.Action != Create && c.ObjectID == 0 && c.Key != "" {
			m := userCreates
			if c.Kind == KindGroup {
				m = groupCreates
			}
			if j, ok := m[c.Key]; ok && j != i {
				d = append(d, j)
			}
		}
		slices.Sort(d)
		g.Deps[i] = slices.Compact(d)
		for _, j := range g.Deps[i] {
			g.Dependents[j] = append(g.Dependents[j], i)
		}
	}
	if i, ok := g.cycle(); ok {
		return nil, fmt.Errorf("change %d is part of a dependency cycle", cs[i].ID)
	}
	return g, nil
}

// cycle finds a change on a dependency cycle, by Kahn's algorithm: whatever
// cannot be ordered waits, directly or not, on itself.
func (g *Graph) cycle() (int, bool) {
	n := len(g.Deps)
	waiting := make([]int, n)
	var queue []int
	for i := range n {
		waiting[i] = len(g.Deps[i])
		if waiting[i] == 0 {
			queue = append(queue, i)
		}
	}
	seen := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		seen++
		for _, d := range g.Dependents[i] {
			if waiting[d]--; waiting[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if seen == n {
		return 0, false
	}
	// Walk back from a change that could not be ordered, always to a
	// dependency that could not be ordered either: the walk must come back
	// to a change it has met, and that one is on a cycle.
	i := slices.IndexFunc(waiting, func(w int) bool { return w > 0 })
	met := map[int]bool{}
	for !met[i] {
		met[i] = true
		for _, j := range g.Deps[i] {
			if waiting[j] > 0 {
				i = j
				break
			}
		}
	}
	return i, true
}

// IndexHeap is a min-heap of change indexes (container/heap): walking a
// Graph with it starts the ready changes in plan order.
type IndexHeap []int

func (h IndexHeap) Len() int           { return len(h) }
func (h IndexHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h IndexHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *IndexHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *IndexHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
