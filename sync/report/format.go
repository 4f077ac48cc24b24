package report

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// Marker returns the one-character class of an action in the text and
// Markdown reports (see the package comment).
func Marker(a plan.Action) string {
	switch a {
	case plan.Create, plan.Reactivate:
		return "+"
	case plan.Update, plan.Rename:
		return "~"
	case plan.Move:
		return "→"
	case plan.Delete, plan.Deactivate:
		return "-"
	case plan.Adopt:
		return "="
	}
	return "?"
}

// ActionWord is the action's name as the reports, the results and the
// metrics print it; NoOp (an invalid row that was skipped) has none.
func ActionWord(a plan.Action) string {
	if a == plan.NoOp {
		return ""
	}
	return a.String()
}

// clean makes a name safe to print on a terminal: control characters,
// bidirectional overrides and invalid UTF-8 are shown escaped, so a group
// name cannot move the cursor, recolour the report or reorder its text.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsGraphic(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case strconv.IsGraphic(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRuneToGraphic(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// quote renders a field value: double-quoted, with anything unprintable
// escaped.
func quote(s string) string { return strconv.QuoteToGraphic(s) }

// num renders a count with thousands separators: 10,000.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Plural renders "1 group" or "212 groups".
func Plural(n int, one, many string) string {
	if n == 1 {
		return num(n) + " " + one
	}
	return num(n) + " " + many
}

// fieldParts is one field change ready to print: Before is empty and
// Create true for a value a create sends.
type fieldParts struct {
	Field, Before, After string
	Create               bool
}

// parts resolves a field change for people: labels win over ids, and a
// parent that the plan creates (After "") is named by the change's Parent.
func parts(c *plan.Change, f plan.FieldChange) fieldParts {
	p := fieldParts{Field: f.Field, Before: f.Before, After: f.After}
	if f.BeforeLabel != "" {
		p.Before = f.BeforeLabel
	}
	if f.AfterLabel != "" {
		p.After = f.AfterLabel
	}
	parentish := f.Field == plan.FieldParent || f.Field == plan.FieldUserGroup
	if parentish && p.After == "" && !c.Parent.IsZero() {
		p.After = refLabel(c.Parent)
	}
	if parentish && p.Before == "" && c.FromParent != nil && !c.FromParent.IsZero() {
		p.Before = refLabel(*c.FromParent)
	}
	p.Create = c.Action == plan.Create && p.Before == ""
	return p
}

// fieldLine renders a field change as `city: "Boston" → "Cambridge"`, or
// `city: "Boston"` for a value a create sends.
func fieldLine(c *plan.Change, f plan.FieldChange) string {
	p := parts(c, f)
	if p.Create {
		return clean(p.Field) + ": " + quote(p.After)
	}
	return clean(p.Field) + ": " + quote(p.Before) + " → " + quote(p.After)
}

// refLabel names a group by its ext id, else its id, else its name.
func refLabel(r plan.Ref) string {
	if s := r.String(); s != "" {
		return s
	}
	return r.Name
}

// changeName is what people call the object of a change.
func changeName(c *plan.Change) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Key != "":
		return c.Key
	case c.ObjectID != 0:
		return "id:" + strconv.FormatInt(c.ObjectID, 10)
	}
	return "(unnamed)"
}

// tally counts changes by kind and action.
type tally struct {
	byKind   map[plan.Kind]*[plan.Reactivate + 1]int
	kinds    []plan.Kind // in order: group, user, then others as met
	total    int
	newUsers int
}

func count(cs []plan.Change) tally {
	t := tally{byKind: map[plan.Kind]*[plan.Reactivate + 1]int{}, kinds: []plan.Kind{plan.KindGroup, plan.KindUser}}
	t.byKind[plan.KindGroup] = new([plan.Reactivate + 1]int)
	t.byKind[plan.KindUser] = new([plan.Reactivate + 1]int)
	for i := range cs {
		c := &cs[i]
		row, ok := t.byKind[c.Kind]
		if !ok {
			row = new([plan.Reactivate + 1]int)
			t.byKind[c.Kind] = row
			t.kinds = append(t.kinds, c.Kind)
		}
		if c.Action >= 0 && c.Action <= plan.Reactivate {
			row[c.Action]++
		}
		t.total++
		if c.NewUser {
			t.newUsers++
		}
	}
	return t
}

// actions lists the actions with a count in any kind, in enum order.
func (t tally) actions() []plan.Action {
	var out []plan.Action
	for a := plan.Create; a <= plan.Reactivate; a++ {
		for _, k := range t.kinds {
			if t.byKind[k][a] > 0 {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// line renders one kind's counts: "2 create, 1 update".
func (t tally) line(k plan.Kind) string {
	var parts []string
	row := t.byKind[k]
	for a := plan.Create; a <= plan.Reactivate; a++ {
		if row[a] > 0 {
			parts = append(parts, num(row[a])+" "+a.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// kindTotal sums one kind's changes.
func (t tally) kindTotal(k plan.Kind) int {
	n := 0
	for _, v := range t.byKind[k] {
		n += v
	}
	return n
}

// gateNumbers states a gate with its numbers: "2 > 1 allowed (limit 10% of 14)".
func gateNumbers(g plan.Gate) string {
	if g.Allowed < 0 { // the gate has no limit (off, or a percentage below its base)
		return num(g.Count) + ", no limit"
	}
	op := "≤"
	if g.Count > g.Allowed {
		op = ">"
	}
	s := num(g.Count) + " " + op + " " + num(g.Allowed) + " allowed"
	lim := g.Limit
	if lim == "" {
		lim = "off"
	}
	s += " (limit " + clean(lim)
	if g.Total > 0 {
		s += " of " + num(g.Total)
	}
	return s + ")"
}

// gateStatus is "ok", "TRIPPED" or "FORCED".
func gateStatus(g plan.Gate) string {
	switch {
	case g.Tripped && g.Forced:
		return "FORCED"
	case g.Tripped:
		return "TRIPPED"
	}
	return "ok"
}

// trippedNames lists the gates that block the plan.
func trippedNames(p *plan.Plan) []string {
	var out []string
	for _, g := range p.BlockingGates() {
		out = append(out, clean(g.Name))
	}
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// noChanges is the line of a plan without changes: Convirza matches the
// export, or only its valid rows when invalid ones were skipped.
func noChanges(p *plan.Plan) string {
	if len(p.Invalid) > 0 {
		return "No changes for the valid rows, but " + Plural(len(p.Invalid), "invalid row was", "invalid rows were") + " skipped: Convirza does not match the whole export."
	}
	return "No changes: Convirza already matches the export."
}
