// Package doctor checks, against a live Convirza account, each assumption
// that convirza-sync makes about the API (the points that the API contract,
// convirza-api.md, marks [assumed] or contradicted; the README's "API
// assumptions" table), and says for each whether it holds (ok),
// differs in a way the job copes with (adapted), differs in a way it cannot
// handle safely (differs), or could not be told (unknown).
//
// Invariant: doctor never writes. It sends GET requests and the auth calls
// (login, and the revoke of its own tokens) and nothing else; it reads what
// the client's Trace recorded to see the raw answers. It reads no flags and
// no environment.
package doctor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// Status is the verdict of one check.
type Status string

// The statuses, from best to worst.
const (
	OK      Status = "ok"      // the assumption holds
	Adapted Status = "adapted" // it does not, and the job copes with what it saw
	Unknown Status = "unknown" // it could not be told
	Differs Status = "differs" // it does not, and the job cannot handle it safely
)

func (s Status) rank() int { return slices.Index([]Status{OK, Adapted, Unknown, Differs}, s) }

func worst(ss ...Status) Status {
	w := OK
	for _, s := range ss {
		if s.rank() > w.rank() {
			w = s
		}
	}
	return w
}

// Check is one assumption and what the account showed of it.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// Report is every check, in a fixed order.
type Report struct {
	Checks []Check `json:"checks"`
}

// Differs reports whether some check differs: the job cannot run safely as
// it is.
func (r Report) Differs() bool {
	return slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Differs })
}

// Check returns the check of that name.
func (r Report) Check(name string) (Check, bool) {
	i := slices.IndexFunc(r.Checks, func(c Check) bool { return c.Name == name })
	if i < 0 {
		return Check{}, false
	}
	return r.Checks[i], true
}

// WriteJSON prints the report as one JSON object with a "checks" array.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write doctor report: %w", err)
	}
	return nil
}

// WriteText prints the report as a short table, then one line of verdict.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write doctor report: %w", err)
	}
	counts := map[Status]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
	}
	verdict := "the job can run against this account"
	if r.Differs() {
		verdict = "the job cannot run safely until what differs is fixed"
	}
	_, err := fmt.Fprintf(w, "\n%d ok, %d adapted, %d unknown, %d differs: %s.\n",
		counts[OK], counts[Adapted], counts[Unknown], counts[Differs], verdict)
	return err
}

// Options are what doctor needs besides the client.
type Options struct {
	// Root is the group the job would run under, as FetchOptions.Root.
	Root string
	// Rate is the --rate the job would run with (requests per second), for
	// the concurrency suggestion; 0 means convirza.DefaultRate.
	Rate float64
	// Now is the clock (for the skew check); nil means time.Now.
	Now func() time.Time
}

// The names of the checks, in the order they are reported.
const (
	CheckAuth        = "auth"
	CheckRoot        = "root"
	CheckTree        = "tree"
	CheckPageSize    = "page-size"
	CheckListGroups  = "list-groups"
	CheckIndustries  = "industries"
	CheckSpellings   = "spellings"
	CheckExtIDs      = "ext-ids"
	CheckSiblings    = "sibling-names"
	CheckAdoption    = "adoption"
	CheckRateLimit   = "rate-limit"
	CheckLatency     = "latency"
	CheckClock       = "clock"
	checkNotReachedD = "not reached: an earlier check failed"
)

var order = []string{CheckAuth, CheckRoot, CheckTree, CheckPageSize, CheckListGroups, CheckIndustries,
	CheckSpellings, CheckExtIDs, CheckSiblings, CheckAdoption, CheckRateLimit, CheckLatency, CheckClock}

