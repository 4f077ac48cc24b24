package keyjoin

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/google/go-cmp/cmp"
)

func TestSort(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1023, 1024, 5000} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		a := make([]state.KeyHash, n)
		for i := range a {
			h := rng.Uint64()
			if i%5 == 1 { // share the top 32 bits with the previous key
				h = a[i-1].Hash&^0xffffffff | h&0xffffffff
			}
			if i%11 == 2 { // the same hash as the previous key
				h = a[i-1].Hash
			}
			a[i] = state.KeyHash{Hash: h, Index: int32(i)}
		}
		want := slices.Clone(a)
		slices.SortFunc(want, byHash)
		got := Sort(a, make([]state.KeyHash, n))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("n=%d: Sort (-want +got):\n%s", n, diff)
		}
	}
}

// TestJoin checks the join against a plain map, with keys held by several
// current objects, keys held by none, and empty keys.
func TestJoin(t *testing.T) {
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
		j := New(Hashes(len(cur), curKey, nil), Hashes(len(rows), func(i int32) string { return rows[i] }, nil), len(rows))
		for i, k := range rows {
			got, found, dup := j.Match(int32(i), k, curKey)
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

// TestJoinCollision joins keys whose hashes are made equal: the strings
// decide.
func TestJoinCollision(t *testing.T) {
	cur := []string{"a", "b", "c"}
	curSide := Sort([]state.KeyHash{{Hash: 7, Index: 0}, {Hash: 7, Index: 1}, {Hash: 9, Index: 2}}, nil)
	rows := []string{"b", "x", "c"}
	rowSide := []state.KeyHash{{Hash: 7, Index: 0}, {Hash: 7, Index: 1}, {Hash: 9, Index: 2}}
	j := New(curSide, rowSide, len(rows))
	type res struct {
		Cur        int32
		Found, Dup bool
	}
	var got []res
	for i, k := range rows {
		c, f, d := j.Match(int32(i), k, func(i int32) string { return cur[i] })
		got = append(got, res{c, f, d})
	}
	want := []res{{1, true, false}, {0, false, false}, {2, true, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
}

func TestDups(t *testing.T) {
	keys := []string{"a", "b", "A", "a", "", "c", "b", "d"}
	fold := func(i int32) string {
		if keys[i] == "A" {
			return "a"
		}
		return keys[i]
	}
	// colliding hashes: every key hashes to its length, so "a" "b" "c" "d"
	// share one run and the strings split it
	sorted := Sort([]state.KeyHash{
		{Hash: 1, Index: 0}, {Hash: 1, Index: 1}, {Hash: 1, Index: 2}, {Hash: 1, Index: 3},
		{Hash: 1, Index: 5}, {Hash: 1, Index: 6}, {Hash: 1, Index: 7},
	}, nil)
	var got [][]int32
	Dups(sorted, fold, func(set []int32) { got = append(got, slices.Clone(set)) })
	want := [][]int32{{0, 2, 3}, {1, 6}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dups (-want +got):\n%s", diff)
	}
	// and with real hashes
	got = nil
	Dups(Hashes(len(keys), fold, nil), fold, func(set []int32) { got = append(got, slices.Clone(set)) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dups over Hashes (-want +got):\n%s", diff)
	}
}

func TestKeep(t *testing.T) {
	in := []state.KeyHash{{Hash: 1, Index: 0}, {Hash: 2, Index: 3}, {Hash: 2, Index: 1}, {Hash: 5, Index: 2}}
	drop := map[int32]bool{1: true}
	newIdx := []int32{0, -1, 1, 2}
	got := Keep(in, func(i int32) (int32, bool) { return newIdx[i], !drop[i] })
	want := []state.KeyHash{{Hash: 1, Index: 0}, {Hash: 2, Index: 2}, {Hash: 5, Index: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keep (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

// TestIndexUsable builds the index of a few users, under both matches, and
// checks that Usable takes it only for the users it was made for.
func TestIndexUsable(t *testing.T) {
	users := []state.DesiredUser{
		{Email: "Ann@Example.com", ExtID: ptr("U1")},
		{Email: "bob@example.com"},
		{Email: "", ExtID: ptr("U3")},
		{Email: "cy@example.com", ExtID: ptr(" U4 ")},
	}
	for _, match := range []state.UserMatch{"", state.MatchEmail, state.MatchExtID} {
		d := &state.DesiredState{Users: users, UserMatch: match}
		d.UserKeys = Index(users, match)
		want := Hashes(len(users), func(i int32) string { return UserKey(&users[i], match) }, nil)
		if diff := cmp.Diff(want, d.UserKeys.ByKey); diff != "" {
			t.Errorf("match %q: ByKey (-want +got):\n%s", match, diff)
		}
		// a row without an email has no key; under user_ext_id, nor has
		// a row without an ext id
		if got, want := len(d.UserKeys.ByKey), map[state.UserMatch]int{"": 3, state.MatchEmail: 3, state.MatchExtID: 2}[match]; got != want {
			t.Errorf("match %q: %d keys, want %d", match, got, want)
		}
		if Usable(d) == nil {
			t.Errorf("match %q: the index made for these users is not usable", match)
		}
		other := &state.DesiredState{Users: users[:3], UserMatch: match, UserKeys: d.UserKeys}
		if Usable(other) != nil {
			t.Errorf("match %q: an index made for 4 users is usable for 3", match)
		}
		changed := slices.Clone(users)
		changed[0].Email, changed[0].ExtID = "zed@example.com", ptr("Z9")
		changed[1].Email = "zed2@example.com"
		changed[3].Email, changed[3].ExtID = "zed3@example.com", ptr("Z8")
		if Usable(&state.DesiredState{Users: changed, UserMatch: match, UserKeys: d.UserKeys}) != nil {
			t.Errorf("match %q: an index is usable for users whose keys changed", match)
		}
	}
	d := &state.DesiredState{Users: users, UserMatch: state.MatchExtID, UserKeys: Index(users, state.MatchEmail)}
	if Usable(d) != nil {
		t.Error("an index made by email is usable for a match by user_ext_id")
	}
}
