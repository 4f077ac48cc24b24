package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"github.com/convirza-sync/convirza-sync/sync/redact"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// DefaultHTMLMaxTreeChanges is how many changes the HTML report draws in
// its tree before it folds the remaining branches to their counts. A page
// of 10,000 drawn changes stays well under 10 MB and opens in about a
// second in Chromium (BenchmarkHTML and BenchmarkHTMLChromiumLoad measure it).
const DefaultHTMLMaxTreeChanges = 10000

// htmlListCap caps the refused changes and the invalid rows listed, and the
// rows of the results table, failures first.
const htmlListCap = 20000

// htmlOpenAll is the size up to which every branch of the tree is open when
// the page loads; a bigger plan opens the root only.
const htmlOpenAll = 500

// HTMLOptions tunes the HTML report.
type HTMLOptions struct {
	// Generated is when the report was made, shown in its header; the zero
	// time leaves it out (a renderer does not read the clock).
	Generated time.Time
	// Digest is the plan's digest, shown in the header; "" shows the
	// plan's own (Plan.Digest), if it has one.
	Digest string
	// MaxTreeChanges caps the changes drawn in the tree: 0 means
	// DefaultHTMLMaxTreeChanges, a negative value no cap. Past the cap the
	// remaining branches are folded to their counts, and the page says so.
	MaxTreeChanges int
}

//go:embed html/report.tmpl html/report.css html/report.js
var htmlFiles embed.FS

var (
	htmlTmpl   *template.Template
	htmlCSS    template.CSS
	htmlJS     template.JS
	htmlPolicy string // the Content-Security-Policy: the inline style and script by hash, nothing else
)

func init() {
	css, err := htmlFiles.ReadFile("html/report.css")
	if err != nil {
		panic(err) // embedded: cannot fail once built
	}
	js, err := htmlFiles.ReadFile("html/report.js")
	if err != nil {
		panic(err)
	}
	htmlCSS, htmlJS = template.CSS(css), template.JS(js) // our own files, not data
	hash := func(b []byte) string {
		s := sha256.Sum256(b)
		return "'sha256-" + base64.StdEncoding.EncodeToString(s[:]) + "'"
	}
	htmlPolicy = "default-src 'none'; style-src " + hash(css) + "; script-src " + hash(js) +
		"; img-src 'none'; connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'"
	htmlTmpl = template.Must(template.New("report.tmpl").Funcs(template.FuncMap{"plural": Plural, "num": num}).ParseFS(htmlFiles, "html/report.tmpl"))
}

// HTML writes the plan as one self-contained page: a header with the
// account, the policy and the gates, a summary table and bar chart, the
// hierarchy as nested <details> (complete with JavaScript off), the refused
// changes and the invalid rows. Inline JavaScript adds filters by action,
// kind and text. Every value is escaped by html/template, and a
// Content-Security-Policy forbids everything but the page's own style and
// script: the page makes no network request.
func HTML(w io.Writer, p *plan.Plan, o HTMLOptions) error {
	if p == nil {
		return fmt.Errorf("write html report: no plan")
	}
	return renderHTML(w, newHTMLPage(p, nil, o))
}

// ResultsHTML writes apply's results as the same page as HTML, with each
// change's outcome in the tree and a table of outcomes, failures first,
// with the HTTP status and the request id to give support.
func ResultsHTML(w io.Writer, p *plan.Plan, rs []plan.Result, o HTMLOptions) error {
	if p == nil {
		return fmt.Errorf("write html results report: no plan")
	}
	if rs == nil {
		rs = []plan.Result{}
	}
	return renderHTML(w, newHTMLPage(p, rs, o))
}

