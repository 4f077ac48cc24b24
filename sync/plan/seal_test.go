package plan

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// TestDigest: the digest is deterministic, survives the plan file's round
// trip, ignores the digest and signature fields, and moves with any edit.
func TestDigest(t *testing.T) {
	p, _ := scopeFixture()
	d1, err := Digest(p)
	if err != nil {
		t.Fatal(err)
	}
	if !digestRE.MatchString(d1) {
		t.Fatalf("digest %q: want sha256:<64 hex>", d1)
	}
	if d2, _ := Digest(p); d2 != d1 {
		t.Errorf("the digest moved between two calls: %s, %s", d1, d2)
	}
	if err := Seal(p, []byte("0123456789abcdef-key")); err != nil {
		t.Fatal(err)
	}
	if p.Digest != d1 {
		t.Errorf("Seal set %s, Digest says %s", p.Digest, d1)
	}
	if d, _ := Digest(p); d != d1 {
		t.Errorf("the digest covers the digest or signature fields: %s, want %s", d, d1)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := Digest(back); d != d1 {
		t.Errorf("the digest of the plan read back is %s, want %s", d, d1)
	}

	edits := map[string]func(p *Plan){
		"root_id":         func(p *Plan) { p.Account.RootID = 1 },
		"api_url":         func(p *Plan) { p.Account.APIURL = "" },
		"caller":          func(p *Plan) { p.Account.CallerUserID = 0 },
		"forced":          func(p *Plan) { p.Forced = true },
		"a field's after": func(p *Plan) { p.Changes[1].Fields[0].After = "Somerville" },
		"a change added": func(p *Plan) {
			p.Changes = append(p.Changes, Change{ID: 10, Action: Delete, Kind: KindGroup, Key: "X", ObjectID: 9})
		},
		"a change dropped": func(p *Plan) { p.Changes = p.Changes[1:] },
		"the order":        func(p *Plan) { p.Changes[0], p.Changes[1] = p.Changes[1], p.Changes[0] },
		"a reason":         func(p *Plan) { p.Changes[0].Reason = "because" },
	}
	for name, edit := range edits {
		q, _ := Unmarshal(b)
		edit(q)
		if d, _ := Digest(q); d == d1 {
			t.Errorf("%s edited: the digest did not move", name)
		}
		if err := CheckSeal(q, nil); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrNoKey) {
			t.Errorf("%s edited: CheckSeal = %v, want a refusal", name, err)
		}
	}
}

// TestCheckSeal: each key case, each way a file may be wrong.
func TestCheckSeal(t *testing.T) {
	key := []byte("a plan key of enough bytes")
	other := []byte("another plan key, as long")
	sealed := func(k []byte, edit func(p *Plan)) *Plan {
		p, _ := scopeFixture()
		if err := Seal(p, k); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(p)
		}
		return p
	}
	tests := []struct {
		name string
		p    *Plan
		key  []byte
		want error
	}{
		{"unsigned, no key", sealed(nil, nil), nil, nil},
		{"signed, its key", sealed(key, nil), key, nil},
		{"no digest", sealed(nil, func(p *Plan) { p.Digest = "" }), nil, ErrNoDigest},
		{"edited after sealing", sealed(nil, func(p *Plan) { p.Account.RootID = 1 }), nil, ErrDigestMismatch},
		{"the digest in capitals, without its prefix", sealed(nil, func(p *Plan) { p.Digest = strings.ToUpper(strings.TrimPrefix(p.Digest, DigestPrefix)) }), nil, nil},
		{"unsigned, a key set", sealed(nil, nil), key, ErrUnsigned},
		{"signed with another key", sealed(other, nil), key, ErrBadSignature},
		{"signed, no key set", sealed(key, nil), nil, ErrNoKey},
		{"signed, then edited and its digest recomputed", sealed(key, func(p *Plan) {
			p.Account.RootID = 1
			d, _ := Digest(p)
			p.Digest = d
		}), key, ErrBadSignature},
		{"a signature copied from another plan", sealed(key, func(p *Plan) {
			q, _ := scopeFixture()
			q.Forced = true
			_ = Seal(q, key)
			p.Account.RootID = 1
			p.Digest, p.Signature = q.Digest, q.Signature
		}), key, ErrDigestMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSeal(tt.p, tt.key)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("CheckSeal = %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), string(key)) || strings.Contains(err.Error(), string(other))) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
	if err := Seal(sealed(nil, nil), []byte("k3y!x")); err == nil || strings.Contains(err.Error(), "k3y!x") {
		t.Errorf("Seal with a 5-byte key = %v, want a refusal that does not show the key", err)
	}
}

func TestCheckApproved(t *testing.T) {
	p, _ := scopeFixture()
	if err := Seal(p, nil); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{p.Digest, strings.ToUpper(p.Digest), strings.TrimPrefix(p.Digest, DigestPrefix), " " + p.Digest + "\n"} {
		if err := CheckApproved(p, ok); err != nil {
			t.Errorf("approved %q: %v", ok, err)
		}
	}
	q, _ := scopeFixture()
	q.Account.RootID = 1
	_ = Seal(q, nil)
	for _, bad := range []string{"", "sha256:", q.Digest, p.Digest[:20], "sha256:" + strings.Repeat("0", 64)} {
		if err := CheckApproved(p, bad); !errors.Is(err, ErrNotApproved) {
			t.Errorf("approved %q: %v, want ErrNotApproved", bad, err)
		}
	}
}
