package convirza

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// DefaultFetchConcurrency is how many requests FetchState keeps in flight
// when FetchOptions.Concurrency is 0. The limiter sets the pace; this only
// bounds the requests waiting on it.
const DefaultFetchConcurrency = 16

// FetchOptions says what FetchState reads.
type FetchOptions struct {
	// Root is the group everything is read under: "" for the caller's own
	// group (after a login, user.org_unit_id; with a static token, the first
	// node of the tree), "id:N", or an org_unit_ext_id.
	Root string
	// Industries also reads the industry list (one more call).
	Industries bool
	// RootDetails always reads the root's full record (GET /groups/{id}, one
	// more call). Without it, the root's ext id comes from the user listing
	// when a user row names it, and the call is only made when none does.
	RootDetails bool
	// Concurrency bounds the requests in flight; 0 means
	// DefaultFetchConcurrency.
	Concurrency int
}

// FetchStats reports what FetchState cost.
type FetchStats struct {
	// Calls counts every /v3 request FetchState sent, retries included (auth
	// calls aside).
	Calls int
	// Formula is the fewest calls that can read the state: 1 tree +
	// Σ⌈children/200⌉ over the parents that have children + ⌈users/200⌉; by
	// List Groups, 1 tree + ⌈groups/200⌉ + ⌈users/200⌉ (200, or the page
	// size the server serves). Calls exceeds it by RootCalls, IndustryCalls,
	// ProbeCalls and retries, by one when there are no users
	// (one page says so), and, for an ext-id root, by the listings above the
	// root that finding it took.
	Formula int
	// The calls by kind. ListGroupsCalls are the pages of "List Groups"
	// (Route "list-groups"), and the probe that found it absent or unproven.
	TreeCalls, GroupListCalls, UserListCalls, RootCalls, IndustryCalls, ListGroupsCalls int
	// ProbeCalls is the one call (at most, per client) that asked List
	// Groups and found it absent or unproven: Calls exceeds Formula by it.
	ProbeCalls int
	// Route is how the groups were read: RouteTree (the tree, then List
	// Child Groups of each parent) or RouteListGroups.
	Route string
	// PageSize is the page size the listings advanced by: PageSize, or less
	// when the server was seen to cap its pages (then Formula counts with
	// it).
	PageSize int
	// ParentsWithChildren counts the groups whose children were listed.
	ParentsWithChildren int
	// Groups (the root included) and Users read.
	Groups, Users int
	Duration      time.Duration
}

// rootSpec is a parsed FetchOptions.Root.
type rootSpec struct {
	id    int64
	extID string
}

func parseRoot(s string) (rootSpec, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "id:"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		if err != nil || n <= 0 {
			return rootSpec{}, fmt.Errorf("root %q: want id:N with N a positive org_unit_id", s)
		}
		return rootSpec{id: n}, nil
	}
	return rootSpec{extID: s}, nil
}

// fetchCounters count FetchState's calls by kind.
type fetchCounters struct {
	tree, groups, users, root, industries, all atomic.Int64
}

