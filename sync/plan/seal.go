package plan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// A plan file is bound to what was reviewed by its digest, and to who made
// it by its signature:
//
//   - the canonical encoding of a plan is encoding/json's compact encoding
//     of the Plan value with Digest and Signature empty: keys in the order
//     of SCHEMA.md, no insignificant white space. It is computed from the
//     decoded value, so white space, key order or a duplicate key in a file
//     change nothing that apply would do, and change nothing here either;
//   - the digest is "sha256:" and the lower-case hex SHA-256 of those bytes;
//   - the signature is "hmac-sha256:" and the lower-case hex HMAC-SHA256 of
//     the same bytes under the plan key. The key never appears in a plan,
//     an error or a message.
//
// The digest proves that a plan is the one whose digest someone saw (apply
// --approve); anyone can recompute it. The signature proves that someone
// who holds the key made the plan. Neither proves that the plan is right,
// nor keeps a key holder from signing a bad one: apply checks the plan's
// scope (CheckScope) and before-values (CheckStale) whatever it carries.

// The prefixes of Plan.Digest and Plan.Signature.
const (
	DigestPrefix    = "sha256:"
	SignaturePrefix = "hmac-sha256:"
)

// MinKeyLen is the fewest bytes a plan key may hold.
const MinKeyLen = 16

// The errors of CheckSeal and CheckApproved, for errors.Is.
var (
	ErrNoDigest       = errors.New("the plan carries no digest")
	ErrDigestMismatch = errors.New("the plan's content does not match its digest: it was edited after it was written")
	ErrUnsigned       = errors.New("the plan is not signed, and a plan key is set")
	ErrBadSignature   = errors.New("the plan's signature does not verify with the plan key")
	ErrNoKey          = errors.New("the plan is signed, and no plan key is set to verify it")
	ErrNotApproved    = errors.New("the plan is not the one approved")
)

// canonical is the plan's canonical encoding: what the digest and the
// signature cover.
func canonical(p *Plan) ([]byte, error) {
	if p == nil {
		return nil, errors.New("no plan")
	}
	q := *p
	q.Digest, q.Signature = "", ""
	b, err := json.Marshal(&q)
	if err != nil {
		return nil, fmt.Errorf("encode the plan: %w", err)
	}
	return b, nil
}

// Digest returns the digest of the plan's canonical content,
// "sha256:<hex>". It ignores the plan's own Digest and Signature.
func Digest(p *Plan) (string, error) {
	b, err := canonical(p)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return DigestPrefix + hex.EncodeToString(sum[:]), nil
}

// sign returns the signature of canonical bytes under key.
func sign(b, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return SignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// CheckKey refuses a plan key too short to be a secret. Its error never
// shows the key.
func CheckKey(key []byte) error {
	if len(key) > 0 && len(key) < MinKeyLen {
		return fmt.Errorf("the plan key is shorter than %d bytes: use a random one (e.g. openssl rand -hex 32)", MinKeyLen)
	}
	return nil
}

// Seal sets the plan's Digest, and its Signature under key, or none when
// key is empty. Call it last: any later change to the plan breaks the
// seal.
func Seal(p *Plan, key []byte) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("seal the plan: %w", err)
	}
	b, err := canonical(p)
	if err != nil {
		return fmt.Errorf("seal the plan: %w", err)
	}
	sum := sha256.Sum256(b)
	p.Digest = DigestPrefix + hex.EncodeToString(sum[:])
	p.Signature = ""
	if len(key) > 0 {
		p.Signature = sign(b, key)
	}
	return nil
}

// CheckSeal refuses a plan whose digest is missing or does not match its
// content, and, by key: with a key, a plan that is unsigned or whose
// signature does not verify; without one, a signed plan (it was made to be
// checked, and cannot be). The errors match the Err values above and never
// show the key.
func CheckSeal(p *Plan, key []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	b, err := canonical(p)
	if err != nil {
		return err
	}
	if p.Digest == "" {
		return ErrNoDigest
	}
	sum := sha256.Sum256(b)
	if !SameDigest(p.Digest, DigestPrefix+hex.EncodeToString(sum[:])) {
		return ErrDigestMismatch
	}
	switch {
	case len(key) == 0 && p.Signature != "":
		return ErrNoKey
	case len(key) == 0:
		return nil
	case p.Signature == "":
		return ErrUnsigned
	case !hmac.Equal([]byte(strings.ToLower(strings.TrimSpace(p.Signature))), []byte(sign(b, key))):
		return ErrBadSignature
	}
	return nil
}

// CheckApproved refuses a plan whose digest is not approved (apply
// --approve). The approved digest may leave out "sha256:"; case does not
// matter. The plan's digest must hold (CheckSeal) for this to mean
// anything: it is recomputed here too.
func CheckApproved(p *Plan, approved string) error {
	d, err := Digest(p)
	if err != nil {
		return err
	}
	if !SameDigest(approved, d) {
		return fmt.Errorf("%w: approved %s, this plan is %s", ErrNotApproved, shortDigest(approved), d)
	}
	return nil
}

// SameDigest reports whether two digests are the same, with or without the
// "sha256:" prefix, in any case. An empty digest is the same as none.
func SameDigest(a, b string) bool {
	a, b = normDigest(a), normDigest(b)
	return a != "" && a == b
}

func normDigest(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.TrimPrefix(s, DigestPrefix)
}

// shortDigest quotes a digest given by a person, clipped if it is long.
func shortDigest(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%q", s)
}