func renderHTML(w io.Writer, pg *htmlPage) error {
	ew := newErrWriter(w)
	if err := htmlTmpl.Execute(ew.w, pg); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if err := ew.flush(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlFailure is the HTML report of a run that stopped before it had a
// plan: the page says why, escaped, under the same policy.
func htmlFailure(w io.Writer, msg string) error {
	ew := newErrWriter(w)
	data := struct {
		CSP     string
		CSS     template.CSS
		Message string
	}{htmlPolicy, htmlCSS, cleanLines(msg)}
	if err := htmlTmpl.ExecuteTemplate(ew.w, "failure", data); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return ew.flush()
}

// htmlPage is everything the template shows, already resolved to text.
type htmlPage struct {
	CSP   string
	CSS   template.CSS
	JS    template.JS
	Title string

	Root, RootRefs, Policy, APIURL, Generated, Digest string
	UsersManaged, Forced                              bool

	Gates    []htmlGate
	Blocked  []htmlGate
	NewUsers int

	Total     int
	Actions   []string // column heads of the summary
	Rows      []htmlRow
	TotalsRow htmlRow
	Bars      []htmlBar
	BarsH     int
	Unchanged plan.Counts
	Extra     string
	NoChanges string // the line of a plan without changes

	Tree         []*htmlNode
	Outside      []*htmlChange
	OutsideActs  string
	Drawn        int
	Degraded     string
	Refused      []*htmlChange
	RefusedCut   int
	RefusedTotal int
	Invalid      []htmlInvalidKind
	FilterActs   []string
	FilterKinds  []string

	Results     bool
	Outcomes    []htmlCount
	ResultRows  []*htmlResult
	ResultsCut  int
	ResultTotal int
}

type htmlGate struct {
	Name, Status, Numbers, Message string
	Tripped, Forced                bool
}

type htmlRow struct {
	Kind  string
	Cells []string
	Total string
}

type htmlBar struct {
	Action, Label string
	Y, W, TX, TY  int
}

type htmlCount struct {
	Name  string
	N     int
	Class string
}

type htmlNode struct {
	Name    string
	Refs    string
	Marker  string // of the group's first own change
	Act     string
	Own     []*htmlChange
	Kids    []htmlKid
	Folded  int
	Count   int
	Acts    string
	Open    bool
	Cut     int // changes here and below that are not drawn
	CutKids int // groups below that are not drawn
}

// htmlKid is a child branch, or a run of leaf groups: a group with one
// change and nothing below it is drawn as that change alone, which keeps a
// big page small (no <details> of its own).
type htmlKid struct {
	Node   *htmlNode
	Leaves []*htmlChange
}

type htmlChange struct {
	ID                      int
	Marker, Act, Word, Kind string
	Name, Refs              string
	Source, Reason          string
	NewUser, Refused        bool
	AllNew                  bool // every field is a value a create sends: one line
	Fields                  []fieldParts
	Result                  *htmlResult
}

type htmlResult struct {
	Change                                  int
	Outcome, Class, Action, Kind, Key, Name string
	Line, HTTP                              string
	Message, RequestID                      string
	Anchor                                  bool
}

type htmlInvalidKind struct {
	Kind string
	Rows []htmlInvalid
	Cut  int
}

type htmlInvalid struct{ Where, Column, Key, Message string }

// actionClass is the CSS class of an action's colour and marker.
func actionClass(a plan.Action) string {
	if a == plan.NoOp {
		return "noop"
	}
	return a.String()
}

func newHTMLPage(p *plan.Plan, rs []plan.Result, o HTMLOptions) *htmlPage {
	pg := &htmlPage{CSP: htmlPolicy, CSS: htmlCSS, JS: htmlJS, Results: rs != nil}
	a := p.Account
	root := a.RootName
	if root == "" {
		root = refLabel(plan.Ref{ID: a.RootID, ExtID: a.RootExtID})
	}
	pg.Root = clean(root)
	var refs []string
	if a.RootExtID != "" && a.RootExtID != root {
		refs = append(refs, clean(a.RootExtID))
	}
	if a.RootID != 0 {
		refs = append(refs, "id "+itoa64(a.RootID))
	}
	pg.RootRefs = strings.Join(refs, " · ")
	pg.Title = "Plan for " + pg.Root
	if pg.Results {
		pg.Title = "Results for " + pg.Root
	}
	pg.Policy = clean(string(p.Policy))
	if pg.Policy == "" {
		pg.Policy = string(plan.PolicyUpsert)
	}
	pg.UsersManaged, pg.Forced = p.UsersManaged, p.Forced
	if a.APIURL != "" {
		pg.APIURL = clean(redact.URLString(a.APIURL))
	}
	if !o.Generated.IsZero() {
		pg.Generated = o.Generated.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	pg.Digest = clean(o.Digest)
	if pg.Digest == "" {
		pg.Digest = clean(p.Digest)
	}

	for _, g := range p.Gates {
		hg := htmlGate{Name: clean(g.Name), Status: gateStatus(g), Numbers: gateNumbers(g), Message: clean(g.Message), Tripped: g.Tripped, Forced: g.Forced}
		pg.Gates = append(pg.Gates, hg)
		if g.Tripped && !g.Forced {
			pg.Blocked = append(pg.Blocked, hg)
		}
	}

	t := count(p.Changes)
	pg.Total, pg.NewUsers, pg.Unchanged = t.total, t.newUsers, p.Unchanged
	acts := t.actions()
	for _, ac := range acts {
		pg.Actions = append(pg.Actions, ac.String())
	}
	totals := htmlRow{Kind: "total", Total: num(t.total)}
	most := 0
	for _, ac := range acts {
		n := 0
		for _, k := range t.kinds {
			n += t.byKind[k][ac]
		}
		totals.Cells = append(totals.Cells, num(n))
		most = max(most, n)
	}
	for _, k := range t.kinds {
		n := t.kindTotal(k)
		if n == 0 && k != plan.KindGroup && k != plan.KindUser {
			continue
		}
		row := htmlRow{Kind: clean(string(k)) + "s", Total: num(n)}
		for _, ac := range acts {
			row.Cells = append(row.Cells, num(t.byKind[k][ac]))
		}
		pg.Rows = append(pg.Rows, row)
	}
	pg.TotalsRow = totals
	const barMax, barStep = 300, 20
	for i, ac := range acts {
		n := 0
		for _, k := range t.kinds {
			n += t.byKind[k][ac]
		}
		w := 1
		if most > 0 {
			w = max(1, n*barMax/most)
		}
		pg.Bars = append(pg.Bars, htmlBar{Action: ac.String(), Label: num(n) + " " + ac.String(), Y: i*barStep + 2, W: w, TX: w + 6, TY: i*barStep + 15})
	}
	pg.BarsH = len(acts)*barStep + 4
	extra := []string{"Unchanged: " + Plural(p.Unchanged.Groups, "group", "groups") + ", " + Plural(p.Unchanged.Users, "user", "users")}
	if len(p.Refused) > 0 {
		extra = append(extra, "refused: "+Plural(len(p.Refused), "change", "changes"))
	}
	if len(p.Invalid) > 0 {
		extra = append(extra, "skipped: "+Plural(len(p.Invalid), "invalid row", "invalid rows"))
	}
	pg.Extra = strings.Join(extra, " · ")
	pg.NoChanges = noChanges(p)

	var byChange map[int]*htmlResult
	if pg.Results {
		byChange = pg.results(p, rs)
	}

	b := &htmlBuilder{left: o.MaxTreeChanges, byChange: byChange, openAll: t.total <= htmlOpenAll}
	if b.left == 0 {
		b.left = DefaultHTMLMaxTreeChanges
	} else if b.left < 0 {
		b.left = t.total + 1
	}
	b.tallies = map[*treeNode]*[plan.Reactivate + 1]int{}
	m := build(p)
	for _, top := range m.tops {
		pg.Tree = append(pg.Tree, b.node(top, 0))
	}
	if len(m.outside) > 0 {
		var tl [plan.Reactivate + 1]int
		for _, c := range m.outside {
			if c.Action >= 0 && c.Action <= plan.Reactivate {
				tl[c.Action]++
			}
			if b.left > 0 {
				b.left--
				b.drawn++
				pg.Outside = append(pg.Outside, b.change(c, false))
			} else {
				b.cut++
			}
		}
		pg.OutsideActs = actsLine(&tl)
	}
	pg.Drawn = b.drawn
	if b.cut > 0 {
		pg.Degraded = fmt.Sprintf("This plan has %s; to keep this page quick to open, the tree draws the first %s and folds the other branches to their counts (%s not drawn). The filters and the search cover the drawn changes only; the JSON or text report lists every change.",
			Plural(t.total, "change", "changes"), num(b.drawn), Plural(b.cut, "change is", "changes are"))
	}

	pg.RefusedTotal = len(p.Refused)
	for i := range p.Refused {
		if i == htmlListCap {
			pg.RefusedCut = len(p.Refused) - i
			break
		}
		pg.Refused = append(pg.Refused, b.change(&p.Refused[i], true))
	}
	kindAt := map[string]int{}
	for _, pr := range p.Invalid {
		k := clean(pr.Kind)
		if k == "" {
			k = "other"
		}
		i, ok := kindAt[k]
		if !ok {
			i = len(pg.Invalid)
			kindAt[k] = i
			pg.Invalid = append(pg.Invalid, htmlInvalidKind{Kind: k})
		}
		ik := &pg.Invalid[i]
		if len(ik.Rows) >= htmlListCap {
			ik.Cut++
			continue
		}
		ik.Rows = append(ik.Rows, htmlInvalid{Where: clean(pr.Source.String()), Column: clean(pr.Column), Key: clean(pr.Key), Message: clean(pr.Message)})
	}

	for _, ac := range acts {
		pg.FilterActs = append(pg.FilterActs, ac.String())
	}
	if len(p.Refused) > 0 {
		pg.FilterActs = append(pg.FilterActs, "refused")
	}
	for _, k := range t.kinds {
		if t.kindTotal(k) > 0 {
			pg.FilterKinds = append(pg.FilterKinds, clean(string(k)))
		}
	}
	return pg
}

// outcomeRank orders the results table: the changes not made first
// (failed, blocked, refused, skipped), then planned, then done.
func outcomeRank(o plan.Outcome) int {
	switch o {
	case plan.OutcomeFailed:
		return 0
	case plan.OutcomeBlocked:
		return 1
	case plan.OutcomeRefused:
		return 2
	case plan.OutcomeSkipped:
		return 3
	case plan.OutcomePlanned:
		return 4
	}
	return lastOutcomeRank
}

// lastOutcomeRank is the rank of a done outcome, the last.
const lastOutcomeRank = 5

func outcomeClass(o plan.Outcome) string {
	switch o {
	case plan.OutcomeFailed, plan.OutcomeBlocked, plan.OutcomeSkipped, plan.OutcomePlanned:
		return string(o)
	}
	if o.Done() {
		return "done"
	}
	return "other"
}

// results fills the outcome counts and table, and returns each change's
// result by change id.
func (pg *htmlPage) results(p *plan.Plan, rs []plan.Result) map[int]*htmlResult {
	names := make(map[int]string, len(p.Changes))
	for i := range p.Changes {
		names[p.Changes[i].ID] = changeName(&p.Changes[i])
	}
	counts := map[plan.Outcome]int{}
	var order []plan.Outcome
	byChange := make(map[int]*htmlResult, len(rs))
	all := make([]*htmlResult, len(rs))
	idx := make([]int, len(rs))
	for i, r := range rs {
		if counts[r.Outcome] == 0 {
			order = append(order, r.Outcome)
		}
		counts[r.Outcome]++
		hr := &htmlResult{Change: r.Change, Outcome: clean(string(r.Outcome)), Class: outcomeClass(r.Outcome), Kind: clean(string(r.Kind)),
			Key: clean(r.Key), Message: clean(r.Message), RequestID: clean(r.RequestID)}
		if r.Action != plan.NoOp {
			hr.Action = r.Action.String()
		}
		if r.Line > 0 {
			hr.Line = strconv.Itoa(r.Line)
		}
		if r.HTTPStatus != 0 {
			hr.HTTP = strconv.Itoa(r.HTTPStatus)
		}
		if n, ok := names[r.Change]; ok && r.Change != 0 {
			hr.Name = clean(n)
			byChange[r.Change] = hr
		}
		all[i] = hr
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return outcomeRank(rs[idx[i]].Outcome) < outcomeRank(rs[idx[j]].Outcome) })
	sort.SliceStable(order, func(i, j int) bool { return outcomeRank(order[i]) < outcomeRank(order[j]) })
	for _, o := range order {
		pg.Outcomes = append(pg.Outcomes, htmlCount{Name: clean(string(o)), N: counts[o], Class: outcomeClass(o)})
	}
	pg.ResultTotal = len(rs)
	for n, i := range idx {
		if n == htmlListCap {
			pg.ResultsCut = len(idx) - n
			break
		}
		pg.ResultRows = append(pg.ResultRows, all[i])
	}
	return byChange
}

// htmlBuilder draws the tree within a budget of changes.
type htmlBuilder struct {
	left, drawn, cut int
	openAll          bool
	byChange         map[int]*htmlResult
	tallies          map[*treeNode]*[plan.Reactivate + 1]int
}

// tally counts a subtree's changes by action, once per node.
func (b *htmlBuilder) tally(t *treeNode) *[plan.Reactivate + 1]int {
	if tl, ok := b.tallies[t]; ok {
		return tl
	}
	tl := new([plan.Reactivate + 1]int)
	for _, cs := range [][]*plan.Change{t.groups, t.users} {
		for _, c := range cs {
			if c.Action >= 0 && c.Action <= plan.Reactivate {
				tl[c.Action]++
			}
		}
	}
	for _, k := range t.children {
		for i, n := range b.tally(k) {
			tl[i] += n
		}
	}
	b.tallies[t] = tl
	return tl
}

// actsLine renders "1 update, 2 create".
func actsLine(tl *[plan.Reactivate + 1]int) string {
	var parts []string
	for a := plan.Create; a <= plan.Reactivate; a++ {
		if tl[a] > 0 {
			parts = append(parts, num(tl[a])+" "+a.String())
		}
	}
	return strings.Join(parts, ", ")
}

func countTree(t *treeNode) int {
	n := 1
	for _, k := range t.children {
		n += countTree(k)
	}
	return n
}

func (b *htmlBuilder) node(t *treeNode, depth int) *htmlNode {
	tl := b.tally(t)
	n := &htmlNode{Name: clean(t.name()), Refs: strings.Join(t.refs(), " · "), Folded: t.node.Folded, Acts: actsLine(tl)}
	for _, v := range tl {
		n.Count += v
	}
	if !t.node.Parent.IsZero() && depth == 0 {
		n.Refs = strings.TrimPrefix(n.Refs+" · under "+clean(refLabel(t.node.Parent)), " · ")
	}
	if len(t.groups) > 0 {
		n.Marker, n.Act = Marker(t.groups[0].Action), actionClass(t.groups[0].Action)
	}
	n.Open = depth == 0 || b.openAll
	if b.left <= 0 {
		n.Cut = n.Count
		n.CutKids = countTree(t) - 1
		b.cut += n.Count
		return n
	}
	for _, cs := range [][]*plan.Change{t.groups, t.users} {
		for _, c := range cs {
			if b.left <= 0 {
				n.Cut++
				b.cut++
				continue
			}
			b.left--
			b.drawn++
			n.Own = append(n.Own, b.change(c, false))
		}
	}
	for _, k := range t.children {
		if len(k.groups) == 1 && len(k.users) == 0 && len(k.children) == 0 && k.node.Folded == 0 && b.left > 0 {
			b.left--
			b.drawn++
			c := b.change(k.groups[0], false)
			if last := len(n.Kids) - 1; last >= 0 && n.Kids[last].Node == nil {
				n.Kids[last].Leaves = append(n.Kids[last].Leaves, c)
			} else {
				n.Kids = append(n.Kids, htmlKid{Leaves: []*htmlChange{c}})
			}
			continue
		}
		n.Kids = append(n.Kids, htmlKid{Node: b.node(k, depth+1)})
	}
	return n
}

// change resolves one change, or one refused change.
func (b *htmlBuilder) change(c *plan.Change, refused bool) *htmlChange {
	h := &htmlChange{ID: c.ID, Marker: Marker(c.Action), Act: actionClass(c.Action), Word: ActionWord(c.Action),
		Kind: clean(string(c.Kind)), Reason: clean(c.Reason), NewUser: c.NewUser, Refused: refused}
	if c.Action == plan.NoOp {
		h.Word = "no-op"
	}
	if refused {
		h.Marker, h.Act = "!", "refused"
	}
	h.Name = clean(changeName(c))
	var refs []string
	if c.Key != "" && !strings.EqualFold(c.Key, changeName(c)) {
		refs = append(refs, clean(c.Key))
	}
	if c.ObjectID != 0 {
		refs = append(refs, "id "+itoa64(c.ObjectID))
	}
	h.Refs = strings.Join(refs, " · ")
	if c.Source != nil {
		h.Source = clean(c.Source.String())
	}
	for _, f := range c.Fields {
		fp := parts(c, f)
		fp.Field, fp.Before, fp.After = clean(fp.Field), quote(fp.Before), quote(fp.After)
		h.Fields = append(h.Fields, fp)
	}
	h.AllNew = len(h.Fields) > 0
	for _, f := range h.Fields {
		h.AllNew = h.AllNew && f.Create
	}
	if b.byChange != nil && !refused {
		if r, ok := b.byChange[c.ID]; ok {
			r.Anchor = true
			h.Result = r
		}
	}
	return h
}