// FetchState reads the current state under the root: every group of any
// status but deleted, every user, and (if asked) the industries, with the
// fewest calls it can:
//
//  1. the tree, once, with active=false (inactive groups and what is below
//     them are in it), to learn the shape; in parallel, when the root is
//     already known, the first page of users;
//  2. List Child Groups, 200 a page, only for the parents that have
//     children: the tree gives each parent's count, so every page is known
//     and fetched at once, concurrently under the limiter;
//  3. List Users once from the root (it covers every sub-group): the first
//     page gives the total, the other pages are fetched concurrently, a
//     window of Concurrency pages ahead, never past the total and never past
//     a page that came back empty or short (a total is a claim, the rows are
//     the facts); rows are de-duplicated by ct_user_id;
//  4. the root's own ext id: a user row that names the root (as its group,
//     parent group or account) gives it for free; otherwise one GET
//     /groups/{id}. The root's name comes from the tree.
//
// A listing whose pages disagree (the data moved while it was read) is read
// again, page after page, once.
func (c *Client) FetchState(ctx context.Context, opts FetchOptions) (*state.CurrentState, FetchStats, error) {
	start := time.Now()
	var st FetchStats
	var cnt fetchCounters
	finish := func() FetchStats {
		st.TreeCalls = int(cnt.tree.Load())
		st.GroupListCalls = int(cnt.groups.Load())
		st.UserListCalls = int(cnt.users.Load())
		st.RootCalls = int(cnt.root.Load())
		st.IndustryCalls = int(cnt.industries.Load())
		st.ListGroupsCalls = int(cnt.all.Load())
		st.Calls = st.TreeCalls + st.GroupListCalls + st.UserListCalls + st.RootCalls + st.IndustryCalls + st.ListGroupsCalls
		st.Duration = time.Since(start)
		return st
	}
	spec, err := parseRoot(opts.Root)
	if err != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", err)
	}
	if err := c.Login(ctx); err != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", err)
	}
	caller, hasCaller := c.Caller()
	conc := opts.Concurrency
	if conc <= 0 {
		conc = DefaultFetchConcurrency
	}
	f := &fetcher{c: c, cnt: &cnt, conc: conc, bytes: newByteBudget(c.maxBytes)}

	// The root, when it is known before the tree.
	rootID := spec.id
	if spec.extID == "" && rootID == 0 && hasCaller {
		rootID = caller.OrgUnitID
	}

	// Phase 1: the tree, with the first user page and the industries beside
	// it.
	var (
		tree       []TreeNode
		industries []state.Industry
		users      *pagedRead[state.User]
		usersErr   error
	)
	{
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			var err error
			tree, _, err = c.Groups.Tree(withCallCounter(gctx, &cnt.tree), false)
			if err != nil {
				return fmt.Errorf("read group tree: %w", err)
			}
			return nil
		})
		if rootID != 0 {
			// Its failure waits until the tree has said whether the root
			// exists: "not in the tree" is the better message.
			users = f.userListing(rootID)
			g.Go(func() error {
				usersErr = users.page(withCallCounter(gctx, &cnt.users), 0)
				return nil
			})
		}
		if opts.Industries {
			g.Go(func() error {
				var err error
				industries, _, err = c.Industries.List(withCallCounter(gctx, &cnt.industries))
				if err != nil {
					return fmt.Errorf("list industries: %w", err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, finish(), fmt.Errorf("fetch state: %w", err)
		}
	}
	if len(tree) == 0 {
		return nil, finish(), fmt.Errorf("fetch state: the group tree is empty: the credentials see no group")
	}
	t := newTreeIndex(tree)

	// The root, from the tree.
	var rootGroup *state.Group // the root's full record, when a call gave it
	listed := map[int64][]state.Group{}
	switch {
	case spec.extID != "":
		var err error
		rootID, rootGroup, err = f.findExtID(ctx, t, spec.extID, listed)
		if err != nil {
			return nil, finish(), fmt.Errorf("fetch state: find root %q: %w", spec.extID, err)
		}
	case rootID == 0:
		rootID = tree[0].ID // a static token: the caller's group is the top of its tree
	}
	if !t.has(rootID) {
		what := "root id:" + strconv.FormatInt(rootID, 10)
		if spec.id == 0 {
			what = fmt.Sprintf("the caller's group %d", rootID)
		}
		return nil, finish(), fmt.Errorf("fetch state: %s is not in the caller's group tree (unknown, deleted or out of scope)", what)
	}

	if usersErr != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", usersErr)
	}

	// Phase 1b: "List Groups", when it is proven and takes fewer calls.
	parents := t.parentsUnder(rootID)
	st.Route = RouteTree
	if all, err := f.listAllRoute(ctx, t, rootID, parents, listed); err != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", err)
	} else if all != nil {
		st.Route = RouteListGroups
		if rootGroup == nil {
			rootGroup = all
		}
	}

	// Phase 2: every page of children under the root, and the users.
	if users == nil {
		users = f.userListing(rootID)
	}
	childReads := map[int64]*pagedRead[state.Group]{}
	{
		r := f.newRunner(ctx)
		for _, p := range parents {
			if _, done := listed[p]; done {
				continue
			}
			pr := f.childListing(p)
			childReads[p] = pr
			for off := 0; off < t.childCount(p); off += f.step() {
				r.run(func(ctx context.Context) error { return pr.page(withCallCounter(ctx, &cnt.groups), off) })
			}
		}
		r.run(func(ctx context.Context) error {
			uctx := withCallCounter(ctx, &cnt.users)
			if !users.has(0) {
				if err := users.page(uctx, 0); err != nil {
					return err
				}
			}
			users.readAhead(r, conc, func(ctx context.Context) context.Context { return withCallCounter(ctx, &cnt.users) })
			return nil
		})
		if err := r.wait(); err != nil {
			return nil, finish(), fmt.Errorf("fetch state: %w", err)
		}
	}
	for p, pr := range childReads {
		groups, err := pr.result(withCallCounter(ctx, &cnt.groups))
		if err != nil {
			return nil, finish(), fmt.Errorf("fetch state: %w", err)
		}
		listed[p] = groups
	}
	rawUsers, err := users.result(withCallCounter(ctx, &cnt.users))
	if err != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", err)
	}

	// Assemble: the root first, then the tree's order, then what the tree
	// did not show (made since), by id. The records are copied once, from
	// the pages into cs.Groups; the users are the listing's own slice.
	n := 0
	for _, p := range parents {
		n += len(listed[p])
	}
	byID := make(map[int64]*state.Group, n)
	var stray []int64
	for _, p := range parents {
		gs := listed[p]
		for i := range gs {
			if _, dup := byID[gs[i].ID]; dup {
				continue
			}
			byID[gs[i].ID] = &gs[i]
			if !t.has(gs[i].ID) {
				stray = append(stray, gs[i].ID)
			}
		}
	}
	root, err := f.rootRecord(ctx, t, rootID, rootGroup, users.notesInOrder(), opts.RootDetails)
	if err != nil {
		return nil, finish(), fmt.Errorf("fetch state: %w", err)
	}
	cs := &state.CurrentState{RootID: rootID, Groups: make([]state.Group, 1, len(byID)+1), Industries: industries}
	cs.Groups[0] = root
	if hasCaller {
		cs.CallerUserID = caller.UserID
	}
	for _, n := range t.subtree(rootID) {
		if n == rootID {
			continue
		}
		if g, ok := byID[n]; ok {
			cs.Groups = append(cs.Groups, *g)
		} else {
			c.log.Debug().Int64("group", n).Msg("a group of the tree was not listed: deleted since")
		}
	}
	slices.Sort(stray)
	for _, id := range stray {
		cs.Groups = append(cs.Groups, *byID[id])
	}
	clear(byID)
	listedCount := make(map[int64]int, len(parents))
	for _, p := range parents {
		listedCount[p] = len(listed[p])
	}
	clear(listed)
	extOf := make(map[int64]string, len(cs.Groups))
	for _, g := range cs.Groups {
		extOf[g.ID] = g.ExtID
	}
	cs.Users = rawUsers
	for i := range cs.Users {
		if u := &cs.Users[i]; u.GroupExtID == "" {
			u.GroupExtID = extOf[u.GroupID]
		}
	}
	slices.SortFunc(cs.Users, func(a, b state.User) int { return cmp.Compare(a.ID, b.ID) })

	// The formula: 1 tree + Σ⌈children/200⌉ + ⌈users/200⌉, or, by List
	// Groups, 1 tree + ⌈groups of the tree/200⌉ + ⌈users/200⌉ (with the page
	// size the server was seen to serve).
	st.PageSize = f.step()
	st.Formula = 1 + ceilDiv(len(cs.Users), st.PageSize)
	for _, p := range parents {
		if n := listedCount[p]; n > 0 {
			if st.Route == RouteTree {
				st.Formula += ceilDiv(n, st.PageSize)
			}
			st.ParentsWithChildren++
		}
	}
	if st.Route == RouteListGroups {
		st.Formula += ceilDiv(len(t.nodes), st.PageSize)
	} else {
		st.ProbeCalls = int(cnt.all.Load())
	}
	st.Groups, st.Users = len(cs.Groups), len(cs.Users)
	return cs, finish(), nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// fetcher carries FetchState's shared parts.
