package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

var (
	foldCounts = regexp.MustCompile(`(?:⋯ [\d,]+ changes? \(([^)]*)\) below|… and .* with [\d,]+ changes? \(([^)]*)\))`)
	foldOwn    = regexp.MustCompile(`  (create|update|adopt|move|rename|delete|deactivate|reactivate)( ·|  ⋯|$)`)
	foldPart   = regexp.MustCompile(`([\d,]+) ([a-z]+)`)
)

// foldedActions adds up, by action, the changes a folded text accounts for:
// those drawn on their own line and those counted under a folded branch.
func foldedActions(t *testing.T, text string) map[string]int {
	t.Helper()
	got := map[string]int{}
	tree, _, _ := strings.Cut(text, "\nSummary:")
	for _, l := range strings.Split(tree, "\n") {
		if m := foldOwn.FindStringSubmatch(l); m != nil {
			got[m[1]]++
		}
		for _, m := range foldCounts.FindAllStringSubmatch(l, -1) {
			for _, part := range foldPart.FindAllStringSubmatch(m[1]+m[2], -1) {
				n, err := strconv.Atoi(strings.ReplaceAll(part[1], ",", ""))
				if err != nil {
					t.Fatal(err)
				}
				got[part[2]] += n
			}
		}
	}
	return got
}

// A plan too long for a terminal folds into per-branch counts that account
// for every change, in at most MaxLines lines, and says where the whole
// plan is.
func TestTextFoldsHugePlans(t *testing.T) {
	for _, n := range []int{2_000, 50_000} {
		for _, max := range []int{100, 400} {
			t.Run(fmt.Sprintf("%d changes in %d lines", n, max), func(t *testing.T) {
				p := bigPlan(n)
				var b bytes.Buffer
				if err := Text(&b, p, TextOptions{MaxLines: max}); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if lines := strings.Count(out, "\n"); lines > max {
					t.Errorf("%d lines, want at most %d", lines, max)
				}
				if !strings.Contains(out, "--report plan.txt") || !strings.Contains(out, "Summary: "+num(n)+" changes") {
					t.Errorf("no hint or summary:\n%s", clip(out))
				}
				want := map[string]int{}
				for _, c := range p.Changes {
					want[c.Action.String()]++
				}
				if diff := cmp.Diff(want, foldedActions(t, out)); diff != "" {
					t.Errorf("changes accounted for (-want +got):\n%s\n%s", diff, clip(out))
				}
			})
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "\n[…]"
	}
	return s
}

// A plan that fits is drawn exactly as without MaxLines, and a report file
// (no MaxLines) is always whole.
func TestTextFoldOnlyWhenTooLong(t *testing.T) {
	for name, p := range map[string]*plan.Plan{"rich": richPlan(), "no tree": noTreePlan(), "big": bigPlan(300)} {
		var full, capped bytes.Buffer
		if err := Text(&full, p, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Text(&capped, p, TextOptions{MaxLines: 10_000}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(full.String(), capped.String()); diff != "" {
			t.Errorf("%s: folded though it fits (-full +capped):\n%s", name, diff)
		}
	}
	var b bytes.Buffer
	if err := Text(&b, bigPlan(20_000), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "folded") || strings.Count(b.String(), "\n") < 20_000 {
		t.Errorf("the whole plan is folded: %d lines", strings.Count(b.String(), "\n"))
	}
}

// Thousands of invalid rows and no change: the folded text counts them by
// kind, and never says that Convirza matches the export.
func TestTextFoldsInvalidRows(t *testing.T) {
	p := &plan.Plan{Version: plan.Version, Account: plan.Account{RootID: 1, RootName: "Root"}, Policy: plan.PolicyUpsert}
	for i := range 2_000 {
		msg, col := `not a US ZIP code: "ABCDE"`, "zip"
		if i%2 == 1 {
			msg, col = "missing org_unit_name", "org_unit_name"
		}
		p.Invalid = append(p.Invalid, state.Problem{Source: state.Source{File: "groups.csv", Line: i + 2}, Kind: "group", Column: col, Severity: state.SeverityError, Message: msg})
	}
	var b bytes.Buffer
	if err := Text(&b, p, TextOptions{MaxLines: 400}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"No changes for the valid rows, but 2,000 invalid rows were skipped: Convirza does not match the whole export.",
		`  1,000 × group column "zip": not a US ZIP code: "…" (first: groups.csv:2)`,
		`  1,000 × group column "org_unit_name": missing org_unit_name (first: groups.csv:3)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, clip(out))
		}
	}
	if strings.Contains(out, "already matches") || strings.Count(out, "\n") > 400 {
		t.Errorf("%d lines:\n%s", strings.Count(out, "\n"), clip(out))
	}
}
