package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func TestGateNumbers(t *testing.T) {
	tests := []struct {
		g    plan.Gate
		want string
	}{
		{plan.Gate{Name: "max-changes", Limit: "off", Count: 55, Total: 23, Allowed: -1}, "55, no limit"},
		{plan.Gate{Name: "max-deletes", Limit: "10%", Count: 2, Total: 23, Allowed: 2}, "2 ≤ 2 allowed (limit 10% of 23)"},
		{plan.Gate{Name: "max-deletes", Limit: "1", Count: 3, Allowed: 1, Tripped: true}, "3 > 1 allowed (limit 1)"},
	}
	for _, tt := range tests {
		if got := gateNumbers(tt.g); got != tt.want {
			t.Errorf("gateNumbers(%+v) = %q, want %q", tt.g, got, tt.want)
		}
	}
}

// --force does not pass max-invalid, and the footer must not say it does.
func TestBlockedFooterForMaxInvalid(t *testing.T) {
	p := &plan.Plan{Version: plan.Version, Gates: []plan.Gate{{Name: "max-invalid", Limit: "0", Count: 2, Allowed: 0, Tripped: true, Message: "2 invalid rows"}}}
	var b bytes.Buffer
	if err := Text(&b, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "--force passes") || !strings.Contains(out, "--force does not pass that gate") {
		t.Errorf("footer of a max-invalid block:\n%s", out)
	}
}

func TestMarkdownGateWithoutLimit(t *testing.T) {
	p := &plan.Plan{Version: plan.Version, Gates: []plan.Gate{{Name: "max-changes", Limit: "off", Count: 55, Total: 23, Allowed: -1, Message: "no limit"}}}
	var b bytes.Buffer
	if err := Markdown(&b, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "| max-changes | ok | 55 | no limit | off |") || strings.Contains(out, "-1") {
		t.Errorf("gate row:\n%s", out)
	}
}