type fetcher struct {
	c     *Client
	cnt   *fetchCounters
	conc  int
	bytes *byteBudget // shared by every listing
}

// byteBudget bounds the bytes of the listing pages of one FetchState.
type byteBudget struct {
	used  atomic.Int64
	limit int64
}

func newByteBudget(limit int64) *byteBudget { return &byteBudget{limit: limit} }

// take spends n bytes, or says there are not that many left.
func (b *byteBudget) take(n int) error {
	if b == nil {
		return nil
	}
	if used := b.used.Add(int64(n)); used > b.limit {
		return fmt.Errorf("the listings hold more than %d bytes (the limit on what one read may hold)", b.limit)
	}
	return nil
}

// runner runs tasks concurrently, at most conc at a time, stopping at the
// first error. A task may start more tasks.
type runner struct {
	g      *errgroup.Group
	ctx    context.Context
	parent context.Context
	sem    chan struct{}
}

func (f *fetcher) newRunner(ctx context.Context) *runner {
	g, gctx := errgroup.WithContext(ctx)
	return &runner{g: g, ctx: gctx, parent: ctx, sem: make(chan struct{}, f.conc)}
}

func (r *runner) run(fn func(ctx context.Context) error) {
	if r.ctx.Err() != nil {
		return // wait reports why
	}
	r.g.Go(func() error {
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
		err := func() error {
			defer func() { <-r.sem }()
			if err := r.ctx.Err(); err != nil {
				return err
			}
			return fn(r.ctx)
		}()
		return err
	})
}

