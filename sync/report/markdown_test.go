package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// changeItems counts the Markdown list items that are one change each: a
// marker code span, then a name (steps of a multi-change group aside,
// which the big plan does not have).
var changeItem = regexp.MustCompile("(?m)^ *- `[^`!]+` (user )?\\*\\*")

func TestMarkdown10kUnderCap(t *testing.T) {
	p := bigPlan(10000)
	if len(p.Changes) != 10000 {
		t.Fatalf("fixture has %d changes, want 10000", len(p.Changes))
	}

	var full bytes.Buffer
	if err := Markdown(&full, p, MarkdownOptions{MaxBytes: -1}); err != nil {
		t.Fatal(err)
	}
	if got := len(changeItem.FindAllString(full.String(), -1)); got != 10000 {
		t.Fatalf("uncapped report lists %d changes, want 10000", got)
	}

	var b bytes.Buffer
	if err := Markdown(&b, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if b.Len() > DefaultMarkdownMaxBytes {
		t.Errorf("report is %d bytes, over the cap of %d", b.Len(), DefaultMarkdownMaxBytes)
	}
	if n := len([]rune(out)); n > 65536 {
		t.Errorf("report is %d characters, over GitHub's comment limit", n)
	}
	shown := len(changeItem.FindAllString(out, -1))
	if shown == 0 || shown >= 10000 {
		t.Fatalf("capped report lists %d changes, want some but not all", shown)
	}
	m := regexp.MustCompile(`… and ([0-9,]+) more changes — see the JSON report \(plan\.json\)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("capped report does not end with the pointer to the JSON report:\n…%s", out[len(out)-300:])
	}
	more, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	if shown+more != 10000 {
		t.Errorf("report shows %d changes and says %d more, want a sum of 10000", shown, more)
	}
	if o, c := strings.Count(out, "<details>"), strings.Count(out, "</details>"); o != c {
		t.Errorf("%d <details> opened, %d closed", o, c)
	}
	for _, want := range []string{"| groups |", "| users |", "**10,000**", "new users"} {
		if !strings.Contains(out, want) {
			t.Errorf("capped report lacks its head %q", want)
		}
	}
}

func TestMarkdownListsCapped(t *testing.T) {
	p := emptyPlan()
	for i := range 120 {
		p.Invalid = append(p.Invalid, invalidRow(i))
	}
	var b bytes.Buffer
	if err := Markdown(&b, p, MarkdownOptions{JSONName: "x.json"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if got := strings.Count(out, "- groups.csv:"); got != markdownListCap {
		t.Errorf("lists %d invalid rows, want %d", got, markdownListCap)
	}
	if !strings.Contains(out, "- … and 70 more invalid rows — see the JSON report (x.json)\n") {
		t.Errorf("no pointer to the rest of the invalid rows:\n%s", out)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, richPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", "</script>", "**a|b"} {
		if strings.Contains(out, bad) {
			t.Errorf("report holds unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>", // in a <summary>
		"**&lt;script&gt;alert(1)&lt;/script&gt;**",    // in a list item
		`**a\|b \*Partners\***`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestMDEscape(t *testing.T) {
	tests := []struct {
		in, want, lead string
	}{
		{"Back Bay", "Back Bay", "Back Bay"},
		{"<script>", "&lt;script&gt;", "&lt;script&gt;"},
		{"a|b", `a\|b`, `a\|b`},
		{"*bold* _it_ ~s~", `\*bold\* \_it\_ \~s\~`, `\*bold\* \_it\_ \~s\~`},
		{"[x](http://e)", `\[x\](http://e)`, `\[x\](http://e)`},
		{"`code`", "\\`code\\`", "\\`code\\`"},
		{"R&D #12 $5", `R&amp;D \#12 \$5`, `R&amp;D \#12 \$5`},
		{"@team and jane@x.com", `\@team and jane@x.com`, `\@team and jane@x.com`},
		{"- item", "- item", `\- item`},
		{"+1", "+1", `\+1`},
		{"12. x", "12. x", `12\. x`},
		{"a\x1b[31mb\u202e", `a\\x1b\[31mb\\u202e`, `a\\x1b\[31mb\\u202e`}, // shown, not run
	}
	for _, tt := range tests {
		if got := mdEscape(tt.in); got != tt.want {
			t.Errorf("mdEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := mdEscapeLead(tt.in); got != tt.lead {
			t.Errorf("mdEscapeLead(%q) = %q, want %q", tt.in, got, tt.lead)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	tests := []struct{ in, want string }{
		{"city", "`city`"},
		{"a`b", "`` a`b ``"},
		{"``", "``` `` ```"},
	}
	for _, tt := range tests {
		if got := codeSpan(tt.in); got != tt.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownSummaryTable(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, richPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "| groups |") || strings.HasPrefix(l, "| users |") || strings.HasPrefix(l, "| **total** |") {
			rows = append(rows, l)
		}
	}
	want := []string{
		"| groups | 2 | 2 | 1 | 1 | 3 | 1 | 0 | 0 | 10 |",
		"| users | 2 | 2 | 0 | 0 | 0 | 0 | 1 | 1 | 6 |",
		"| **total** | 4 | 4 | 1 | 1 | 3 | 1 | 1 | 1 | **16** |",
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("summary table (-want +got):\n%s", diff)
	}
}

func invalidRow(i int) (p state.Problem) {
	p.Source.File = "groups.csv"
	p.Source.Line = i + 2
	p.Kind = "group"
	p.Key = fmt.Sprintf("bad-%d", i)
	p.Message = "missing org_unit_name"
	return p
}
