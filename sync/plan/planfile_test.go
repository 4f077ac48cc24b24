package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestUnmarshalRefusals(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`[1,2,3]`, "want a JSON object"},
		{`{"version": "one"}`, "version is not a number"},
		{`{"changes": []}`, "no version"},
		{`{"version": 99}`, "version 99, this build reads version 1"},
		{`{"version": 1, "surprise": true}`, "unknown field"},
		{`{"version": 1,`, "invalid JSON"},
		{``, "not a plan file"},
	}
	for _, tt := range tests {
		_, err := Unmarshal([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Unmarshal(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestSkippedResultsOneRowPerLine(t *testing.T) {
	src := state.Source{File: "groups.csv", Line: 4}
	p := &Plan{Invalid: []state.Problem{
		{Source: src, Kind: "group", Key: "G4", Column: "Phone", Message: "not a valid phone number"},
		{Source: src, Kind: "group", Key: "G4", Column: "State", Message: "not a US state"},
		{Source: state.Source{File: "groups.csv", Line: 9}, Kind: "group", Key: "G9", Message: "missing name"},
	}}
	got := SkippedResults(p)
	want := []Result{
		{Line: 4, Kind: KindGroup, Key: "G4", Outcome: OutcomeSkipped,
			Message: `groups.csv:4: column "Phone": not a valid phone number; groups.csv:4: column "State": not a US state`},
		{Line: 9, Kind: KindGroup, Key: "G9", Outcome: OutcomeSkipped, Message: "groups.csv:9: missing name"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SkippedResults (-want +got):\n%s", d)
	}
}

// FuzzPlanUnmarshal: any bytes either decode into a plan that re-encodes and
// decodes to the same value (an empty list and no list are the same), or
// give an error; never a panic.
func FuzzPlanUnmarshal(f *testing.F) {
	f.Add([]byte(`{"version":1,"account":{"api_url":"http://127.0.0.1/v3","root_id":1},"policy":"upsert","users_managed":false,"changes":[{"id":1,"action":"create","kind":"group","key":"A","parent":{"id":1},"fields":[{"field":"org_unit_name","before":"","after":"A"}]}],"unchanged":{"groups":0,"users":0},"owned":{"groups":0,"users":0}}`))
	f.Add([]byte(`{"version":1,"changes":[{"id":1,"action":"move","kind":"group","key":"B","from_parent":{"ext_id":"X"},"after":[2]}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"version":1,"changes":[{"action":"explode"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
		q, err := Unmarshal(again)
		if err != nil {
			t.Fatalf("a re-encoded plan does not decode: %v\n%s", err, again)
		}
		if d := cmp.Diff(p, q, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip changed the plan (-first +second):\n%s", d)
		}
	})
}