// Run runs every check with c, whose Options.Trace must be tr (doctor reads
// the raw answers from it). It never writes.
func Run(ctx context.Context, c *convirza.Client, tr *convirza.Trace, opts Options) Report {
	if opts.Rate <= 0 {
		opts.Rate = convirza.DefaultRate
	}
	// The trace times each call by the real clock; the skew check reads
	// them on opts.Now's.
	var clock time.Duration
	if opts.Now != nil {
		clock = time.Until(opts.Now())
	}
	d := &run{c: c, tr: tr, opts: opts, got: map[string]Check{}, clock: clock}
	d.checks(ctx)
	var r Report
	for _, name := range order {
		ch, ok := d.got[name]
		if !ok {
			ch = Check{Name: name, Status: Unknown, Detail: checkNotReachedD}
		}
		r.Checks = append(r.Checks, ch)
	}
	return r
}

type run struct {
	c     *convirza.Client
	tr    *convirza.Trace
	opts  Options
	got   map[string]Check
	clock time.Duration // opts.Now minus the real clock
}

func (d *run) set(name string, s Status, format string, args ...any) {
	d.got[name] = Check{Name: name, Status: s, Detail: fmt.Sprintf(format, args...)}
}

func (d *run) checks(ctx context.Context) {
	defer d.network()
	if !d.auth(ctx) {
		return
	}
	cs, fs, err := d.c.FetchState(ctx, convirza.FetchOptions{Root: d.opts.Root, Industries: true})
	if err != nil {
		d.set(CheckRoot, Differs, "reading the state under the root failed: %v", err)
		return
	}
	d.root(ctx, cs, fs)
	d.tree(cs)
	d.pageSize(ctx, cs, fs)
	d.listGroups(ctx, fs)
	d.industries(cs)
	d.spellings()
	d.extIDs(cs)
	d.siblings(cs)
	d.adoption(cs)
}

// auth: login or token, the expiry format, the caller's profile and role.
func (d *run) auth(ctx context.Context) bool {
	if err := d.c.Login(ctx); err != nil {
		d.set(CheckAuth, Differs, "the credentials were refused: %v", err)
		return false
	}
	var parts []string
	st := OK
	caller, login := d.c.Caller()
	if login {
		parts = append(parts, "login")
		switch f := d.expiryFormat(); f {
		case "time":
			parts = append(parts, "expires_in an ISO-8601 time")
		case "seconds":
			parts = append(parts, "expires_in in seconds (read as such)")
			st = worst(st, Adapted)
		default:
			parts = append(parts, "expires_in not seen")
		}
	} else {
		parts = append(parts, "static token")
	}
	role := state.Role("")
	p, _, err := d.c.Profile(ctx)
	var ae *convirza.APIError
	switch {
	case err == nil:
		role = p.Role
		parts = append(parts, fmt.Sprintf("profile: user %d, group %d, role %q", p.UserID, p.OrgUnitID, p.RoleText))
	case errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed):
		parts = append(parts, fmt.Sprintf("no /auth/profile (%d)", ae.StatusCode))
	case !login && errors.Is(err, convirza.ErrUnauthorized):
		// A static token sends nothing to log in: the profile is the first
		// call that can refuse it.
		d.set(CheckAuth, Differs, "the static token was refused: %v", err)
		return false
	default:
		parts = append(parts, "profile unreadable: "+err.Error())
	}
	if role == "" && login {
		role, _ = state.RoleFromID(caller.RoleID)
	}
	switch role {
	case state.RoleAdmin:
		parts = append(parts, "admin: may write")
	case "":
		parts = append(parts, "role unknown: admin is needed to write")
		st = worst(st, Unknown)
	default:
		parts = append(parts, fmt.Sprintf("%s, not admin: writes will be refused", role))
		st = Differs
	}
	d.set(CheckAuth, st, "%s", strings.Join(parts, "; "))
	return true
}

// expiryFormat says how the last login's expires_in was written.
func (d *run) expiryFormat() string {
	for _, x := range slices.Backward(d.tr.Exchanges()) {
		if !strings.HasSuffix(x.Path, "/oauth/token") || x.Status != http.StatusOK {
			continue
		}
		raw, ok := dataOf(x.ResponseBody, "expires_in")
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if _, err := time.Parse(time.RFC3339, s); err == nil {
				return "time"
			}
			return "seconds"
		}
		return "seconds"
	}
	return ""
}