func (r *runner) wait() error {
	if err := r.g.Wait(); err != nil {
		return err
	}
	// A cancelled parent context stops tasks from starting without any task
	// failing.
	return r.parent.Err()
}

// pagedRead collects the pages of one listing as they arrive, then checks
// that they hang together.
type pagedRead[T any] struct {
	what  string
	fetch func(ctx context.Context, offset int) ([]T, *Response, error)
	id    func(T) int64
	// budget, when set, is shared by several listings: a page fetched when
	// it is spent is an error instead.
	budget *callBudget
	// maxRows bounds the rows of the listing; bytes, when set, the bytes of
	// its pages and the others' together.
	maxRows int
	bytes   *byteBudget
	// pace, when set, is the page size the server serves (see paced); nil
	// means PageSize.
	pace *pageSize
	// useArena makes the listing keep its rows in one slice, arena, sized
	// by the first total a page reports: each page is copied into its
	// place (its offset) and kept as a view of it, so that collect returns
	// the arena itself, de-duplicated in place, instead of a second copy
	// of every row. A page that does not fit (past the total, or over rows
	// another page holds) is kept on its own, and collect then copies.
	useArena bool
	arena    []T
	claimed  []bool      // the arena's rows a page holds
	inArena  map[int]int // offset -> rows of the page held in the arena

	mu     sync.Mutex
	pages  map[int][]T
	totals map[int]int       // offset -> the total that page reported (-1: none)
	notes  map[int]*rootNote // offset -> what the page said of the root
}

func newPagedRead[T any](what string, fetch func(context.Context, int) ([]T, *Response, error), id func(T) int64) *pagedRead[T] {
	return &pagedRead[T]{what: what, fetch: fetch, id: id, pages: map[int][]T{}, totals: map[int]int{},
		notes: map[int]*rootNote{}, inArena: map[int]int{}}
}

