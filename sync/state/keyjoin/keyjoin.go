// Package keyjoin matches records by key with a join, not by probing a
// map: each side becomes (hash, index) pairs sorted by hash, one merge pass
// pairs the equal hashes, and strings are compared only for those. The
// loader uses it to find duplicate users and hands the index it made to the
// planner (state.UserKeys), which joins it to Convirza's users; the keys
// users are matched by are defined here, once, for both.
//
// The pairs hold no pointers, so the garbage collector has nothing to scan
// in them, and sorting them by radix touches memory in sequence; the
// built-in map spent most of its time on cache misses at a million keys.
//
// Invariant: pure functions over their arguments and a hash seed made once
// per process, so hashes are never written out or compared across
// processes. No I/O; it imports nothing of this module but sync/state and
// its normalize package.
package keyjoin

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// seed is the one seed of this process: an index made by the loader joins
// the planner's hashes only because both use it.
var seed = maphash.MakeSeed()

// Hash is the hash of a key.
func Hash(k string) uint64 { return maphash.String(seed, k) }

// HashBytes is Hash of a key held in bytes.
func HashBytes(k []byte) uint64 { return maphash.Bytes(seed, k) }

// UserEmailKey is the key a desired user's email is matched by (ignoring
// case and surrounding space).
func UserEmailKey(u *state.DesiredUser) string { return normalize.EmailKey(u.Email) }

// UserKey is the key a desired user is matched by under match: its email
// key, or its user_ext_id's; "" (matching nothing) when the row has no
// email or, under user_ext_id, no ext id.
func UserKey(u *state.DesiredUser, match state.UserMatch) string {
	if strings.TrimSpace(u.Email) == "" {
		return ""
	}
	if match == state.MatchExtID {
		if u.ExtID == nil {
			return ""
		}
		return normalize.UserExtIDKey(*u.ExtID)
	}
	return normalize.EmailKey(u.Email)
}

// CurrentKey is the key a Convirza user is matched by under match.
func CurrentKey(u *state.User, match state.UserMatch) string {
	if match == state.MatchExtID {
		return normalize.UserExtIDKey(u.ExtID)
	}
	return normalize.EmailKey(u.Email)
}

// Hashes returns the (hash, index) pairs of the n keys key(i) that are not
// empty, sorted by hash (and index). buf, when it has room for n pairs, is
// the sort's scratch; it is not part of the result.
func Hashes(n int, key func(int32) string, buf []state.KeyHash) []state.KeyHash {
	out := make([]state.KeyHash, 0, n)
	for i := range int32(n) {
		if k := key(i); k != "" {
			out = append(out, state.KeyHash{Hash: Hash(k), Index: i})
		}
	}
	if cap(buf) < len(out) {
		buf = make([]state.KeyHash, len(out))
	}
	return Sort(out, buf[:len(out)])
}

// Index returns the index of the desired users by their keys under
// match, as the loader hands it to the planner.
func Index(users []state.DesiredUser, match state.UserMatch) *state.UserKeys {
	if match != state.MatchExtID {
		match = state.MatchEmail
	}
	x := &state.UserKeys{Match: match, Users: len(users)}
	buf := make([]state.KeyHash, len(users))
	x.ByKey = Hashes(len(users), func(i int32) string { return UserKey(&users[i], match) }, buf)
	if match == state.MatchExtID {
		x.ByEmail = Hashes(len(users), func(i int32) string { return UserEmailKey(&users[i]) }, buf)
	}
	return x
}

// Usable returns d's UserKeys when they were made for d's users as they
// are, else nil: the match or the number of users differ, or a sample of
// the entries does not hash its row's key. (A row changed in place after
// loading would go unnoticed by the sample alone; see DesiredState.UserKeys.)
func Usable(d *state.DesiredState) *state.UserKeys {
	x := d.UserKeys
	match := d.UserMatch
	if match != state.MatchExtID {
		match = state.MatchEmail
	}
	if x == nil || x.Users != len(d.Users) || x.Match != match {
		return nil
	}
	check := func(ks []state.KeyHash, key func(*state.DesiredUser) string) bool {
		const samples = 64
		step := max(len(ks)/samples, 1)
		for i := 0; i < len(ks); i += step {
			k := ks[i]
			if k.Index < 0 || int(k.Index) >= len(d.Users) || Hash(key(&d.Users[k.Index])) != k.Hash {
				return false
			}
		}
		return true
	}
	if !check(x.ByKey, func(u *state.DesiredUser) string { return UserKey(u, match) }) ||
		!check(x.ByEmail, UserEmailKey) {
		return nil
	}
	return x
}