// root: the root, the caller's scope under it, and how GET /groups/{id}
// answers (bare or wrapped).
func (d *run) root(ctx context.Context, cs *state.CurrentState, fs convirza.FetchStats) {
	r := cs.Groups[0]
	scope := "the caller's group"
	if d.opts.Root != "" {
		scope = "--root " + d.opts.Root
	}
	st, detail := OK, "GET /groups/{id} bare"
	path := fmt.Sprintf("/groups/%d", r.ID)
	if _, _, err := d.c.Groups.Get(ctx, r.ID); err != nil {
		st, detail = Unknown, "GET /groups/{id} failed: "+err.Error()
	} else {
		for _, x := range slices.Backward(d.tr.Exchanges()) {
			if strings.HasSuffix(x.Path, path) && x.Method == http.MethodGet && x.Status == http.StatusOK {
				if _, wrapped := dataOf(x.ResponseBody, "group"); wrapped {
					st, detail = Adapted, "GET /groups/{id} wrapped in data.group (read as such)"
				}
				break
			}
		}
	}
	d.set(CheckRoot, st, "%s: group %d %q (ext id %q); %d groups and %d users under it, read in %d calls; %s",
		scope, r.ID, r.Name, r.ExtID, fs.Groups, fs.Users, fs.Calls, detail)
}

func (d *run) tree(cs *state.CurrentState) {
	form, st := "flat (dotted codes)", OK
	for _, x := range d.tr.Exchanges() {
		if strings.HasSuffix(x.Path, "/groups/tree") && x.Status == http.StatusOK {
			if hasKey(x.ResponseBody, "children") {
				form, st = "nested (children)", Adapted
			} else if !hasKey(x.ResponseBody, "code") {
				form, st = "of an unknown form (read without codes or children)", Unknown
			}
			break
		}
	}
	depth := map[int64]int{}
	maxDepth := 0
	counts := map[state.Status]int{}
	for _, g := range cs.Groups {
		depth[g.ID] = depth[g.ParentID] + 1
		if g.ID == cs.RootID {
			depth[g.ID] = 1
		}
		maxDepth = max(maxDepth, depth[g.ID])
		if g.ID != cs.RootID {
			counts[g.Status]++
		}
	}
	d.set(CheckTree, st, "%s; %d levels from the root; below it %d active, %d inactive",
		form, maxDepth, counts[state.StatusActive], counts[state.StatusInactive])
}

// hasKey reports whether an object anywhere in the JSON text body has the
// key k (a group named "children" is a value, not a key).
func hasKey(body, k string) bool {
	dec := json.NewDecoder(strings.NewReader(body))
	// the open containers: 'k' an object whose next token is a key (or its
	// end), 'v' an object whose next token is a value, 'a' an array
	var open []byte
	valueDone := func() {
		if n := len(open); n > 0 && open[n-1] == 'v' {
			open[n-1] = 'k'
		}
	}
	for {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		if n := len(open); n > 0 && open[n-1] == 'k' {
			switch {
			case t == json.Delim('}'):
				open = open[:n-1]
				valueDone()
			case t == any(k):
				return true
			default:
				open[n-1] = 'v'
			}
			continue
		}
		switch t {
		case json.Delim('{'):
			open = append(open, 'k')
		case json.Delim('['):
			open = append(open, 'a')
		case json.Delim(']'):
			open = open[:len(open)-1]
			valueDone()
		default: // a scalar value
			valueDone()
		}
	}
}

