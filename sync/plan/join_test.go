package plan

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/google/go-cmp/cmp"
)

func TestSortKeyed(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1023, 1024, 5000} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		a := make([]keyed, n)
		for i := range a {
			h := rng.Uint64()
			if i%5 == 1 { // share the top 32 bits with the previous key
				h = a[i-1].hash&^0xffffffff | h&0xffffffff
			}
			if i%11 == 2 { // the same hash as the previous key
				h = a[i-1].hash
			}
			a[i] = keyed{h, int32(i)}
		}
		want := slices.Clone(a)
		slices.SortFunc(want, byHash)
		got := sortKeyed(a, make([]keyed, n))
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(keyed{})); diff != "" {
			t.Errorf("n=%d: sortKeyed (-want +got):\n%s", n, diff)
		}
	}
}

// TestJoinKeys checks the join against a plain map, with keys held by
// several current objects, keys held by none, and empty keys.
func TestJoinKeys(t *testing.T) {
	for _, n := range []int{3, 2000} {
		cur := make([]string, n)
		for i := range cur {
			cur[i] = "k" + strconv.Itoa(i%(n-n/10)) // the last tenth repeats keys
		}
		cur[1] = ""
		rows := make([]string, n+n/2)
		for i := range rows {
			rows[i] = "k" + strconv.Itoa(i)
		}
		rows[0] = ""
		holders := map[string][]int32{}
		for i, k := range cur {
			if k != "" {
				holders[k] = append(holders[k], int32(i))
			}
		}
		curKey := func(i int32) string { return cur[i] }
		j := joinKeys(len(cur), curKey, len(rows), func(i int32) string { return rows[i] })
		for i, k := range rows {
			got, found, dup := j.match(int32(i), k, curKey)
			h := holders[k]
			if k == "" {
				h = nil
			}
			switch {
			case len(h) > 1 && !dup, len(h) <= 1 && dup:
				t.Errorf("n=%d row %q: dup %v, holders %v", n, k, dup, h)
			case len(h) == 1 && (!found || got != h[0]):
				t.Errorf("n=%d row %q: got %d %v, want %d", n, k, got, found, h[0])
			case len(h) == 0 && found:
				t.Errorf("n=%d row %q: found %d, want none", n, k, got)
			}
		}
	}
}

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
