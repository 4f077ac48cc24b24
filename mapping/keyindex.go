package mapping

import (
	"hash/maphash"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/keyjoin"
)

// keyIndex maps the ext ids of the group rows to their index. It is an
// open-addressing table of 64-bit slots (a 32-bit hash fingerprint and the
// row index plus one), so the garbage collector has nothing to scan in it,
// and checking for a duplicate and inserting take one probe sequence; the
// built-in map took two, and a quarter of the load's time on a 1M-row
// export. Keys are compared with the rows' own ids, only when the
// fingerprints match.
type keyIndex struct {
	seed  maphash.Seed
	slots []uint64
	mask  uint64
	shift uint               // the top bits of a hash pick its slot: 64 - log2(len(slots))
	key   func(int32) string // the key of row i
}

func newKeyIndex(n int, key func(int32) string) *keyIndex {
	size, bits := 16, uint(4)
	for size < 2*n {
		size, bits = size<<1, bits+1
	}
	return &keyIndex{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: uint64(size - 1), shift: 64 - bits, key: key}
}

func (t *keyIndex) hash(k string) (pos uint64, fp uint64) {
	h := maphash.String(t.seed, k)
	return h >> t.shift, h << 32
}

// build inserts the rows 0..n-1 whose key is not "", and calls dup(i, j)
// for a row i whose key row j (the first with it) holds already. The rows
// go in in the order of their hashes, which is the order of their slots:
// the table of a large export is far bigger than the cache, and inserting
// in row order made each insert a cache miss. buf and scratch have room
// for n pairs.
func (t *keyIndex) build(n int, buf, scratch []state.KeyHash, dup func(i, j int32)) {
	pairs := buf[:0]
	for i := range int32(n) {
		if k := t.key(i); k != "" {
			pairs = append(pairs, state.KeyHash{Hash: maphash.String(t.seed, k), Index: i})
		}
	}
	pairs = keyjoin.Sort(pairs, scratch[:len(pairs)]) // by hash, then row
	for _, p := range pairs {
		pos, fp := p.Hash>>t.shift, p.Hash<<32
		for {
			s := t.slots[pos]
			if s == 0 {
				t.slots[pos] = fp | uint64(uint32(p.Index)+1)
				break
			}
			if s&^0xffffffff == fp {
				if j := int32(uint32(s)) - 1; t.key(j) == t.key(p.Index) {
					dup(p.Index, j)
					break
				}
			}
			pos = (pos + 1) & t.mask
		}
	}
}

func (t *keyIndex) lookup(k string) (int32, bool) {
	if t == nil {
		return 0, false
	}
	pos, fp := t.hash(k)
	for {
		s := t.slots[pos]
		if s == 0 {
			return 0, false
		}
		if s&^0xffffffff == fp {
			j := int32(uint32(s)) - 1
			if t.key(j) == k {
				return j, true
			}
		}
		pos = (pos + 1) & t.mask
	}
}
