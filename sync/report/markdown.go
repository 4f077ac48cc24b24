package report

import (
	"bytes"
	"fmt"
	"github.com/convirza-sync/convirza-sync/sync/redact"
	"html"
	"io"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// DefaultMarkdownMaxBytes caps a Markdown report below GitHub's comment
// limit of 65,536 characters, with room for a bot's own header.
const DefaultMarkdownMaxBytes = 60 << 10

// markdownListCap is how many refused changes, and how many invalid rows,
// the Markdown report lists before it points to the JSON report.
const markdownListCap = 50

// MarkdownOptions tunes the Markdown report.
type MarkdownOptions struct {
	// MaxBytes caps the report's size. 0 means DefaultMarkdownMaxBytes; a
	// negative value means no cap. The head (title, warnings, summary and
	// gates) is always written; the lists and the changes fill what is left.
	MaxBytes int
	// JSONName is the JSON report that a capped report points to; "" means
	// "plan.json".
	JSONName string
}

// mdReserve is kept free for the closing tags and the "and N more" line.
const mdReserve = 512

// Markdown writes the plan for a pull request or a chat: a title, a warning
// for a blocking gate and for new users, a table of counts by kind and
// action, the gates, the refused changes and invalid rows, then one
// <details> section per top-level branch of the tree. Names are escaped, so
// a group named "<script>" or "a|b" prints as itself. The report stays
// under MaxBytes and says how many changes it left out.
func Markdown(w io.Writer, p *plan.Plan, o MarkdownOptions) error {
	if p == nil {
		return fmt.Errorf("write markdown report: no plan")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMarkdownMaxBytes
	}
	if o.JSONName == "" {
		o.JSONName = "plan.json"
	}
	r := &mdReport{o: o}
	r.render(p)
	if _, err := w.Write(r.out.Bytes()); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

type mdReport struct {
	o   MarkdownOptions
	out bytes.Buffer
	// stopped is set once a unit did not fit; nothing more is written.
	stopped bool
	shown   int // changes written
}

// fit writes a unit if it fits in the cap, and reports whether it did.
func (r *mdReport) fit(unit string) bool {
	if r.stopped {
		return false
	}
	if r.o.MaxBytes > 0 && r.out.Len()+len(unit)+mdReserve > r.o.MaxBytes {
		r.stopped = true
		return false
	}
	r.out.WriteString(unit)
	return true
}

func (r *mdReport) render(p *plan.Plan) {
	t := count(p.Changes)
	r.head(p, t)
	r.refused(p)
	r.invalid(p)
	r.changes(p)
	if omitted := t.total - r.shown; omitted > 0 {
		if !bytes.HasSuffix(r.out.Bytes(), []byte("\n\n")) {
			r.out.WriteString("\n")
		}
		fmt.Fprintf(&r.out, "… and %s — see the JSON report (%s)\n", Plural(omitted, "more change", "more changes"), mdEscape(r.o.JSONName))
	}
}

func (r *mdReport) head(p *plan.Plan, t tally) {
	b := &r.out
	a := p.Account
	root := a.RootName
	if root == "" {
		root = refLabel(plan.Ref{ID: a.RootID, ExtID: a.RootExtID})
	}
	fmt.Fprintf(b, "## Plan for %s%s\n\n", mdEscape(root), mdRefs(a.RootExtID, a.RootID, false))
	policy := string(p.Policy)
	if policy == "" {
		policy = string(plan.PolicyUpsert)
	}
	line := "Policy **" + mdEscape(policy) + "**"
	if p.UsersManaged {
		line += " · users managed"
	} else {
		line += " · users not managed"
	}
	if p.Forced {
		line += " · `--force`"
	}
	if a.APIURL != "" {
		line += " · " + codeSpan(redact.URLString(a.APIURL))
	}
	b.WriteString(line + "\n\n")
	if p.Digest != "" {
		b.WriteString("Plan digest " + codeSpan(p.Digest) + "\n\n")
	}

	for _, g := range p.BlockingGates() {
		fmt.Fprintf(b, "> [!CAUTION]\n> **Blocked by %s**: nothing will be written. %s", mdEscape(g.Name), mdEscape(gateNumbers(g)))
		if g.Message != "" {
			b.WriteString(": " + mdEscape(g.Message))
		}
		b.WriteString(".\n\n")
	}
	if t.newUsers > 0 {
		fmt.Fprintf(b, "> [!WARNING]\n> **%s** will be created: Convirza may email them.\n\n", Plural(t.newUsers, "new user", "new users"))
	}

	fmt.Fprintf(b, "### Summary: %s\n\n", Plural(t.total, "change", "changes"))
	if t.total == 0 {
		b.WriteString(mdEscape(noChanges(p)) + "\n\n")
	} else {
		acts := t.actions()
		b.WriteString("| kind |")
		for _, a := range acts {
			b.WriteString(" " + a.String() + " |")
		}
		b.WriteString(" total |\n| :--- |")
		for range acts {
			b.WriteString(" ---: |")
		}
		b.WriteString(" ---: |\n")
		for _, k := range t.kinds {
			n := t.kindTotal(k)
			if n == 0 && k != plan.KindGroup && k != plan.KindUser {
				continue
			}
			b.WriteString("| " + mdEscape(string(k)+"s") + " |")
			for _, a := range acts {
				b.WriteString(" " + num(t.byKind[k][a]) + " |")
			}
			b.WriteString(" " + num(n) + " |\n")
		}
		b.WriteString("| **total** |")
		for _, a := range acts {
			n := 0
			for _, k := range t.kinds {
				n += t.byKind[k][a]
			}
			b.WriteString(" " + num(n) + " |")
		}
		b.WriteString(" **" + num(t.total) + "** |\n\n")
	}
	extra := []string{"Unchanged: " + Plural(p.Unchanged.Groups, "group", "groups") + ", " + Plural(p.Unchanged.Users, "user", "users")}
	if len(p.Refused) > 0 {
		extra = append(extra, "refused: "+Plural(len(p.Refused), "change", "changes"))
	}
	if len(p.Invalid) > 0 {
		extra = append(extra, "skipped: "+Plural(len(p.Invalid), "invalid row", "invalid rows"))
	}
	b.WriteString(strings.Join(extra, " · ") + "\n\n")

	if len(p.Gates) > 0 {
		b.WriteString("### Gates\n\n| gate | status | count | allowed | limit | message |\n| :--- | :--- | ---: | ---: | :--- | :--- |\n")
		for _, g := range p.Gates {
			st := gateStatus(g)
			if st != "ok" {
				st = "**" + st + "**"
			}
			lim := g.Limit
			if lim == "" {
				lim = "off"
			}
			lim = mdEscape(lim)
			allowed := num(g.Allowed)
			if g.Allowed < 0 { // no limit applies
				allowed = "no limit"
			} else if g.Total > 0 {
				lim += " of " + num(g.Total)
			}
			msg := mdEscape(g.Message)
			if g.Tripped && g.Forced {
				msg = strings.TrimSpace(msg + " (passed with `--force`)")
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(g.Name), st, num(g.Count), allowed, lim, msg)
		}
		b.WriteString("\n")
	}
}

func (r *mdReport) refused(p *plan.Plan) {
	if len(p.Refused) == 0 || !r.fit(fmt.Sprintf("### Refused (%s)\n\nWanted by the policy, forbidden by a rule; not in this plan.\n\n", num(len(p.Refused)))) {
		return
	}
	for i := range p.Refused {
		if i == markdownListCap {
			r.fit(fmt.Sprintf("- … and %s — see the JSON report (%s)\n", Plural(len(p.Refused)-i, "more refused change", "more refused changes"), mdEscape(r.o.JSONName)))
			break
		}
		c := &p.Refused[i]
		line := "- `!` " + ActionWord(c.Action) + " " + mdEscape(string(c.Kind)) + " **" + mdEscape(changeName(c)) + "**" + mdChangeRefs(c)
		if c.Reason != "" {
			line += ": " + mdEscape(c.Reason)
		}
		if !r.fit(line + "\n") {
			return
		}
	}
	r.fit("\n")
}

func (r *mdReport) invalid(p *plan.Plan) {
	if len(p.Invalid) == 0 || !r.fit(fmt.Sprintf("### Invalid rows skipped (%s)\n\n", num(len(p.Invalid)))) {
		return
	}
	for i, pr := range p.Invalid {
		if i == markdownListCap {
			r.fit(fmt.Sprintf("- … and %s — see the JSON report (%s)\n", Plural(len(p.Invalid)-i, "more invalid row", "more invalid rows"), mdEscape(r.o.JSONName)))
			break
		}
		if !r.fit("- " + mdEscapeLead(pr.Error()) + "\n") {
			return
		}
	}
	r.fit("\n")
}

// section is one <details> block: a top-level branch, the root's own
// changes, or the changes outside the tree.
type section struct {
	title   string // HTML, escaped
	own     *treeNode
	branch  *treeNode
	outside []*plan.Change
}

func (r *mdReport) changes(p *plan.Plan) {
	if len(p.Changes) == 0 {
		return
	}
	m := build(p)
	var secs []section
	for _, t := range m.tops {
		if !t.node.Parent.IsZero() {
			// A node whose parent the tree lacks is a branch of its own.
			secs = append(secs, section{title: htmlName(t) + " under <code>" + htmlEscape(refLabel(t.node.Parent)) + "</code>", branch: t})
			continue
		}
		if len(t.groups)+len(t.users) > 0 {
			secs = append(secs, section{title: htmlName(t) + " (the root group)", own: t})
		}
		for _, c := range t.children {
			secs = append(secs, section{title: htmlName(c), branch: c})
		}
	}
	if len(m.outside) > 0 {
		secs = append(secs, section{title: "<b>Changes outside the tree</b>", outside: m.outside})
	}
	if !r.fit("### Changes\n\n") {
		return
	}
	for _, s := range secs {
		var cs []*plan.Change
		switch {
		case s.own != nil:
			cs = append(append(cs, s.own.groups...), s.own.users...)
		case s.branch != nil:
			cs = collect(s.branch, nil)
		default:
			cs = s.outside
		}
		if len(cs) == 0 {
			continue
		}
		sub := count(derefs(cs))
		var acts []string
		for _, a := range sub.actions() {
			n := 0
			for _, k := range sub.kinds {
				n += sub.byKind[k][a]
			}
			acts = append(acts, num(n)+" "+a.String())
		}
		open := fmt.Sprintf("<details><summary>%s · %s: %s</summary>\n\n", s.title, Plural(sub.total, "change", "changes"), strings.Join(acts, ", "))
		sw := &sectionWriter{r: r, pending: open}
		switch {
		case s.own != nil:
			for _, c := range s.own.groups {
				sw.unit(mdChange(c, 0, true), 1)
			}
			for _, c := range s.own.users {
				sw.unit(mdChange(c, 0, true), 1)
			}
		case s.branch != nil:
			sw.node(s.branch, 0)
		default:
			for _, c := range s.outside {
				sw.unit(mdChange(c, 0, true), 1)
			}
		}
		if sw.pending == "" {
			// The section was opened: close it, even when the cap stopped it.
			r.out.WriteString("\n</details>\n\n")
		}
		if r.stopped {
			return
		}
	}
}

// sectionWriter writes one <details> section, opening it with its first
// unit so that no empty section is left when the cap is reached.
type sectionWriter struct {
	r       *mdReport
	pending string
}

func (s *sectionWriter) unit(text string, changes int) bool {
	if s.r.stopped {
		return false
	}
	if !s.r.fit(s.pending + text) {
		return false
	}
	s.pending = ""
	s.r.shown += changes
	return true
}

func (s *sectionWriter) node(t *treeNode, depth int) bool {
	ind := strings.Repeat("  ", depth)
	head := "**" + mdEscape(t.name()) + "**" + mdRefs(t.node.Ref.ExtID, t.node.Ref.ID, t.node.Ref.ID == 0 && hasCreate(t))
	switch len(t.groups) {
	case 0:
		if !s.unit(ind+"- "+head+"\n", 0) {
			return false
		}
	case 1:
		c := t.groups[0]
		if !s.unit(ind+"- `"+Marker(c.Action)+"` "+head+" · "+mdInfo(c)+"\n"+mdFields(c, depth+1), 1) {
			return false
		}
	default:
		if !s.unit(ind+"- `"+Marker(t.groups[0].Action)+"` "+head+" · "+Plural(len(t.groups), "change", "changes")+"\n", 0) {
			return false
		}
		for _, c := range t.groups {
			if !s.unit(mdChange(c, depth+1, false), 1) {
				return false
			}
		}
	}
	for _, c := range t.users {
		if !s.unit(mdChange(c, depth+1, true), 1) {
			return false
		}
	}
	for _, ch := range t.children {
		if !s.node(ch, depth+1) {
			return false
		}
	}
	if t.node.Folded > 0 {
		return s.unit(ind+"  - *… "+Plural(t.node.Folded, "unchanged group", "unchanged groups")+"*\n", 0)
	}
	return true
}

func hasCreate(t *treeNode) bool {
	for _, c := range t.groups {
		if c.Action == plan.Create {
			return true
		}
	}
	return false
}

// collect lists a subtree's changes in drawing order.
func collect(t *treeNode, out []*plan.Change) []*plan.Change {
	out = append(out, t.groups...)
	out = append(out, t.users...)
	for _, c := range t.children {
		out = collect(c, out)
	}
	return out
}

func derefs(cs []*plan.Change) []plan.Change {
	out := make([]plan.Change, len(cs))
	for i, c := range cs {
		out[i] = *c
	}
	return out
}

// mdChange renders one change as a list item with its fields below.
// withName names the object (users, changes outside the tree); a step of a
// group's several changes shows only its action.
func mdChange(c *plan.Change, depth int, withName bool) string {
	s := strings.Repeat("  ", depth) + "- `" + Marker(c.Action) + "` "
	if withName {
		kind := ""
		if c.Kind == plan.KindUser {
			kind = "user "
		} else if c.Kind != "" {
			kind = mdEscape(string(c.Kind)) + " "
		}
		s += kind + "**" + mdEscape(changeName(c)) + "**" + mdChangeRefs(c) + " · "
	}
	return s + mdInfo(c) + "\n" + mdFields(c, depth+1)
}

func mdInfo(c *plan.Change) string {
	s := ActionWord(c.Action)
	if c.Action == plan.NoOp {
		s = "no-op"
	}
	if c.Source != nil {
		if src := c.Source.String(); src != "" {
			s += " · " + mdEscape(src)
		}
	}
	if c.Reason != "" {
		s += " · " + mdEscape(c.Reason)
	}
	if c.NewUser {
		s += " · **" + newUserNote + "**"
	}
	return s
}

func mdFields(c *plan.Change, depth int) string {
	var b strings.Builder
	ind := strings.Repeat("  ", depth)
	for _, f := range c.Fields {
		p := parts(c, f)
		b.WriteString(ind + "- " + codeSpan(p.Field) + ": ")
		if !p.Create {
			b.WriteString(`"` + mdEscape(p.Before) + `" → `)
		}
		b.WriteString(`"` + mdEscape(p.After) + `"` + "\n")
	}
	return b.String()
}

// mdRefs renders " (`east`, id 1001)".
func mdRefs(ext string, id int64, isNew bool) string {
	var out []string
	if ext != "" {
		out = append(out, codeSpan(ext))
	}
	switch {
	case id != 0:
		out = append(out, "id "+itoa64(id))
	case isNew:
		out = append(out, "new")
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, ", ") + ")"
}

func mdChangeRefs(c *plan.Change) string {
	var out []string
	if c.Key != "" && !strings.EqualFold(c.Key, changeName(c)) {
		out = append(out, codeSpan(c.Key))
	}
	if c.ObjectID != 0 && c.Kind != plan.KindUser {
		out = append(out, "id "+itoa64(c.ObjectID))
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, ", ") + ")"
}

// htmlName renders a node's name and ext id for a <summary>, where
// Markdown is not read: HTML-escaped, "@" too, so no one is mentioned.
func htmlName(t *treeNode) string {
	s := "<b>" + htmlEscape(t.name()) + "</b>"
	if t.node.Ref.ExtID != "" && t.node.Ref.ExtID != t.name() {
		s += " (<code>" + htmlEscape(t.node.Ref.ExtID) + "</code>)"
	}
	return s
}

func htmlEscape(s string) string {
	return strings.ReplaceAll(html.EscapeString(clean(s)), "@", "&#64;")
}

// mdEscape makes text print as itself inside a line of Markdown: HTML is
// entity-escaped, and the characters that start emphasis, links, code,
// tables, strike-through, math, issue links and mentions are
// backslash-escaped. An "@" inside a word (an email) is left alone.
func mdEscape(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	prev := ' '
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '@':
			if !wordRune(prev) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
		prev = c
	}
	return b.String()
}

// mdEscapeLead is mdEscape for text that starts a list item, where a
// leading "-", "+", "=" or "1." would start a block of its own.
func mdEscapeLead(s string) string {
	e := mdEscape(s)
	if e == "" {
		return e
	}
	switch e[0] {
	case '-', '+', '=':
		return "\\" + e
	}
	if i := strings.IndexAny(e, ".)"); i > 0 && allDigits(e[:i]) {
		return e[:i] + "\\" + e[i:]
	}
	return e
}

func wordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '+' || r > 0x7f
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// codeSpan renders s as inline code, with a fence longer than any run of
// backticks inside it.
func codeSpan(s string) string {
	s = clean(s)
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
