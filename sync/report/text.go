package report

import (
	"fmt"
	"github.com/convirza-sync/convirza-sync/sync/redact"
	"io"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// TextOptions tunes the text report.
type TextOptions struct {
	// Color turns on ANSI colours. The caller decides (the command line
	// asks whether stdout is a terminal); a report written to a file has
	// none.
	Color bool
	// MaxLines, when above 0, folds a plan whose text would take more
	// lines: the tree shows one line per group with the counts of the
	// changes below it, opened breadth first while the lines allow; the
	// long lists show their first entries and counts; the end says how to
	// get the whole plan. The command line sets it for stdout only: a
	// report written to a file is always complete.
	MaxLines int
}

// The ANSI styles of the text report.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiBoldRed = "\x1b[1;31m"
	ansiBoldYel = "\x1b[1;33m"
)

// The tree's connectors.
const (
	connMid  = "├── "
	connLast = "└── "
	padMid   = "│   "
	padLast  = "    "
)

// newUserNote makes a user create stand out: Convirza may email the person.
const newUserNote = "NEW USER: Convirza may email them"

// Text writes the plan as a tree of the affected part of the hierarchy,
// then the refused changes, the skipped invalid rows, a summary of counts
// and every gate. It reads only the plan; the same plan and options always
// give the same bytes.
func Text(w io.Writer, p *plan.Plan, o TextOptions) error {
	if p == nil {
		return fmt.Errorf("write text report: no plan")
	}
	r := &textReport{ew: newErrWriter(w), color: o.Color, maxLines: o.MaxLines}
	r.render(p)
	if err := r.ew.flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

type textReport struct {
	ew       *errWriter
	color    bool
	maxLines int
}

// paint wraps s in an ANSI style when colours are on.
func (r *textReport) paint(style, s string) string {
	if !r.color || style == "" || s == "" {
		return s
	}
	return style + s + ansiReset
}

func actionStyle(a plan.Action) string {
	switch Marker(a) {
	case "+":
		return ansiGreen
	case "~":
		return ansiYellow
	case "→":
		return ansiCyan
	case "-":
		return ansiRed
	case "=":
		return ansiMagenta
	}
	return ""
}

func (r *textReport) marker(a plan.Action) string { return r.paint(actionStyle(a), Marker(a)) }

// info is the tail of a change's line: its action, the export row, the
// reason, and the new-user note.
func (r *textReport) info(c *plan.Change) string {
	s := r.paint(actionStyle(c.Action), ActionWord(c.Action))
	if c.Action == plan.NoOp {
		s = "no-op"
	}
	if c.Source != nil {
		if src := c.Source.String(); src != "" {
			s += " · " + clean(src)
		}
	}
	if c.Reason != "" {
		s += " · " + clean(c.Reason)
	}
	if c.NewUser {
		s += " · " + r.paint(ansiBoldYel, newUserNote)
	}
	return s
}

func (r *textReport) render(p *plan.Plan) {
	r.header(p)
	m := build(p)
	if len(p.Changes) == 0 {
		r.ew.str("\n", noChanges(p), "\n")
	}
	folded := r.maxLines > 0 && textLines(p, m, r.maxLines) > r.maxLines
	if folded {
		if len(m.tops) > 0 && len(p.Changes) > 0 {
			r.foldedTree(m, max(r.maxLines-foldReserve(p, m), 10))
		}
		r.foldedLists(p, m)
		r.summary(p)
		r.gates(p)
		r.ew.str("\n", r.paint(ansiBold, "The plan is folded to fit a terminal: the whole plan, every change with its fields and every skipped row, is in a report file: --report plan.txt (or .md, .html, .json, .csv)."), "\n")
		return
	}
	if len(m.tops) > 0 && len(p.Changes) > 0 {
		r.ew.str("\n")
		for _, t := range m.tops {
			r.node(t, "", "", true)
		}
	}
	if len(m.outside) > 0 {
		r.ew.str("\nChanges outside the tree (", num(len(m.outside)), "):\n")
		for _, c := range m.outside {
			r.change(c, "  ", "  ", true)
		}
	}
	if len(p.Refused) > 0 {
		r.ew.str("\nRefused (", num(len(p.Refused)), "): wanted by the policy, forbidden by a rule; not in this plan\n")
		for i := range p.Refused {
			c := &p.Refused[i]
			line := "  " + r.paint(ansiBoldRed, "!") + " " + ActionWord(c.Action) + " " + string(c.Kind) + " " + clean(changeName(c))
			if refs := changeRefs(c); refs != "" {
				line += "  (" + refs + ")"
			}
			if c.Reason != "" {
				line += ": " + clean(c.Reason)
			}
			r.ew.str(line, "\n")
		}
	}
	if len(p.Invalid) > 0 {
		r.ew.str("\nInvalid rows skipped (", num(len(p.Invalid)), "):\n")
		for _, pr := range p.Invalid {
			r.ew.str("  ", clean(pr.Error()), "\n")
		}
	}
	r.summary(p)
	r.gates(p)
}

func (r *textReport) header(p *plan.Plan) {
	a := p.Account
	root := a.RootName
	if root == "" {
		root = refLabel(plan.Ref{ID: a.RootID, ExtID: a.RootExtID})
	}
	var refs []string
	if a.RootExtID != "" && a.RootExtID != root {
		refs = append(refs, clean(a.RootExtID))
	}
	if a.RootID != 0 {
		refs = append(refs, "id "+itoa64(a.RootID))
	}
	line := "Plan for " + r.paint(ansiBold, clean(root))
	if len(refs) > 0 {
		line += " (" + strings.Join(refs, " · ") + ")"
	}
	policy := string(p.Policy)
	if policy == "" {
		policy = string(plan.PolicyUpsert)
	}
	line += " · policy " + clean(policy)
	if p.UsersManaged {
		line += " · users managed"
	} else {
		line += " · users not managed"
	}
	if p.Forced {
		line += " · --force"
	}
	r.ew.str(line, "\n")
	if a.APIURL != "" {
		r.ew.str(r.paint(ansiDim, clean(redact.URLString(a.APIURL))), "\n")
	}
	if p.Digest != "" {
		r.ew.str(r.paint(ansiDim, "digest "+clean(p.Digest)), "\n")
	}
}

// nodeHead is a group's line in the text tree, before its marker and
// details: its name, its refs, and, for a top node not under the root,
// where it sits.
func nodeHead(t *treeNode, top bool) string {
	head := clean(t.name())
	if refs := t.refs(); len(refs) > 0 {
		head += "  (" + strings.Join(refs, " · ") + ")"
	}
	if top && t.parent == nil && !t.node.Parent.IsZero() {
		head += "  under " + clean(refLabel(t.node.Parent))
	}
	return head
}

// node draws one group and its items. lead is written before the node's
// own line; pad starts every line below it.
func (r *textReport) node(t *treeNode, lead, pad string, top bool) {
	hasItems := len(t.users) > 0 || len(t.children) > 0 || t.node.Folded > 0
	// Detail lines sit under the group's name, beside the line that
	// leads down to its items.
	bar := "  "
	if hasItems {
		bar = "│ "
	}
	head := nodeHead(t, top)
	switch len(t.groups) {
	case 0:
		r.ew.str(lead, head, "\n")
	case 1:
		c := t.groups[0]
		r.ew.str(lead, r.marker(c.Action), " ", head, "  ", r.info(c), "\n")
		r.fields(c, pad+bar)
	default:
		r.ew.str(lead, r.marker(t.groups[0].Action), " ", head, "  ", Plural(len(t.groups), "change", "changes"), "\n")
		for _, c := range t.groups {
			r.ew.str(pad, bar, r.marker(c.Action), " ", r.info(c), "\n")
			r.fields(c, pad+bar+"  ")
		}
	}

	items := len(t.users) + len(t.children)
	if t.node.Folded > 0 {
		items++
	}
	i := 0
	next := func() (string, string) {
		i++
		if i == items {
			return pad + connLast, pad + padLast
		}
		return pad + connMid, pad + padMid
	}
	for _, c := range t.users {
		l, p := next()
		r.change(c, l, p, false)
	}
	for _, ch := range t.children {
		l, p := next()
		r.node(ch, l, p, false)
	}
	if t.node.Folded > 0 {
		l, _ := next()
		r.ew.str(l, r.paint(ansiDim, "… "+Plural(t.node.Folded, "unchanged group", "unchanged groups")), "\n")
	}
}

// change draws a change that is an item of its own (a user, or a change
// outside the tree), and its fields.
func (r *textReport) change(c *plan.Change, lead, pad string, withKind bool) {
	kind := string(c.Kind)
	if c.Kind == plan.KindUser || withKind {
		kind += " "
	} else {
		kind = ""
	}
	line := r.marker(c.Action) + " " + kind + clean(changeName(c))
	if refs := changeRefs(c); refs != "" {
		line += "  (" + refs + ")"
	}
	r.ew.str(lead, line, "  ", r.info(c), "\n")
	r.fields(c, pad+"  ")
}

// changeRefs names a change's key when its name does not, and its id.
func changeRefs(c *plan.Change) string {
	var out []string
	if c.Key != "" && !strings.EqualFold(c.Key, changeName(c)) {
		out = append(out, clean(c.Key))
	}
	if c.ObjectID != 0 && c.Kind != plan.KindUser {
		out = append(out, "id "+itoa64(c.ObjectID))
	}
	return strings.Join(out, " · ")
}

func (r *textReport) fields(c *plan.Change, pad string) {
	for _, f := range c.Fields {
		r.ew.str(pad, fieldLine(c, f), "\n")
	}
}

func (r *textReport) summary(p *plan.Plan) {
	t := count(p.Changes)
	r.ew.str("\n", r.paint(ansiBold, "Summary: "+Plural(t.total, "change", "changes")), "\n")
	for _, k := range t.kinds {
		n := t.kindTotal(k)
		if n == 0 && k != plan.KindGroup && k != plan.KindUser {
			continue
		}
		label := string(k) + "s"
		r.ew.str(fmt.Sprintf("  %-10s %s\n", label, t.line(k)))
	}
	if t.newUsers > 0 {
		r.ew.str("  ", r.paint(ansiBoldYel, fmt.Sprintf("%-10s %s will be created: Convirza may email them", "new users", num(t.newUsers))), "\n")
	}
	r.ew.str(fmt.Sprintf("  %-10s %s, %s\n", "unchanged", Plural(p.Unchanged.Groups, "group", "groups"), Plural(p.Unchanged.Users, "user", "users")))
	if len(p.Refused) > 0 {
		r.ew.str(fmt.Sprintf("  %-10s %s\n", "refused", Plural(len(p.Refused), "change", "changes")))
	}
	if len(p.Invalid) > 0 {
		r.ew.str(fmt.Sprintf("  %-10s %s\n", "skipped", Plural(len(p.Invalid), "invalid row", "invalid rows")))
	}
}

func (r *textReport) gates(p *plan.Plan) {
	if len(p.Gates) > 0 {
		r.ew.str("\n", r.paint(ansiBold, "Gates:"), "\n")
		width := 0
		for _, g := range p.Gates {
			width = max(width, len(clean(g.Name)))
		}
		for _, g := range p.Gates {
			st := gateStatus(g)
			style := ""
			switch st {
			case "TRIPPED":
				style = ansiBoldRed
			case "FORCED":
				style = ansiYellow
			}
			line := "  " + r.paint(style, fmt.Sprintf("%-7s", st)) + "  " + fmt.Sprintf("%-*s", width, clean(g.Name)) + "  " + gateNumbers(g)
			if g.Message != "" {
				line += ": " + clean(g.Message)
			}
			if st == "FORCED" {
				line += " (passed with --force)"
			}
			r.ew.str(line, "\n")
		}
	}
	if names := trippedNames(p); len(names) > 0 {
		hint := "Review the plan; --force passes the gate."
		if slices.Contains(names, "max-invalid") {
			hint = "Fix the invalid rows, or allow them with --max-invalid; --force does not pass that gate."
		}
		r.ew.str("\n", r.paint(ansiBoldRed, "Blocked by "+strings.Join(names, ", ")+": nothing will be written. "+hint), "\n")
	}
}