// place puts the page at offset into the arena when it fits there, and
// returns the rows to keep for it. p.mu is held.
func (p *pagedRead[T]) place(offset int, items []T, total int) []T {
	if !p.useArena {
		return items
	}
	if p.arena == nil && total > 0 {
		// A total is a claim: the arena never holds more rows than a
		// listing may by default, and its fresh pages cost no resident
		// memory until a row is copied there. A listing longer than that
		// keeps its further pages on their own.
		n := min(total, cmp.Or(p.maxRows, DefaultMaxListingRows), DefaultMaxListingRows)
		p.arena, p.claimed = make([]T, n), make([]bool, n)
	}
	if n, ok := p.inArena[offset]; ok { // a page read again: free its rows
		clear(p.claimed[offset : offset+n])
		delete(p.inArena, offset)
	}
	end := offset + len(items)
	if len(items) == 0 || end > len(p.arena) || slices.Contains(p.claimed[offset:end], true) {
		return items
	}
	copy(p.arena[offset:end], items)
	for i := offset; i < end; i++ {
		p.claimed[i] = true
	}
	p.inArena[offset] = len(items)
	return p.arena[offset:end:end]
}

// notesInOrder returns what the pages said of the root, in offset order.
func (p *pagedRead[T]) notesInOrder() []*rootNote {
	p.mu.Lock()
	defer p.mu.Unlock()
	offs := make([]int, 0, len(p.notes))
	for off := range p.notes {
		offs = append(offs, off)
	}
	slices.Sort(offs)
	out := make([]*rootNote, len(offs))
	for i, off := range offs {
		out[i] = p.notes[off]
	}
	return out
}

func (f *fetcher) childListing(parent int64) *pagedRead[state.Group] {
	return paced(f, bounded(f, newPagedRead(fmt.Sprintf("child groups of %d", parent),
		func(ctx context.Context, off int) ([]state.Group, *Response, error) {
			return f.c.Groups.ListChildren(ctx, parent, &GroupListOptions{ListOptions: ListOptions{Limit: PageSize, Offset: off}})
		},
		func(g state.Group) int64 { return g.ID })))
}

// bounded sets p's limits from the client's.
func bounded[T any](f *fetcher, p *pagedRead[T]) *pagedRead[T] {
	p.maxRows, p.bytes = f.c.maxRows, f.bytes
	return p
}

// userListing reads the users under root into one slice (see
// pagedRead.arena), noting what each page says of the root itself.
func (f *fetcher) userListing(root int64) *pagedRead[state.User] {
	p := paced(f, bounded(f, newPagedRead(fmt.Sprintf("users of %d", root),
		func(ctx context.Context, off int) ([]state.User, *Response, error) {
			return f.c.Users.listPage(ctx, &UserListOptions{OrgUnitID: root, SortBy: "created_on", SortOrder: "asc",
				ListOptions: ListOptions{Limit: PageSize, Offset: off}}, root)
		},
		func(u state.User) int64 { return u.ID })))
	p.useArena = true
	return p
}

// callBudget bounds the pages that several listings may fetch together.
type callBudget struct {
	left  atomic.Int64
	limit int64
	why   string // what running out of it means
}

func newCallBudget(limit int, why string) *callBudget {
	b := &callBudget{limit: int64(limit), why: why}
	b.left.Store(int64(limit))
	return b
}

// take spends one call, or says why there is none left.
func (b *callBudget) take() error {
	if b.left.Add(-1) < 0 {
		return fmt.Errorf("gave up after %d listing calls: %s", b.limit, b.why)
	}
	return nil
}

// page fetches the page at offset.
func (p *pagedRead[T]) page(ctx context.Context, offset int) error {
	if p.budget != nil {
		if err := p.budget.take(); err != nil {
			return fmt.Errorf("list %s, offset %d: %w", p.what, offset, err)
		}
	}
	if p.maxRows > 0 && offset >= p.maxRows {
		return fmt.Errorf("list %s, offset %d: the listing has no end: it goes on past the %d rows a listing may hold", p.what, offset, p.maxRows)
	}
	items, resp, err := p.fetch(ctx, offset)
	if err != nil {
		return fmt.Errorf("list %s, offset %d: %w", p.what, offset, err)
	}
	switch {
	case len(items) > PageSize:
		return fmt.Errorf("list %s, offset %d: a page of %d rows, more than the %d asked for", p.what, offset, len(items), PageSize)
	case p.maxRows > 0 && resp.Total > p.maxRows:
		return fmt.Errorf("list %s, offset %d: a total of %d rows, more than the %d a listing may hold", p.what, offset, resp.Total, p.maxRows)
	}
	if err := p.bytes.take(resp.BodyBytes); err != nil {
		return fmt.Errorf("list %s, offset %d: %w", p.what, offset, err)
	}
	p.mu.Lock()
	p.pages[offset] = p.place(offset, items, resp.Total)
	p.totals[offset] = resp.Total
	if resp.note != nil {
		p.notes[offset] = resp.note
	}
	p.mu.Unlock()
	p.pace.observe(offset, len(items), resp.Total)
	return nil
}

