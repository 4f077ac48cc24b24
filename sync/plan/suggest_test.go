package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// An unknown industry names the nearest Convirza industry and the mapping
// line that maps the export's word to it; a word like none says how to map
// it anyway.
func TestUnknownIndustrySuggests(t *testing.T) {
	tests := []struct {
		word string
		want string
	}{
		{"Restaurant", `groups.csv:2: column "industry": unknown industry "Restaurant" (the nearest Convirza industry is "Restaurants"): to map it, add to the mapping's groups: industries: {Restaurant: Restaurants}`},
		{" helthcare ", `groups.csv:2: column "industry": unknown industry "helthcare" (the nearest Convirza industry is "Healthcare"): to map it, add to the mapping's groups: industries: {helthcare: Healthcare}`},
		{"Food & Beverage", `groups.csv:2: column "industry": unknown industry "Food & Beverage" (Convirza has no industry like it): to map it, add to the mapping's groups: industries: {"Food & Beverage": NAME}, with NAME one of Convirza's 3 industries`},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			g := dg("A", "Alpha", "")
			g.Industry = ptr(tt.word)
			p := mustPlan(t, des(g), cur(), Options{MaxInvalid: CountLimit(1)})
			var got []string
			for _, pr := range p.Invalid {
				got = append(got, pr.Error())
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}

// The message is made once per word: many rows with one unknown word share
// it, and each row is still named.
func TestUnknownIndustryManyRows(t *testing.T) {
	var gs []state.DesiredGroup
	for i := range 50 {
		g := dg(string(rune('A'+i%26))+string(rune('a'+i/26)), "G", "")
		g.Name = g.ExtID
		g.Industry = ptr("Restaurant")
		gs = append(gs, g)
	}
	p := mustPlan(t, des(gs...), cur(), Options{MaxInvalid: CountLimit(100)})
	if len(p.Invalid) != 50 {
		t.Fatalf("%d invalid rows, want 50", len(p.Invalid))
	}
	for i, pr := range p.Invalid {
		if pr.Source.Line != i+2 || pr.Message != p.Invalid[0].Message {
			t.Errorf("row %d: %s", i, pr.Error())
		}
	}
}
