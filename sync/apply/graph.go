package apply

import "github.com/convirza-sync/convirza-sync/sync/plan"

// graph is a plan's dependency graph (plan.Graph), by index into
// Plan.Changes.
type graph struct {
	deps       [][]int // deps[i]: the changes i waits on, ascending
	dependents [][]int // dependents[i]: the changes that wait on i, ascending
	index      map[int]int
}

// newGraph builds the dependency graph of a plan's changes (plan.NewGraph).
func newGraph(cs []plan.Change) (*graph, error) {
	g, err := plan.NewGraph(cs)
	if err != nil {
		return nil, err
	}
	return &graph{deps: g.Deps, dependents: g.Dependents, index: g.Index}, nil
}