// pageSize asks 200 of the largest parent's children and compares the rows
// with the total.
func (d *run) pageSize(ctx context.Context, cs *state.CurrentState, fs convirza.FetchStats) {
	kids := map[int64]int{}
	for _, g := range cs.Groups {
		kids[g.ParentID]++
	}
	var parent int64
	for id, n := range kids {
		if n > kids[parent] || n == kids[parent] && id < parent {
			parent = id
		}
	}
	if parent == 0 || kids[parent] < 2 {
		if fs.PageSize < convirza.PageSize {
			d.set(CheckPageSize, Adapted, "pages capped at %d (seen in the listings): offsets advance by the rows received", fs.PageSize)
			return
		}
		d.set(CheckPageSize, Unknown, "no parent has 2 or more children: too few rows to tell")
		return
	}
	rows, resp, err := d.c.Groups.ListChildren(ctx, parent, &convirza.GroupListOptions{ListOptions: convirza.ListOptions{Limit: convirza.PageSize}})
	if err != nil {
		d.set(CheckPageSize, Unknown, "listing the children of %d failed: %v", parent, err)
		return
	}
	want := min(resp.Total, convirza.PageSize)
	switch {
	case resp.Total < 0:
		d.set(CheckPageSize, Adapted, "asked 200 of group %d's children: %d rows and no total; pages are walked until a short one", parent, len(rows))
	case len(rows) == want:
		if resp.Total > len(rows) || fs.PageSize == convirza.PageSize {
			d.set(CheckPageSize, OK, "asked 200 of group %d's children: %d of %d", parent, len(rows), resp.Total)
			return
		}
		d.set(CheckPageSize, Adapted, "asked 200 of group %d's children: all %d; the listings showed pages capped at %d", parent, len(rows), fs.PageSize)
	case len(rows) < want && len(rows) > 0:
		d.set(CheckPageSize, Adapted, "asked 200 of group %d's children: %d of %d, so pages are capped at %d: offsets advance by the rows received", parent, len(rows), resp.Total, len(rows))
	default:
		d.set(CheckPageSize, Differs, "asked 200 of group %d's children: %d rows for a total of %d: the total cannot be trusted", parent, len(rows), resp.Total)
	}
}

func (d *run) listGroups(ctx context.Context, fs convirza.FetchStats) {
	rows, resp, err := d.c.Groups.ListAll(ctx, &convirza.ListOptions{Limit: convirza.PageSize})
	var ae *convirza.APIError
	switch {
	case errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed):
		d.set(CheckListGroups, OK, "GET /groups answers %d: absent; the fetch reads the tree and the child lists", ae.StatusCode)
	case err != nil:
		d.set(CheckListGroups, Unknown, "GET /groups failed: %v; the fetch reads the tree and the child lists", err)
	case fs.Route == convirza.RouteListGroups:
		d.set(CheckListGroups, Adapted, "GET /groups lists the whole hierarchy (total %d, %d on the first page); the fetch uses it: %d calls", resp.Total, len(rows), fs.Calls)
	default:
		d.set(CheckListGroups, Unknown, "GET /groups answers (total %d, %d rows) but did not prove it lists the whole hierarchy, or it would not save calls: not used", resp.Total, len(rows))
	}
}

func (d *run) industries(cs *state.CurrentState) {
	shape := "?"
	for _, x := range d.tr.Exchanges() {
		if strings.HasSuffix(x.Path, "/industry") && x.Status == http.StatusOK {
			if raw, ok := dataOf(x.ResponseBody, ""); ok && len(raw) > 0 && raw[0] == '[' {
				shape = "a bare array"
			} else {
				shape = `{"industries": [...]}`
			}
		}
	}
	if len(cs.Industries) == 0 {
		d.set(CheckIndustries, Unknown, "the list is empty (%s): industry names in the export cannot be mapped", shape)
		return
	}
	d.set(CheckIndustries, OK, "%d industries, as %s", len(cs.Industries), shape)
}