func (p *pagedRead[T]) has(offset int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.pages[offset]
	return ok
}

// pageLen is the number of rows of the page at offset (0 when not fetched).
func (p *pagedRead[T]) pageLen(offset int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pages[offset])
}

// readAhead fetches, on r, the pages after the first (already fetched), in
// order, with at most ahead of them scheduled at a time: each full page that
// comes back schedules the next one. It never asks for an offset at or past
// the largest total the pages report, and schedules nothing more once a page
// comes back empty or short: the listing ends there, whatever a total said.
// (result then checks that the rows add up, and fillGaps walks, page after
// page, whatever a short page left out.) In the normal case this fetches
// exactly the pages the total needs.
func (p *pagedRead[T]) readAhead(r *runner, ahead int, count func(context.Context) context.Context) {
	var (
		mu    sync.Mutex
		next  = p.pace.get()
		ended bool
	)
	var more func(n int)
	fetch := func(off int) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := p.page(count(ctx), off); err != nil {
				return err
			}
			if p.pageLen(off) < p.pace.get() {
				mu.Lock()
				ended = true
				mu.Unlock()
				return nil
			}
			more(1)
			return nil
		}
	}
	// more schedules up to n more pages, chosen at once.
	more = func(n int) {
		var offs []int
		mu.Lock()
		for ; n > 0 && !ended && next < p.total(); n-- {
			offs = append(offs, next)
			next += p.pace.get()
		}
		mu.Unlock()
		for _, off := range offs {
			r.run(fetch(off))
		}
	}
	if p.pageLen(0) < p.pace.get() {
		return
	}
	more(max(ahead, 1))
}

// total is the largest total a page reported, or -1 when none said.
func (p *pagedRead[T]) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := -1
	for _, v := range p.totals {
		t = max(t, v)
	}
	return t
}

// result fetches any page still missing (the total grew, or the server gave
// none), and returns the rows de-duplicated. When the pages disagree (a
// total changed, or the rows do not add up to it) it reads the listing again
// from the start, once, before giving up.
func (p *pagedRead[T]) result(ctx context.Context) ([]T, error) {
	for attempt := 0; ; attempt++ {
		if err := p.fillGaps(ctx); err != nil {
			return nil, err
		}
		items, ok, why := p.collect()
		if ok {
			return items, nil
		}
		if attempt == 1 {
			return nil, fmt.Errorf("list %s: the listing changed while it was read (%s); try again", p.what, why)
		}
		p.mu.Lock()
		p.pages, p.totals, p.notes, p.inArena = map[int][]T{}, map[int]int{}, map[int]*rootNote{}, map[int]int{}
		clear(p.claimed)
		p.mu.Unlock()
		if err := p.page(ctx, 0); err != nil {
			return nil, err
		}
	}
}

// fillGaps walks the listing from offset 0, page by page as the pages
// themselves say (a server that serves fewer than 200 rows a page is walked
// correctly, at the cost of more calls), and fetches, one after the other,
// the pages that are missing: the total grew, or the server gave none.
func (p *pagedRead[T]) fillGaps(ctx context.Context) error {
	off := 0
	for {
		p.mu.Lock()
		items, have := p.pages[off]
		p.mu.Unlock()
		if !have {
			if err := p.page(ctx, off); err != nil {
				return err
			}
			continue
		}
		t := p.total()
		next := off + len(items)
		switch {
		case len(items) == 0:
			return nil
		case t >= 0 && next >= t:
			return nil
		case t < 0 && len(items) < p.pace.get():
			return nil
		}
		off = next
	}
}

