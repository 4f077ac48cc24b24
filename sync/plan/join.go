package plan

import (
	"cmp"
	"hash/maphash"
	"slices"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The export's rows are matched to Convirza's objects by a join, not by
// probing a map: both sides become (hash, index) pairs, each side is sorted
// by hash, and one merge pass pairs the equal hashes. Strings are compared
// only for equal hashes, and in the export's order, when the row is
// matched (see keyJoin.match).
//
// The pairs hold no pointers, so the garbage collector has nothing to scan
// in them, and sorting them by radix touches memory in sequence; the
// built-in map spent most of its time on cache misses at a million keys.

// keyed is one key of a side of the join: its hash and its index there.
type keyed struct {
	hash uint64
	idx  int32
}

// keyJoin is the result of joining the export's keys to the current ones.
// Per export row, cand says where its hash is among the current keys:
// noCandidate (nowhere), the one current object holding it (>= 0), or,
// for the rare hash that several current keys share, the start of their
// run in cur (encoded as -2-position), so that most rows are matched
// without reading cur again.
type keyJoin struct {
	cur  []keyed // the current side, sorted by hash
	cand []int32
}

const noCandidate = -1

// joinKeys joins nRows export keys to nCur current keys. rowKey and curKey
// give the key of an index; an empty key takes no part.
func joinKeys(nCur int, curKey func(int32) string, nRows int, rowKey func(int32) string) *keyJoin {
	seed := maphash.MakeSeed()
	buf := make([]keyed, max(nCur, nRows)) // the radix sort's scratch, for both sides
	hashAll := func(n int, key func(int32) string) []keyed {
		out := make([]keyed, 0, n)
		for i := range int32(n) {
			if k := key(i); k != "" {
				out = append(out, keyed{maphash.String(seed, k), i})
			}
		}
		return sortKeyed(out, buf[:len(out)])
	}
	j := &keyJoin{cur: hashAll(nCur, curKey), cand: make([]int32, nRows)}
	for i := range j.cand {
		j.cand[i] = noCandidate
	}
	rows := hashAll(nRows, rowKey)
	c := 0
	for _, r := range rows {
		for c < len(j.cur) && j.cur[c].hash < r.hash {
			c++
		}
		if c == len(j.cur) {
			break
		}
		if j.cur[c].hash != r.hash {
			continue
		}
		if c+1 < len(j.cur) && j.cur[c+1].hash == r.hash {
			j.cand[r.idx] = int32(-2 - c)
		} else {
			j.cand[r.idx] = j.cur[c].idx
		}
	}
	return j
}

// match returns the current object whose key equals the row's key, or
// found false; dup reports that several current objects hold the key.
func (j *keyJoin) match(row int32, key string, curKey func(int32) string) (cur int32, found, dup bool) {
	c := j.cand[row]
	switch {
	case c == noCandidate:
		return 0, false, false
	case c >= 0:
		return c, curKey(c) == key, false
	}
	start := int(-2 - c)
	h := j.cur[start].hash
	for k := start; k < len(j.cur) && j.cur[k].hash == h; k++ {
		i := j.cur[k].idx
		if curKey(i) != key {
			continue // a collision of hashes
		}
		if found {
			return 0, false, true
		}
		cur, found = i, true
	}
	return cur, found, false
}

// sortKeyed sorts pairs by hash: by radix (four passes of 8 bits, from
// the lowest of the top 32 bits, then by the whole hash within the rare runs
// that share those) for many pairs, by comparison for few. buf is scratch
// of a's length.
func byHash(x, y keyed) int {
	return cmp.Or(cmp.Compare(x.hash, y.hash), cmp.Compare(x.idx, y.idx))
}

func sortKeyed(a, buf []keyed) []keyed {
	if len(a) < 1024 {
		slices.SortFunc(a, byHash)
		return a
	}
	const bits, passes = 8, 4 // an even count: the result lands in a
	const buckets = 1 << bits
	var count [passes][buckets + 1]int
	shift := func(p int) uint { return 64 - bits*passes + uint(p*bits) }
	for _, k := range a {
		for p := range passes {
			count[p][(k.hash>>shift(p))&(buckets-1)+1]++
		}
	}
	src, dst := a, buf
	for p := range passes {
		c := &count[p]
		for b := 1; b <= buckets; b++ {
			c[b] += c[b-1]
		}
		s := shift(p)
		for _, k := range src {
			b := (k.hash >> s) & (buckets - 1)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	// a is sorted by the top 32 bits; order the runs that share them
	for i := 0; i < len(src); {
		e := i + 1
		for e < len(src) && src[e].hash>>(64-bits*passes) == src[i].hash>>(64-bits*passes) {
			e++
		}
		if e-i > 1 {
			slices.SortFunc(src[i:e], byHash)
		}
		i = e
	}
	return src
}

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