// spellings collects the role and status values the listings sent.
func (d *run) spellings() {
	roles, statuses := map[string]bool{}, map[string]bool{}
	st := OK
	for _, x := range d.tr.Exchanges() {
		var key, statusKey string
		switch {
		case strings.HasSuffix(x.Path, "/users/list"):
			key, statusKey = "users", "status"
		case strings.HasSuffix(x.Path, "/groups/list"), strings.HasSuffix(x.Path, "/groups"):
			key, statusKey = "groups", "org_unit_status"
		default:
			continue
		}
		if x.Status != http.StatusOK || x.Truncated {
			continue
		}
		list, ok := dataOf(x.ResponseBody, key)
		if !ok {
			continue
		}
		var rows []map[string]json.RawMessage
		if json.Unmarshal(list, &rows) != nil {
			continue
		}
		for _, r := range rows {
			if v, ok := r["role"]; ok && key == "users" {
				roles[strings.TrimSpace(string(v))] = true
			}
			if v, ok := r[statusKey]; ok {
				statuses[strings.TrimSpace(string(v))] = true
			}
		}
	}
	var roleList, statusList, bad []string
	for v := range roles {
		roleList = append(roleList, v)
		var s string
		if json.Unmarshal([]byte(v), &s) != nil {
			s = v
			st = worst(st, Adapted) // role ids, read as such
		}
		if _, ok := state.ParseRole(s); !ok {
			bad = append(bad, "role "+v)
		}
	}
	for v := range statuses {
		statusList = append(statusList, v)
		var s string
		_ = json.Unmarshal([]byte(v), &s)
		switch state.Status(strings.ToLower(strings.TrimSpace(s))) {
		case state.StatusActive, state.StatusInactive, state.StatusDeleted:
		default:
			bad = append(bad, "status "+v)
		}
	}
	slices.Sort(roleList)
	slices.Sort(statusList)
	slices.Sort(bad)
	if len(bad) > 0 {
		d.set(CheckSpellings, Differs, "unreadable: %s (roles seen %s; statuses seen %s)", strings.Join(bad, ", "), list(roleList), list(statusList))
		return
	}
	if len(roleList) == 0 && len(statusList) == 0 {
		d.set(CheckSpellings, Unknown, "no listing row was seen")
		return
	}
	d.set(CheckSpellings, st, "roles %s; statuses %s", list(roleList), list(statusList))
}

func list(vs []string) string {
	if len(vs) == 0 {
		return "none seen"
	}
	return strings.Join(vs, ", ")
}

// extIDs: an ext id that names two live groups.
func (d *run) extIDs(cs *state.CurrentState) {
	by := map[string][]int64{}
	for _, g := range cs.Groups {
		if g.ExtID != "" && g.Status != state.StatusDeleted {
			k := normalize.ExtIDKey(g.ExtID)
			by[k] = append(by[k], g.ID)
		}
	}
	var dups []string
	for k, ids := range by {
		if len(ids) > 1 {
			dups = append(dups, fmt.Sprintf("%q (groups %s)", k, joinIDs(ids)))
		}
	}
	if len(dups) > 0 {
		slices.Sort(dups)
		d.set(CheckExtIDs, Differs, "%d ext ids name more than one group: %s; the job will not touch them", len(dups), first(dups, 3))
		return
	}
	d.set(CheckExtIDs, OK, "%d ext ids, each naming one group", len(by))
}

// siblings: two children of one parent whose names are equal ignoring case
// and spaces.
func (d *run) siblings(cs *state.CurrentState) {
	type key struct {
		parent int64
		name   string
	}
	by := map[key][]int64{}
	for _, g := range cs.Groups {
		if g.ID != cs.RootID && g.Status != state.StatusDeleted {
			k := key{g.ParentID, normalize.Key(g.Name)}
			by[k] = append(by[k], g.ID)
		}
	}
	var clashes []string
	for k, ids := range by {
		if len(ids) > 1 {
			clashes = append(clashes, fmt.Sprintf("%q under %d (groups %s)", k.name, k.parent, joinIDs(ids)))
		}
	}
	if len(clashes) > 0 {
		slices.Sort(clashes)
		d.set(CheckSiblings, Differs, "%d sibling names clash (ignoring case and spaces): %s", len(clashes), first(clashes, 3))
		return
	}
	d.set(CheckSiblings, OK, "no two siblings share a name")
}