// collect returns the rows in offset order, each id once, and whether the
// pages agree with each other.
func (p *pagedRead[T]) collect() ([]T, bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	offs := make([]int, 0, len(p.pages))
	for off := range p.pages {
		offs = append(offs, off)
	}
	slices.Sort(offs)
	rows, whole := 0, p.arena != nil
	for _, off := range offs {
		rows += len(p.pages[off])
		if _, ok := p.inArena[off]; !ok && len(p.pages[off]) > 0 {
			whole = false
		}
	}
	seen := make(map[int64]struct{}, rows)
	var items []T
	if whole {
		// Every page is a view of the arena, the views in offset order and
		// apart: de-duplicate in place, never writing past the row read.
		w := 0
		for _, off := range offs {
			for _, it := range p.pages[off] {
				if id := p.id(it); !has(seen, id) {
					seen[id] = struct{}{}
					p.arena[w] = it
					w++
				}
			}
		}
		clear(p.arena[w:])
		items = p.arena[:w]
		// The arena is the caller's now; pages read again get their own.
		p.arena, p.claimed, p.pages, p.inArena = nil, nil, map[int][]T{}, map[int]int{}
	} else {
		items = make([]T, 0, rows)
		for _, off := range offs {
			for _, it := range p.pages[off] {
				if id := p.id(it); !has(seen, id) {
					seen[id] = struct{}{}
					items = append(items, it)
				}
			}
		}
	}
	total, agree := -1, true
	for _, t := range p.totals {
		if total >= 0 && t != total {
			agree = false
		}
		total = max(total, t)
	}
	switch {
	case !agree:
		return items, false, "the total changed between pages"
	case total >= 0 && len(items) != total:
		return items, false, fmt.Sprintf("%d distinct rows for a total of %d", len(items), total)
	}
	return items, true, ""
}

func has(m map[int64]struct{}, k int64) bool { _, ok := m[k]; return ok }

// treeIndex answers questions about the tree.
type treeIndex struct {
	nodes    []TreeNode
	index    map[int64]int
	children map[int64][]int64 // in tree order
}

func newTreeIndex(nodes []TreeNode) *treeIndex {
	t := &treeIndex{nodes: nodes, index: map[int64]int{}, children: map[int64][]int64{}}
	for i, n := range nodes {
		t.index[n.ID] = i
	}
	for _, n := range nodes {
		if _, ok := t.index[n.ParentID]; ok && n.ParentID != n.ID {
			t.children[n.ParentID] = append(t.children[n.ParentID], n.ID)
		}
	}
	return t
}

func (t *treeIndex) has(id int64) bool { _, ok := t.index[id]; return ok }

func (t *treeIndex) childCount(id int64) int { return len(t.children[id]) }

func (t *treeIndex) name(id int64) string {
	if i, ok := t.index[id]; ok {
		return t.nodes[i].Name
	}
	return ""
}

// subtree returns root and every node below it, in pre-order.
func (t *treeIndex) subtree(root int64) []int64 {
	var out []int64
	seen := map[int64]bool{}
	stack := []int64{root}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] { // a cycle in a malformed tree
			continue
		}
		seen[id] = true
		out = append(out, id)
		kids := t.children[id]
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return out
}

// parentsUnder returns the nodes of root's subtree that have children.
func (t *treeIndex) parentsUnder(root int64) []int64 {
	var out []int64
	for _, id := range t.subtree(root) {
		if len(t.children[id]) > 0 {
			out = append(out, id)
		}
	}
	return out
}

// tops returns the nodes whose parent is not in the tree.
func (t *treeIndex) tops() []int64 {
	var out []int64
	for _, n := range t.nodes {
		if !t.has(n.ParentID) || n.ParentID == n.ID {
			out = append(out, n.ID)
		}
	}
	return out
}

