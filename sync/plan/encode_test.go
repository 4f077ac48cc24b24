package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// indented is the plan file format by its definition: the plan as
// json.MarshalIndent writes it, and a newline.
func indented(t testing.TB, p *Plan) string {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func encoded(t testing.TB, p *Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// bigPlan is a plan of n changes of every shape: creates with fields,
// moves with a from_parent, symbolic parents, sources, After lists.
func bigPlan(n int) *Plan {
	p := &Plan{Version: Version, Account: Account{APIURL: "http://127.0.0.1/v3", RootID: 1, RootExtID: "ROOT"},
		Policy: PolicyUpsert, UsersManaged: true, Changes: make([]Change, 0, n)}
	for i := range n {
		c := Change{ID: i + 1, Action: Create, Kind: KindUser, Key: fmt.Sprintf("user%d@example.com", i),
			Name: fmt.Sprintf("user%d@example.com", i), Parent: Ref{ExtID: fmt.Sprintf("G%d", i/10)},
			Source: &state.Source{File: "users.csv", Line: i + 2}, NewUser: true,
			Fields: []FieldChange{{Field: FieldUsername, After: fmt.Sprintf("user%d@example.com", i)},
				{Field: FieldFirstName, After: "Ann <&> Ünïcödé"}, {Field: FieldRole, After: "standard"}}}
		if i%7 == 0 {
			c.Action, c.Kind, c.ObjectID, c.NewUser = Move, KindGroup, int64(1000+i), false
			c.FromParent = &Ref{ID: 5, ExtID: "OLD", Name: "Old \"quoted\" parent"}
			c.After = []int{max(1, i-1)}
			c.Reason = "moved\tunder a new parent"
		}
		p.Changes = append(p.Changes, c)
	}
	return p
}

func TestEncodeIsMarshalIndent(t *testing.T) {
	tests := []struct {
		name string
		p    *Plan
	}{
		{"nil", nil},
		{"zero", &Plan{}},
		{"empty lists", &Plan{Version: 1, Changes: []Change{}, Refused: []Change{}, Gates: []Gate{}}},
		{"one change", bigPlan(1)},
		{"every list", func() *Plan {
			p := bigPlan(30)
			p.Forced, p.PhoneRegion = true, "GB"
			p.Refused = p.Changes[:2]
			p.Invalid = []state.Problem{{Source: state.Source{File: "g.csv", Line: 3}, Kind: "group", Key: "G", Column: "Phone",
				Severity: state.SeverityError, Message: "not a phone number"}}
			p.Gates = []Gate{{Name: "max-changes", Limit: "10%", Count: 30, Allowed: 3, Total: 30, Tripped: true, Message: "too many"}}
			p.Tree = []Node{{Ref: Ref{ID: 1, ExtID: "ROOT"}}, {Ref: Ref{ExtID: "G0"}, Parent: Ref{ID: 1}, Folded: 3}}
			p.Unchanged, p.Owned = Counts{Groups: 4, Users: 5}, Counts{Groups: 6, Users: 7}
			return p
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(indented(t, tt.p), encoded(t, tt.p)); d != "" {
				t.Errorf("Encode differs from json.MarshalIndent (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzEncode: any plan file that decodes encodes again exactly as
// json.MarshalIndent would write it.
func FuzzEncode(f *testing.F) {
	f.Add([]byte(`{"version":1,"account":{"api_url":"http://127.0.0.1/v3","root_id":1},"policy":"upsert","users_managed":false,"changes":[{"id":1,"action":"create","kind":"group","key":"A","parent":{"id":1},"fields":[{"field":"org_unit_name","before":"","after":"A<>&\u2028"}]}],"unchanged":{"groups":0,"users":0},"owned":{"groups":0,"users":0}}`))
	f.Add([]byte(`{"version":1,"changes":[{"id":1,"action":"move","kind":"group","key":"B","from_parent":{"ext_id":"X"},"after":[2]}],"refused":[],"tree":[{"ref":{"id":1},"parent":{}}]}`))
	f.Add([]byte(`{"version":1,"changes":null,"forced":true,"phone_region":"FR","gates":[{"name":"shrink"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			return
		}
		if d := cmp.Diff(indented(t, p), encoded(t, p)); d != "" {
			t.Fatalf("Encode differs from json.MarshalIndent (-want +got):\n%s", d)
		}
	})
}

// BenchmarkEncode writes plan files of a growing number of changes: the
// time grows with the bytes, the memory allocated does not (compare B/op
// across sizes; MarshalIndent holds the whole file, Encode one change).
func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		p := bigPlan(n)
		var size int64
		b.Run(fmt.Sprintf("changes=%d", n), func(b *testing.B) {
			for b.Loop() {
				cw := &countWriter{}
				if err := p.Encode(cw); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.SetBytes(size)
		})
		b.Run(fmt.Sprintf("MarshalIndent/changes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := json.MarshalIndent(p, "", "  "); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(size)
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

var _ io.Writer = (*countWriter)(nil)

// TestChangeEncoderKnowsEveryField: appendChange writes the fields of
// these types by hand, in this order; a field added to one of them must be
// added there too.
func TestChangeEncoderKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[Change]():       {"id", "action", "kind", "key", "convirza_id,omitempty", "name,omitempty", "parent", "from_parent,omitempty", "fields,omitempty", "reason,omitempty", "source,omitempty", "after,omitempty", "new_user,omitempty"},
		reflect.TypeFor[Ref]():          {"id,omitempty", "ext_id,omitempty", "name,omitempty"},
		reflect.TypeFor[FieldChange]():  {"field", "before", "after", "before_label,omitempty", "after_label,omitempty"},
		reflect.TypeFor[state.Source](): {"file,omitempty", "line,omitempty", "sheet,omitempty"},
	}
	for typ, want := range known {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Tag.Get("json"))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s changed; update appendChange (-known +now):\n%s", typ, d)
		}
	}
}
