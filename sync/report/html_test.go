package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// xssName is a group name that runs script if a report pastes it as HTML.
const xssName = `<img src=x onerror=alert(1)>`

// htmlPlan is the rich plan plus a group whose name is an XSS attempt in
// an attribute-borne form (the rich plan's <script> name is the other).
func htmlPlan() *plan.Plan {
	p := richPlan()
	ref := plan.Ref{ExtID: "xss-2", Name: xssName}
	p.Tree = append(p.Tree, plan.Node{Ref: ref, Parent: refRoot})
	p.Changes = append(p.Changes, plan.Change{ID: 17, Action: plan.Create, Kind: plan.KindGroup, Key: "xss-2", Name: xssName,
		Parent: refRoot, Source: src("groups.csv", 11),
		Fields: []plan.FieldChange{
			{Field: plan.FieldName, After: xssName},
			{Field: plan.FieldExtID, After: "xss-2"},
			{Field: plan.FieldParent, After: "1000", AfterLabel: "acme"},
		}})
	p.Gates[1].Count = 17
	return p
}

func htmlOptions() HTMLOptions {
	return HTMLOptions{Generated: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), Digest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
}

func TestHTMLGolden(t *testing.T) {
	tests := []struct {
		name   string
		render func(io.Writer) error
	}{
		{"rich.html", func(w io.Writer) error { return HTML(w, htmlPlan(), htmlOptions()) }},
		{"rich.results.html", func(w io.Writer) error { return ResultsHTML(w, htmlPlan(), richResults(), htmlOptions()) }},
		{"empty.html", func(w io.Writer) error { return HTML(w, emptyPlan(), HTMLOptions{}) }},
		{"notree.html", func(w io.Writer) error { return HTML(w, noTreePlan(), HTMLOptions{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first, second bytes.Buffer
			if err := tt.render(&first); err != nil {
				t.Fatalf("render: %v", err)
			}
			if err := tt.render(&second); err != nil {
				t.Fatalf("render again: %v", err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Fatalf("two renders of the same value differ:\n%s", cmp.Diff(first.String(), second.String()))
			}
			golden(t, tt.name, first.Bytes())
		})
	}
}

// TestHTMLEscapesEverything checks that no value of the plan reaches the
// page as markup, and that the page names nothing outside itself.
func TestHTMLEscapesEverything(t *testing.T) {
	var b bytes.Buffer
	if err := ResultsHTML(&b, htmlPlan(), richResults(), htmlOptions()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{xssName, "<img", "<script>alert"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the escaped name %q", want)
		}
	}
	// Only two elements may hold code: our one style and one script.
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script> elements, want 1", n)
	}
	if n := strings.Count(page, "<style"); n != 1 {
		t.Errorf("%d <style> elements, want 1", n)
	}
	// Nothing to load: no src, no link, no url(), no @import, and every
	// href is an anchor within the page.
	for _, re := range []string{`<[^>]*\ssrc=`, `<[^>]*\son[a-z]+=`, `<link`, `url\(`, `@import`, `href="[^#]`, `style="`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the page holds %q: it would load something, or need unsafe-inline", m)
		}
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no Content-Security-Policy <meta>")
	}
	policy := html.UnescapeString(csp[1])
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'none'", "img-src 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("the policy %q lacks %q", policy, want)
		}
	}
	if strings.Contains(policy, "unsafe") {
		t.Errorf("the policy %q allows unsafe code", policy)
	}
}

// TestHTMLRedactsAPIURL checks the header never prints credentials a URL
// might carry.
func TestHTMLRedactsAPIURL(t *testing.T) {
	p := emptyPlan()
	p.Account.APIURL = "https://bot:s3cret@platform-api.convirza.com/v3"
	var b bytes.Buffer
	if err := HTML(&b, p, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "s3cret") || strings.Contains(b.String(), "bot:") {
		t.Error("the page prints the API URL's user information")
	}
	if !strings.Contains(b.String(), "https://platform-api.convirza.com/v3") {
		t.Error("the page lacks the API URL")
	}
}

