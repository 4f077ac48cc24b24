package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestIndustryClearRefused: a desired group that clears its industry (by
// name or by id) is an invalid row, never a change that would put
// {"industry_id":0} on the wire; the API documents no way to unset it.
func TestIndustryClearRefused(t *testing.T) {
	g := grp(2, 1, "E1", "East")
	g.IndustryID = 10
	tests := []struct {
		name string
		row  func() *state.DesiredState
	}{
		{"by name", func() *state.DesiredState { d := dg("E1", "East", ""); d.Industry = ptr(" "); return des(d) }},
		{"by id", func() *state.DesiredState { d := dg("E1", "East", ""); d.IndustryID = ptr(int64(0)); return des(d) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Calculate(tt.row(), cur(g), Options{Policy: PolicyUpsert, MaxInvalid: CountLimit(1)})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"invalid group E1 [industry_id]: the industry cannot be cleared: the API documents no way to unset it"}
			if diff := cmp.Diff(want, summary(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
