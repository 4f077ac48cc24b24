package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func TestTextShowsEveryChangeOnce(t *testing.T) {
	for name, p := range map[string]*plan.Plan{"tree": richPlan(), "no tree": noTreePlan()} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			// Every change's action word appears once per change on a marked
			// line (a group with several changes lists one line per step).
			got := map[string]int{}
			for _, l := range strings.Split(b.String(), "\n") {
				for _, a := range []plan.Action{plan.Create, plan.Update, plan.Adopt, plan.Move, plan.Rename, plan.Delete, plan.Deactivate, plan.Reactivate} {
					if strings.Contains(l, "  "+a.String()+" ·") || strings.HasSuffix(l, "  "+a.String()) ||
						strings.Contains(l, Marker(a)+" "+a.String()+" ·") || strings.HasSuffix(l, Marker(a)+" "+a.String()) {
						got[a.String()]++
					}
				}
			}
			want := map[string]int{}
			for _, c := range p.Changes {
				want[c.Action.String()]++
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("changes drawn by action (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTextNewUsersStandOut(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, richPlan(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"+ user jane@example.com  create · users.csv:2 · NEW USER: Convirza may email them",
		"+ user sam@example.com  create · users.csv:3 · NEW USER: Convirza may email them",
		"new users  2 will be created: Convirza may email them",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestTextCleansNames(t *testing.T) {
	p := richPlan()
	p.Tree[2].Ref.Name = "evil\x1b[2J\u202eName\xff"
	p.Changes[10].Fields[0].After = "+1\x1b[31m"
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := Text(&b, p, TextOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\u202e") || strings.Contains(out, "\x1b[31m\"") {
			t.Errorf("color %v: a name's control characters reached the terminal", color)
		}
		if !strings.Contains(out, `evil\x1b[2J\u202eName\xff`) {
			t.Errorf("color %v: the name is not shown escaped:\n%s", color, out)
		}
		if !color && strings.Contains(out, "\x1b") {
			t.Error("an uncoloured report holds an escape character")
		}
	}
}

func TestTextTreeCycle(t *testing.T) {
	// A malformed plan file: a and b name each other as parent.
	a := plan.Ref{ID: 2, ExtID: "a", Name: "A"}
	b := plan.Ref{ID: 3, ExtID: "b", Name: "B"}
	p := &plan.Plan{
		Version: plan.Version,
		Changes: []plan.Change{
			{ID: 1, Action: plan.Update, Kind: plan.KindGroup, Key: "a", ObjectID: 2, Name: "A"},
			{ID: 2, Action: plan.Update, Kind: plan.KindGroup, Key: "b", ObjectID: 3, Name: "B"},
		},
		Tree: []plan.Node{{Ref: plan.Ref{ID: 1, ExtID: "root"}}, {Ref: a, Parent: b}, {Ref: b, Parent: a}},
	}
	var out bytes.Buffer
	if err := Text(&out, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"~ A  (a · id 2)", "~ B  (b · id 3)"} {
		if n := strings.Count(out.String(), name); n != 1 {
			t.Errorf("%q drawn %d times, want once:\n%s", name, n, out.String())
		}
	}
	var md bytes.Buffer
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(md.String(), "· update"); n != 2 {
		t.Errorf("markdown draws %d updates, want 2:\n%s", n, md.String())
	}
}

type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestRenderErrors(t *testing.T) {
	renders := map[string]func(p *plan.Plan) error{
		"text":     func(p *plan.Plan) error { return Text(failWriter{}, p, TextOptions{}) },
		"markdown": func(p *plan.Plan) error { return Markdown(failWriter{}, p, MarkdownOptions{}) },
		"json":     func(p *plan.Plan) error { return JSON(failWriter{}, p) },
		"plan csv": func(p *plan.Plan) error { return PlanCSV(failWriter{}, p) },
		"results":  func(p *plan.Plan) error { return ResultsCSV(failWriter{}, plan.PlannedResults(p)) },
	}
	for name, render := range renders {
		if err := render(richPlan()); !errors.Is(err, errDiskFull) {
			t.Errorf("%s onto a failing writer: err = %v, want it to wrap %v", name, err, errDiskFull)
		}
		if name == "results" {
			continue
		}
		if err := render(nil); err == nil {
			t.Errorf("%s of a nil plan: no error", name)
		}
	}
}

func TestJSONRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, richPlan()); err != nil {
		t.Fatal(err)
	}
	got, err := plan.Unmarshal(b.Bytes())
	if err != nil {
		t.Fatalf("read back the JSON report: %v", err)
	}
	if diff := cmp.Diff(richPlan(), got); diff != "" {
		t.Errorf("JSON report does not round-trip (-want +got):\n%s", diff)
	}
}