// TestHTMLDegrades checks that a plan past the cap draws exactly the cap,
// folds the rest to counts and says so; under the cap nothing is folded.
func TestHTMLDegrades(t *testing.T) {
	tests := []struct {
		name      string
		changes   int
		max       int
		wantDrawn int
		degraded  bool
	}{
		{"under the cap", 1000, 0, 1000, false},
		{"at the cap", 2000, 2000, 2000, false},
		{"past the cap", 5000, 2000, 2000, true},
		{"no cap", 5000, -1, 5000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := HTML(&b, bigPlan(tt.changes), HTMLOptions{MaxTreeChanges: tt.max}); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			got := struct {
				Drawn    int
				Degraded bool
			}{strings.Count(page, `<li class="c `), strings.Contains(page, `id="degraded"`)}
			want := struct {
				Drawn    int
				Degraded bool
			}{tt.wantDrawn, tt.degraded}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.degraded && !strings.Contains(page, num(tt.changes-tt.wantDrawn)+" changes are not drawn") {
				t.Error("the page does not say how many changes it left out")
			}
		})
	}
}

// TestHTMLResultsFailuresFirst checks the outcome table's order.
func TestHTMLResultsFailuresFirst(t *testing.T) {
	var b bytes.Buffer
	if err := ResultsHTML(&b, htmlPlan(), richResults(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	start := strings.Index(page, `<table class="res">`)
	if start < 0 {
		t.Fatal("no results table")
	}
	table := page[start : start+strings.Index(page[start:], "</table>")]
	var got []string
	for _, m := range regexp.MustCompile(`<tr class="(\w+)"><td>`).FindAllStringSubmatch(table, -1) {
		got = append(got, m[1])
	}
	want := []string{"failed", "failed", "blocked", "skipped", "done", "done", "done"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result rows (-want +got):\n%s", diff)
	}
	for _, id := range []string{"req-7f3a", "req-0006"} {
		if !strings.Contains(b.String(), id) {
			t.Errorf("request id %s missing", id)
		}
	}
}

// TestFailuresFirst: every change not made (failed, blocked, refused,
// skipped) comes before the planned and done ones, each in apply's order.
func TestFailuresFirst(t *testing.T) {
	var rs []plan.Result
	for i, o := range []plan.Outcome{plan.OutcomeCreated, plan.OutcomeRefused, plan.OutcomeDeleted, plan.OutcomeSkipped,
		plan.OutcomeFailed, plan.OutcomePlanned, plan.OutcomeBlocked, plan.OutcomeRefused} {
		rs = append(rs, plan.Result{Change: i + 1, Outcome: o})
	}
	var got []string
	for _, r := range failuresFirst(rs) {
		got = append(got, fmt.Sprintf("%d %s", r.Change, r.Outcome))
	}
	want := []string{"5 failed", "7 blocked", "2 refused", "8 refused", "4 skipped", "6 planned", "1 created", "3 deleted"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failuresFirst (-want +got):\n%s", diff)
	}
}

func TestResultsByExtension(t *testing.T) {
	tests := []struct{ path, golden string }{
		{"out/results.txt", "results.txt"},
		{"results.md", "results.md"},
		{"results.json", "results.json"},
		{"RESULTS.CSV", "results.csv"},
		{"results.html", "rich.results.html"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			render, err := ResultsByExtension(tt.path, htmlOptions())
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := render(&b, htmlPlan(), richResults()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, b.Bytes())
		})
	}
	for _, path := range []string{"results.pdf", "results", "results.yaml"} {
		if _, err := ResultsByExtension(path, HTMLOptions{}); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ResultsByExtension(%q): err = %v, want ErrUnknownFormat", path, err)
		}
	}
}

func TestHTMLNoPlan(t *testing.T) {
	if err := HTML(io.Discard, nil, HTMLOptions{}); err == nil {
		t.Error("HTML of no plan: no error")
	}
	if err := HTML(failWriter{}, richPlan(), HTMLOptions{}); err == nil {
		t.Error("HTML onto a failing writer: no error")
	}
}

// BenchmarkHTML renders the HTML report at 10,000 and 100,000 changes and
// reports the page's size.
func BenchmarkHTML(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(num(n), func(b *testing.B) {
			p := bigPlan(n)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				var buf bytes.Buffer
				if err := HTML(&buf, p, HTMLOptions{}); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}
