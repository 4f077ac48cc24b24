package plan

import (
	"cmp"
	"slices"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The export's users are matched to Convirza's by a join (package keyjoin),
// and groups to their parents by a sorted-id index, not by probing maps.

// idIndex finds a current group's index in CurrentState.Groups by its id:
// the ids sorted, with a directory on their high bits so that a lookup
// reads one bucket of a few ids instead of probing a map.
type idIndex struct {
	ids   []int64 // sorted, each once
	at    []int32 // at[k] is the index in Groups of ids[k]
	min   int64
	shift uint
	dir   []int32 // dir[b] is the first k whose bucket is b or more
}

// newIDIndex indexes the groups that keep(i) accepts; of two groups with
// one id, the first wins.
func newIDIndex(gs []state.Group, keep func(i int) bool) *idIndex {
	type pair struct {
		id int64
		i  int32
	}
	ps := make([]pair, 0, len(gs))
	for i := range gs {
		if keep(i) {
			ps = append(ps, pair{gs[i].ID, int32(i)})
		}
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.i, b.i)) })
	x := &idIndex{ids: make([]int64, 0, len(ps)), at: make([]int32, 0, len(ps))}
	for k, p := range ps {
		if k > 0 && p.id == ps[k-1].id {
			continue
		}
		x.ids = append(x.ids, p.id)
		x.at = append(x.at, p.i)
	}
	if len(x.ids) == 0 {
		return x
	}
	x.min = x.ids[0]
	span := uint64(x.ids[len(x.ids)-1] - x.min)
	for span>>x.shift >= uint64(2*len(x.ids)) {
		x.shift++
	}
	nb := int(span>>x.shift) + 1
	x.dir = make([]int32, nb+1)
	k := 0
	for b := range nb + 1 {
		for k < len(x.ids) && int(uint64(x.ids[k]-x.min)>>x.shift) < b {
			k++
		}
		x.dir[b] = int32(k)
	}
	return x
}

// find returns the index in Groups of the group with this id.
func (x *idIndex) find(id int64) (int32, bool) {
	if len(x.ids) == 0 || id < x.min || id > x.ids[len(x.ids)-1] {
		return 0, false
	}
	b := uint64(id-x.min) >> x.shift
	ids := x.ids[x.dir[b]:x.dir[b+1]]
	k, ok := slices.BinarySearch(ids, id)
	if !ok {
		return 0, false
	}
	return x.at[int(x.dir[b])+k], true
}
