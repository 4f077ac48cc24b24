package plan

import (
	"github.com/convirza-sync/convirza-sync/sync/state/keyjoin"
	"github.com/google/go-cmp/cmp"
	"slices"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

func TestIDIndex(t *testing.T) {
	for _, ids := range [][]int64{
		{},
		{5},
		{1, 2, 3, 4, 5, 6},
		{10, 1 << 40, 7, -3, 1 << 62, 10, 99}, // a wide span, a negative id, a duplicate
		{100, 101, 102, 5000, 5001, 5002, 5003, 900000},
	} {
		gs := make([]state.Group, len(ids))
		for i, id := range ids {
			gs[i] = state.Group{ID: id}
		}
		x := newIDIndex(gs, func(i int) bool { return i != 2 })
		first := map[int64]int32{}
		for i, id := range ids {
			if _, ok := first[id]; !ok && i != 2 {
				first[id] = int32(i)
			}
		}
		for _, id := range append(slices.Clone(ids), 0, 8, 1<<41, -4, 1<<63-1) {
			got, ok := x.find(id)
			want, wok := first[id]
			if ok != wok || got != want {
				t.Errorf("ids %v: find(%d) = %d, %v; want %d, %v", ids, id, got, ok, want, wok)
			}
		}
	}
}

// TestUserKeysHandedOver plans with the loader's index of the users' keys
// and without it: the plans are the same, under both ways of matching,
// and an index made for other users is not used.
func TestUserKeysHandedOver(t *testing.T) {
	for _, match := range []state.UserMatch{state.MatchEmail, state.MatchExtID} {
		c, d := bigState(300, 3000)
		d.UserMatch = match
		d.Users[5].Email = "USER5@Example.com " // folded by the key
		d.UserKeys = nil
		opts := Options{Policy: PolicyMirror, MaxDeletes: NoLimit(), MaxChanges: NoLimit()}
		want, err := Calculate(d, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		d.UserKeys = keyjoin.Index(d.Users, match)
		if keyjoin.Usable(d) == nil {
			t.Fatalf("match %s: the index is not usable", match)
		}
		got, err := Calculate(d, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("match %s: with the index (-without +with):\n%s", match, diff)
		}
		if len(got.Changes) == 0 {
			t.Errorf("match %s: no changes", match)
		}
		// an index of other users is ignored, not trusted
		d.UserKeys = keyjoin.Index(d.Users[:len(d.Users)-1], match)
		if got, err = Calculate(d, c, opts); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("match %s: with a stale index (-without +with):\n%s", match, diff)
		}
	}
}
