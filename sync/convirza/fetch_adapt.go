package convirza

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// What FetchState adapts to, once the server has shown it: a page size
// capped below the one asked for, and a "List Groups" that reads the whole
// hierarchy in fewer calls than the tree and the child listings.

// The routes of FetchStats.Route.
const (
	// RouteTree reads the tree, then List Child Groups of every parent.
	RouteTree = "tree"
	// RouteListGroups reads the tree, then every page of List Groups.
	RouteListGroups = "list-groups"
)

// pageSize is the page size the server serves: PageSize, until a page comes
// back with fewer rows than that while its own total says more rows follow.
// Offsets always advance by the rows received (fillGaps); this only lets the
// pages be scheduled ahead at the right offsets. The smallest cap seen wins.
type pageSize struct{ n atomic.Int64 }

func (p *pageSize) get() int {
	if p == nil {
		return PageSize
	}
	if v := p.n.Load(); v > 0 {
		return int(v)
	}
	return PageSize
}

// observe learns from a page of n rows at offset of a listing whose total
// was total (-1: unknown). A short page at the end of the listing, or one
// without a total to agree with, teaches nothing.
func (p *pageSize) observe(offset, n, total int) {
	if p == nil || n <= 0 || n >= PageSize || total < 0 || offset+n >= total {
		return
	}
	for {
		cur := p.n.Load()
		if cur != 0 && int64(n) >= cur {
			return
		}
		if p.n.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// step is the page size listings advance by.
func (f *fetcher) step() int { return f.c.pace.get() }

// paced makes pr learn and use the server's page size.
func paced[T any](f *fetcher, pr *pagedRead[T]) *pagedRead[T] {
	pr.pace = &f.c.pace
	return pr
}

// What the client knows of List Groups (Client.listGroups).
const (
	listGroupsUnknown int32 = iota
	listGroupsAbsent        // absent, or it did not answer as assumed: never asked again
	listGroupsProven
)

// listAllRoute reads every group of the caller's hierarchy by List Groups
// (GET /groups, [assumed]) into listed (children by parent, for the parents
// under root), and returns root's record from it, when three things hold:
//
//   - it takes fewer calls than listing the children of the parents under
//     root: ⌈tree nodes/page⌉ < Σ⌈children/page⌉;
//   - the endpoint answers, and its first page proves it lists the whole
//     hierarchy: its total equals the number of nodes of the tree, and the
//     page holds the children of more than one parent;
//   - every page is read and the rows add up to that total.
//
// Otherwise it returns nil and FetchState keeps the tree + child-list route,
// without an error: a 404 or 405, another error, or an answer that proves
// nothing. Only a cancelled context is an error. A probe that did not prove
// the endpoint is not made again by this client.
func (f *fetcher) listAllRoute(ctx context.Context, t *treeIndex, root int64, parents []int64, listed map[int64][]state.Group) (*state.Group, error) {
	if f.c.listGroups.Load() == listGroupsAbsent {
		return nil, nil
	}
	childCalls := 0
	for _, p := range parents {
		if _, done := listed[p]; !done {
			childCalls += ceilDiv(t.childCount(p), f.step())
		}
	}
	if ceilDiv(len(t.nodes), f.step()) >= childCalls {
		return nil, nil
	}
	pr := paced(f, bounded(f, newPagedRead("all groups", func(ctx context.Context, off int) ([]state.Group, *Response, error) {
		return f.c.Groups.ListAll(ctx, &ListOptions{Limit: PageSize, Offset: off})
	}, func(g state.Group) int64 { return g.ID })))
	count := func(ctx context.Context) context.Context { return withCallCounter(ctx, &f.cnt.all) }
	fallBack := func(why string, err error) (*state.Group, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ev := f.c.log.Debug().Str("why", why)
		if err != nil {
			ev = ev.Str("error", f.c.secrets.redact(err.Error()))
		}
		ev.Msg("list groups not used: reading the tree's child lists")
		return nil, nil
	}
	if err := pr.page(count(ctx), 0); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed ||
			ae.StatusCode == http.StatusBadRequest) {
			f.c.listGroups.Store(listGroupsAbsent)
		}
		return fallBack("the endpoint did not answer", err)
	}
	pr.mu.Lock()
	first := pr.pages[0]
	pr.mu.Unlock()
	if !provesWholeHierarchy(first, pr.total(), t) {
		f.c.listGroups.Store(listGroupsAbsent)
		return fallBack("its first page does not prove it lists the whole hierarchy", nil)
	}
	r := f.newRunner(ctx)
	r.run(func(ctx context.Context) error {
		pr.readAhead(r, f.conc, count)
		return nil
	})
	if err := r.wait(); err != nil {
		return fallBack("a page failed", err)
	}
	rows, err := pr.result(count(ctx))
	if err != nil {
		return fallBack("its pages do not add up", err)
	}
	f.c.listGroups.Store(listGroupsProven)
	under := map[int64]bool{}
	for _, id := range t.subtree(root) {
		under[id] = true
	}
	var rootRec *state.Group
	kids := map[int64][]state.Group{}
	for i, g := range rows {
		switch {
		case g.ID == root:
			rootRec = &rows[i]
		case under[g.ParentID]:
			kids[g.ParentID] = append(kids[g.ParentID], g)
		}
	}
	for _, p := range parents {
		listed[p] = kids[p]
	}
	return rootRec, nil
}

// provesWholeHierarchy says whether a first page of List Groups, with its
// total, shows the listing of a whole hierarchy: the total is the tree's
// node count, and the page holds groups of more than one parent.
func provesWholeHierarchy(page []state.Group, total int, t *treeIndex) bool {
	if total != len(t.nodes) || len(page) == 0 {
		return false
	}
	parents := map[int64]bool{}
	for _, g := range page {
		if g.ParentID != 0 && t.has(g.ParentID) {
			parents[g.ParentID] = true
		}
	}
	return len(parents) > 1
}