func (d *run) adoption(cs *state.CurrentState) {
	var ids []int64
	for _, g := range cs.Groups {
		if g.ID != cs.RootID && strings.TrimSpace(g.ExtID) == "" && g.Status != state.StatusDeleted {
			ids = append(ids, g.ID)
		}
	}
	if len(ids) == 0 {
		d.set(CheckAdoption, OK, "every group under the root has an ext id")
		return
	}
	d.set(CheckAdoption, OK, "%d group(s) without an ext id (adoption candidates: matched by name under their parent), e.g. %s", len(ids), joinIDs(ids[:min(5, len(ids))]))
}

// network: rate-limit headers, latency and clock skew, from every call made.
func (d *run) network() {
	var (
		lat       []time.Duration
		skews     []time.Duration
		rl        = map[string]string{}
		throttled int
	)
	for _, x := range d.tr.Exchanges() {
		if x.Status == 0 {
			continue
		}
		if strings.Contains(x.Path, "/v3/") {
			lat = append(lat, x.Duration)
		}
		if x.Status == http.StatusTooManyRequests {
			throttled++
		}
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"} {
			if v := x.ResponseHeader.Get(h); v != "" {
				rl[h] = v
			}
		}
		if date, err := http.ParseTime(x.ResponseHeader.Get("Date")); err == nil {
			mid := x.Start.Add(x.Duration/2 + d.clock)
			skews = append(skews, date.Sub(mid.Truncate(time.Second)))
		}
	}
	if len(rl) == 0 {
		d.set(CheckRateLimit, Unknown, "no rate-limit header seen%s: keep --rate within what your account allows", throttledNote(throttled))
	} else {
		var hs []string
		for _, h := range slices.Sorted(maps.Keys(rl)) {
			hs = append(hs, h+": "+rl[h])
		}
		d.set(CheckRateLimit, OK, "%s%s", strings.Join(hs, ", "), throttledNote(throttled))
	}
	if len(lat) == 0 {
		d.set(CheckLatency, Unknown, "no API call answered")
	} else {
		slices.Sort(lat)
		p50, p95 := quantile(lat, 0.50), quantile(lat, 0.95)
		conc := int(math.Ceil(d.opts.Rate * p95.Seconds()))
		conc = min(max(conc, 1), 64)
		d.set(CheckLatency, OK, "p50 %v, p95 %v over %d calls: at --rate %g, Little's law suggests --concurrency %d",
			p50.Round(time.Millisecond), p95.Round(time.Millisecond), len(lat), d.opts.Rate, conc)
	}
	if len(skews) == 0 {
		d.set(CheckClock, Unknown, "no Date header seen")
		return
	}
	slices.Sort(skews)
	skew := skews[len(skews)/2]
	abs := max(skew, -skew)
	switch {
	case abs <= 2*time.Second:
		d.set(CheckClock, OK, "the server's Date agrees with this clock (within the header's 1 s resolution)")
	case abs <= 2*time.Minute:
		d.set(CheckClock, OK, "this clock is %v off the server's Date; nothing the job does depends on it", skew.Round(time.Second))
	default:
		d.set(CheckClock, Unknown, "this clock is %v off the server's Date: logs and token expiries will not line up; fix the clock", skew.Round(time.Second))
	}
}

func throttledNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d answers were 429", n)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func joinIDs(ids []int64) string {
	s := slices.Clone(ids)
	slices.SortFunc(s, cmp.Compare)
	parts := make([]string, len(s))
	for i, id := range s {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}

func first(vs []string, n int) string {
	if len(vs) > n {
		return strings.Join(vs[:n], "; ") + fmt.Sprintf("; and %d more", len(vs)-n)
	}
	return strings.Join(vs, "; ")
}

// dataOf reads an envelope's data (or a bare body), and then its member key
// ("" for data itself).
func dataOf(body, key string) (json.RawMessage, bool) {
	var env map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &env) != nil {
		return nil, false
	}
	data := json.RawMessage(body)
	if v, ok := env["data"]; ok {
		data = v
	}
	if key == "" {
		return data, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}