// findExtID finds the group with an ext id, level by level from the top of
// the caller's tree (the tree holds no ext ids), listing the children of one
// level's parents at once. It stops at the level where the ext id shows up,
// so only the levels above the root cost more than the root's own subtree.
// The lists it made are kept in listed (children by parent). When no listed
// group has the ext id, the top of the tree is read, since no listing shows
// it.
//
// Listings that disagree with the tree (a group listed under its own
// descendant, or under two parents) cannot make it loop: each group's
// children are listed once at most, and all the listings together may cost
// at most twice what listing every parent of the tree would.
func (f *fetcher) findExtID(ctx context.Context, t *treeIndex, ext string, listed map[int64][]state.Group) (int64, *state.Group, error) {
	limit := 2
	for _, kids := range t.children {
		limit += 2 * max(1, ceilDiv(len(kids), PageSize))
	}
	budget := newCallBudget(limit, "the child listings disagree with the group tree")
	visited := map[int64]bool{}
	disagree := false // a listing named a group already seen
	level := t.tops()
	for len(level) > 0 {
		var parents []int64
		for _, id := range level {
			if visited[id] {
				disagree = true
				continue
			}
			visited[id] = true
			if t.childCount(id) > 0 {
				parents = append(parents, id)
			}
		}
		reads := map[int64]*pagedRead[state.Group]{}
		r := f.newRunner(ctx)
		for _, p := range parents {
			pr := f.childListing(p)
			pr.budget = budget
			reads[p] = pr
			for off := 0; off < t.childCount(p); off += f.step() {
				r.run(func(ctx context.Context) error { return pr.page(withCallCounter(ctx, &f.cnt.groups), off) })
			}
		}
		if err := r.wait(); err != nil {
			return 0, nil, err
		}
		var found []state.Group
		var next []int64
		for _, p := range parents {
			groups, err := reads[p].result(withCallCounter(ctx, &f.cnt.groups))
			if err != nil {
				return 0, nil, err
			}
			listed[p] = groups
			for _, g := range groups {
				if strings.TrimSpace(g.ExtID) == ext {
					found = append(found, g)
				}
				next = append(next, g.ID)
			}
		}
		switch len(found) {
		case 0:
		case 1:
			return found[0].ID, &found[0], nil
		default:
			return 0, nil, fmt.Errorf("ext id %q names %d groups (%d and %d): use id:N", ext, len(found), found[0].ID, found[1].ID)
		}
		level = next
	}
	for _, top := range t.tops() {
		g, _, err := f.c.Groups.Get(withCallCounter(ctx, &f.cnt.root), top)
		if err != nil {
			return 0, nil, fmt.Errorf("read group %d: %w", top, err)
		}
		if strings.TrimSpace(g.ExtID) == ext {
			return g.ID, g, nil
		}
	}
	if disagree {
		return 0, nil, errors.New("no group under the caller's group has this ext id (and the child listings disagree with the group tree: a group was listed twice, or under its own descendant)")
	}
	return 0, nil, errors.New("no group under the caller's group has this ext id")
}

// rootRecord returns the root's group record: the one a call already gave;
// else, unless asked for the full record, one built from the tree (its name)
// and the user rows (its ext id, parent); else a GET.
func (f *fetcher) rootRecord(ctx context.Context, t *treeIndex, rootID int64, have *state.Group, notes []*rootNote, full bool) (state.Group, error) {
	if have != nil {
		return *have, nil
	}
	if !full {
		g := state.Group{ID: rootID, Name: t.name(rootID)}
		if i, ok := t.index[rootID]; ok {
			g.ParentID = t.nodes[i].ParentID
		}
		// What the user pages said of the root, page after page.
		for _, n := range notes {
			if g.ParentID == 0 && n.parentID != 0 {
				g.ParentID = n.parentID // the parent group of a user of the root
			}
			if n.extID != "" {
				g.ExtID = n.extID
				if g.Name == "" {
					g.Name = n.name
				}
				return g, nil
			}
		}
	}
	gp, _, err := f.c.Groups.Get(withCallCounter(ctx, &f.cnt.root), rootID)
	if err != nil {
		return state.Group{}, fmt.Errorf("read root group %d: %w", rootID, err)
	}
	return *gp, nil
}
