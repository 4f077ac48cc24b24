package apply

import (
	"fmt"
	"slices"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// graph is a plan's changes as a dependency graph, by index into
// Plan.Changes.
type graph struct {
	deps       [][]int // deps[i]: the changes i waits on, ascending
	dependents [][]int // dependents[i]: the changes that wait on i, ascending
	index      map[int]int
}

// createKey is the ext id a group create makes, or the match key of a user
// create.
func createKey(c *plan.Change) string {
	if c.Kind == plan.KindGroup {
		if f, ok := c.Field(plan.FieldExtID); ok && f.After != "" {
			return f.After
		}
	}
	return c.Key
}

// symbolic reports whether a ref names a group only by ext id, so that its
// id is known only once the plan's create of it has succeeded.
func symbolic(r plan.Ref) bool { return r.ID == 0 && r.ExtID != "" }

// newGraph builds the dependency graph of a plan's changes: the explicit
// After lists, plus the waits the data implies (a change under a group that
// the plan creates, or about an object that the plan creates, waits on that
// create). It refuses duplicate ids, unknown ids and cycles.
func newGraph(cs []plan.Change) (*graph, error) {
	g := &graph{deps: make([][]int, len(cs)), dependents: make([][]int, len(cs)), index: make(map[int]int, len(cs))}
	groupCreates := map[string]int{}
	userCreates := map[string]int{}
	for i := range cs {
		c := &cs[i]
		if prev, dup := g.index[c.ID]; dup {
			return nil, fmt.Errorf("changes %d and %d both have id %d", prev+1, i+1, c.ID)
		}
		g.index[c.ID] = i
		if c.Action != plan.Create {
			continue
		}
		k := createKey(c)
		if k == "" {
			continue
		}
		m := userCreates
		if c.Kind == plan.KindGroup {
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
			j, ok := g.index[a]
			if !ok {
				return nil, fmt.Errorf("change %d waits on change %d, which is not in the plan", c.ID, a)
			}
			if j == i {
				return nil, fmt.Errorf("change %d waits on itself", c.ID)
			}
			d = append(d, j)
		}
		if symbolic(c.Parent) {
			if j, ok := groupCreates[c.Parent.ExtID]; ok && j != i {
				d = append(d, j)
			}
		}
		if c.Action != plan.Create && c.ObjectID == 0 && c.Key != "" {
			m := userCreates
			if c.Kind == plan.KindGroup {
				m = groupCreates
			}
			if j, ok := m[c.Key]; ok && j != i {
				d = append(d, j)
			}
		}
		slices.Sort(d)
		g.deps[i] = slices.Compact(d)
		for _, j := range g.deps[i] {
			g.dependents[j] = append(g.dependents[j], i)
		}
	}
	if i, ok := g.cycle(); ok {
		return nil, fmt.Errorf("change %d is part of a dependency cycle", cs[i].ID)
	}
	return g, nil
}

// cycle finds a change on a dependency cycle, by Kahn's algorithm: whatever
// cannot be ordered waits, directly or not, on itself.
func (g *graph) cycle() (int, bool) {
	n := len(g.deps)
	waiting := make([]int, n)
	var queue []int
	for i := range n {
		waiting[i] = len(g.deps[i])
		if waiting[i] == 0 {
			queue = append(queue, i)
		}
	}
	seen := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		seen++
		for _, d := range g.dependents[i] {
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
		for _, j := range g.deps[i] {
			if waiting[j] > 0 {
				i = j
				break
			}
		}
	}
	return i, true
}