// Dups calls fn with each set of two or more indexes in sorted whose keys
// (by key) are equal, in increasing order, the sets in the order of their
// first index.
func Dups(sorted []state.KeyHash, key func(int32) string, fn func(set []int32)) {
	DupsFunc(sorted, func(a, b int32) bool { return key(a) == key(b) }, fn)
}

// DupsFunc is Dups with the keys compared by same.
func DupsFunc(sorted []state.KeyHash, same func(a, b int32) bool, fn func(set []int32)) {
	var sets [][]int32
	var run []int32
	for i := 0; i < len(sorted); {
		e := i + 1
		for e < len(sorted) && sorted[e].Hash == sorted[i].Hash {
			e++
		}
		if e-i > 1 {
			// a run of one hash: split it by key (a collision is rare)
			run = run[:0]
			for _, k := range sorted[i:e] {
				run = append(run, k.Index)
			}
			for len(run) > 0 {
				set := []int32{run[0]}
				rest := run[:0]
				for _, j := range run[1:] {
					if same(set[0], j) {
						set = append(set, j)
					} else {
						rest = append(rest, j)
					}
				}
				run = rest
				if len(set) > 1 {
					sets = append(sets, set)
				}
			}
		}
		i = e
	}
	slices.SortFunc(sets, func(a, b []int32) int { return cmp.Compare(a[0], b[0]) })
	for _, s := range sets {
		fn(s)
	}
}

// Keep keeps the pairs whose index keep accepts, renumbered by it (in
// increasing order, so that the pairs stay sorted), in place.
func Keep(sorted []state.KeyHash, keep func(int32) (int32, bool)) []state.KeyHash {
	out := sorted[:0]
	for _, k := range sorted {
		if i, ok := keep(k.Index); ok {
			out = append(out, state.KeyHash{Hash: k.Hash, Index: i})
		}
	}
	return slices.Clip(out)
}

func byHash(x, y state.KeyHash) int {
	return cmp.Or(cmp.Compare(x.Hash, y.Hash), cmp.Compare(x.Index, y.Index))
}

// Sort sorts pairs by hash, then index: by radix (four passes of 8 bits,
// from the lowest of the top 32 bits, then by the whole hash within the
// rare runs that share those) for many pairs, by comparison for few. buf
// is scratch of a's length. The result is a.
func Sort(a, buf []state.KeyHash) []state.KeyHash {
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
			count[p][(k.Hash>>shift(p))&(buckets-1)+1]++
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
			b := (k.Hash >> s) & (buckets - 1)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	// a is sorted by the top 32 bits; order the runs that share them
	const top = 64 - bits*passes
	for i := 0; i < len(src); {
		e := i + 1
		for e < len(src) && src[e].Hash>>top == src[i].Hash>>top {
			e++
		}
		if e-i > 1 {
			slices.SortFunc(src[i:e], byHash)
		}
		i = e
	}
	return src
}

// Join is the result of joining a side of rows to a side of current
// objects. Per row, cand says where its hash is among the current keys:
// noCandidate (nowhere), the one current object holding it (>= 0), or, for
// the rare hash that several current keys share, the start of their run in
// cur (encoded as -2-position), so that most rows are matched without
// reading cur again.
type Join struct {
	cur  []state.KeyHash // the current side, sorted by hash
	cand []int32
}

const noCandidate = -1

// New joins the rows' keys to the current ones, both sorted by hash; nRows
// is the number of rows (the largest row index plus one, at least).
func New(cur, rows []state.KeyHash, nRows int) *Join {
	j := &Join{cur: cur, cand: make([]int32, nRows)}
	for i := range j.cand {
		j.cand[i] = noCandidate
	}
	c := 0
	for _, r := range rows {
		for c < len(cur) && cur[c].Hash < r.Hash {
			c++
		}
		if c == len(cur) {
			break
		}
		if cur[c].Hash != r.Hash {
			continue
		}
		if c+1 < len(cur) && cur[c+1].Hash == r.Hash {
			j.cand[r.Index] = int32(-2 - c)
		} else {
			j.cand[r.Index] = cur[c].Index
		}
	}
	return j
}

// Match returns the current object whose key equals the row's key, or
// found false; dup reports that several current objects hold the key.
func (j *Join) Match(row int32, key string, curKey func(int32) string) (cur int32, found, dup bool) {
	c := j.cand[row]
	switch {
	case c == noCandidate:
		return 0, false, false
	case c >= 0:
		return c, curKey(c) == key, false
	}
	start := int(-2 - c)
	h := j.cur[start].Hash
	for k := start; k < len(j.cur) && j.cur[k].Hash == h; k++ {
		i := j.cur[k].Index
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
