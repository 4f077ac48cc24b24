package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func prob(line int, kind, column, msg string) state.Problem {
	return state.Problem{Source: state.Source{File: "groups.csv", Line: line}, Kind: kind, Column: column, Severity: state.SeverityError, Message: msg}
}

func TestProblemLabel(t *testing.T) {
	tests := []struct {
		p    state.Problem
		want string
	}{
		{prob(2, "group", "zip", `not a US ZIP code: "ABCDE" (a row outside the US needs its country)`), `group column "zip": not a US ZIP code: "…"`},
		{prob(2, "group", "industry", `unknown industry "Restaurant" (the nearest Convirza industry is "Restaurants"): …`), `group column "industry": unknown industry "…"`},
		{prob(2, "group", "org_unit_name", "missing org_unit_name"), `group column "org_unit_name": missing org_unit_name`},
		{prob(2, "group", "parent_ext_id", `parent row "A \"x\"" is invalid`), `group column "parent_ext_id": parent row "…" is invalid`},
		{prob(2, "group", "org_unit_ext_id", `2 groups in Convirza have org_unit_ext_id "X" (7, 9); refusing to guess`), `group column "org_unit_ext_id": N groups in Convirza have org_unit_ext_id "…"`},
		{prob(2, "user", "role", "unknown role \"Boss\" (Convirza's roles …): to map it, add to the mapping\n  users:\n    roles:\n      Boss: standard"), `user column "role": unknown role "…"`},
		{prob(2, "", "", "the row has 3 cells, the header 10"), `the row has N cells, the header N`},
		{prob(2, "group", "phone_number", `not E164 in 2nd form`), `group column "phone_number": not E164 in 2nd form`},
	}
	for _, tt := range tests {
		if got := problemLabel(tt.p); got != tt.want {
			t.Errorf("problemLabel(%q)\n got %s\nwant %s", tt.p.Message, got, tt.want)
		}
	}
}

// 200,000 rows with 1% bad: the problems are counted per kind, and the
// text stays bounded by max whatever their number.
func TestWriteProblemsBounded(t *testing.T) {
	var ps []state.Problem
	want := map[string]int{}
	for i := range 200_000 {
		if i%100 != 7 {
			continue
		}
		var p state.Problem
		switch (i / 100) % 4 {
		case 0:
			p = prob(i+2, "group", "zip", `not a US ZIP code: "ABCDE"`)
		case 1:
			p = prob(i+2, "group", "phone_number", fmt.Sprintf(`bad phone number "%d": not a valid number of region US`, i))
		case 2:
			p = prob(i+2, "group", "industry", `unknown industry "Restaurant" (the nearest Convirza industry is "Restaurants")`)
		case 3:
			p = prob(i+2, "group", "org_unit_name", "missing org_unit_name")
		}
		ps = append(ps, p)
		want[problemLabel(p)]++
	}
	got := map[string]int{}
	for _, k := range ProblemKinds(ps) {
		got[k.Label] = len(k.Problems)
	}
	if diff := cmp.Diff(want, got); diff != "" || len(got) != 4 {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	for _, max := range []int{50, 5, 2} {
		var b strings.Builder
		if err := WriteProblems(&b, ps, max); err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(b.String(), "\n")
		full := strings.Count(b.String(), "groups.csv:")
		if full > max || lines > max+2*len(want)+1 {
			t.Errorf("max %d: %d lines, %d problems shown:\n%s", max, lines, full, b.String())
		}
	}
	var b strings.Builder
	if err := WriteProblems(&b, ps, 0); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "groups.csv:"); n != len(ps) {
		t.Errorf("max 0 shows %d problems, want all %d", n, len(ps))
	}
}

func TestWriteProblems(t *testing.T) {
	ps := []state.Problem{
		prob(3, "group", "zip", `not a US ZIP code: "ABCDE"`),
		prob(4, "user", "role", "unknown role \"Boss\" (Convirza's roles are admin, standard and readonly): to map it, add to the mapping\n  users:\n    roles:\n      Boss: standard"),
		prob(5, "group", "zip", `not a US ZIP code: "1"`),
		prob(6, "group", "zip", `not a US ZIP code: "2"`),
		prob(7, "group", "zip", `not a US ZIP code: "3"`),
		prob(8, "group", "org_unit_name", "missing org_unit_name"),
	}
	tests := []struct {
		max  int
		want string
	}{
		{50, `  4 × group column "zip": not a US ZIP code: "…"
    groups.csv:3: column "zip": not a US ZIP code: "ABCDE"
    groups.csv:5: column "zip": not a US ZIP code: "1"
    groups.csv:6: column "zip": not a US ZIP code: "2"
    … and 1 more
  1 × user column "role": unknown role "…"
    groups.csv:4: column "role": unknown role "Boss" (Convirza's roles are admin, standard and readonly): to map it, add to the mapping
        users:
          roles:
            Boss: standard
  1 × group column "org_unit_name": missing org_unit_name
    groups.csv:8: column "org_unit_name": missing org_unit_name
`},
		{4, `  4 × group column "zip": not a US ZIP code: "…"
    groups.csv:3: column "zip": not a US ZIP code: "ABCDE"
    groups.csv:5: column "zip": not a US ZIP code: "1"
    groups.csv:6: column "zip": not a US ZIP code: "2"
    … and 1 more
  1 × user column "role": unknown role "…"
    groups.csv:4: column "role": unknown role "Boss" (Convirza's roles are admin, standard and readonly): to map it, add to the mapping
        users:
          roles:
            Boss: standard
  … and 1 more kind (1 problem)
`},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := WriteProblems(&b, ps, tt.max); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("max %d (-want +got):\n%s", tt.max, diff)
		}
	}
}
