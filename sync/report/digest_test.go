package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// TestReportsShowDigest: every plan report shows the plan's digest, so
// that the plan someone reviewed can be approved by it (apply --approve);
// a plan without one shows none.
func TestReportsShowDigest(t *testing.T) {
	p := richPlan()
	if err := plan.Seal(p, []byte("a plan key of enough bytes")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plan.txt", "plan.md", "plan.json", "plan.csv", "plan.html"} {
		t.Run(name, func(t *testing.T) {
			render, err := ByExtensionWith(name, HTMLOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := render(&b, p); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(b.String(), p.Digest); n < 1 {
				t.Errorf("the %s report does not show the digest %s", name, p.Digest)
			}
			var none bytes.Buffer
			if err := render(&none, richPlan()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(none.String(), "sha256:") {
				t.Errorf("the %s report of a plan without a digest shows one", name)
			}
		})
	}
	var b bytes.Buffer
	if err := ResultsHTML(&b, p, plan.PlannedResults(p), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), p.Digest) {
		t.Error("the HTML results report does not show the plan's digest")
	}
}

// TestPlanCSVDigestComment: the digest is one comment line before the
// header; a CSV reader that skips comments reads the same rows as without
// it.
func TestPlanCSVDigestComment(t *testing.T) {
	read := func(p *plan.Plan) (string, [][]string) {
		var b bytes.Buffer
		if err := PlanCSV(&b, p); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(b.String(), "\n")
		r := csv.NewReader(&b)
		r.Comment = '#'
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return first, recs
	}
	sealed := richPlan()
	if err := plan.Seal(sealed, nil); err != nil {
		t.Fatal(err)
	}
	first, got := read(sealed)
	if want := "# plan digest " + sealed.Digest; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	firstPlain, want := read(richPlan())
	if !strings.HasPrefix(firstPlain, "line,kind,key,action,outcome,convirza_id,http_status,message,request_id,fields") {
		t.Errorf("a plan without a digest starts with %q, want the header", firstPlain)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the rows differ with the comment (-without +with):\n%s", diff)
	}
	// A digest that is not one (a hand-made plan) stays one comment line.
	var b bytes.Buffer
	if err := PlanCSV(&b, &plan.Plan{Digest: "sha256:a\nb,c"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "# plan digest sha256:ab,c\nline,kind,key,action,outcome,convirza_id,http_status,message,request_id,fields\n"; got != want {
		t.Errorf("PlanCSV = %q, want %q", got, want)
	}
}
