package convirzatest

import (
	"time"
)

// The documented token lifetimes.
const (
	accessLife  = 7 * 24 * time.Hour
	refreshLife = 180 * 24 * time.Hour
)

// session is what an access token stands for.
type session struct {
	userID    int64
	email     string
	orgUnitID int64 // the caller's scope: this group and everything below it
	expires   time.Time
	calls     int // authenticated calls made with the token
	static    bool
	refresh   string // the refresh token issued with it ("" for the static token)
}

// refreshToken is an unused refresh token.
type refreshToken struct {
	sess    session // a template for the next access token
	access  string  // the access token issued with it
	expires time.Time
}

// issue creates an access and refresh token pair for sess. The caller holds s.mu.
func (s *Sandbox) issueLocked(sess session, now time.Time) (access, refresh string, accessExp, refreshExp time.Time) {
	access = "at_" + randomHex(24)
	refresh = "rt_" + randomHex(24)
	accessExp = now.Add(accessLife)
	refreshExp = now.Add(refreshLife)
	a := sess
	a.expires = accessExp
	a.calls = 0
	a.static = false
	a.refresh = refresh
	s.access[access] = &a
	s.refresh[refresh] = &refreshToken{sess: a, access: access, expires: refreshExp}
	return access, refresh, accessExp, refreshExp
}

// authFailure says why a bearer token was refused.
type authFailure int

const (
	authOK authFailure = iota
	authMissing
	authUnknown
	authExpired
)

// authenticateLocked checks a bearer token and counts the call. The caller
// holds s.mu; expireAfter is read from the options beforehand.
func (s *Sandbox) authenticateLocked(token string, expireAfter int, now time.Time) (*session, authFailure) {
	if token == "" {
		return nil, authMissing
	}
	se, ok := s.access[token]
	if !ok && token == s.staticToken {
		// The static token is created lazily, so that a revoked static
		// token stays revoked (revoked tokens are tombstoned below).
		if s.staticRevoked {
			return nil, authUnknown
		}
		se = &session{userID: s.adminUserID, orgUnitID: s.top, static: true, expires: now.Add(accessLife)}
		s.access[token] = se
		ok = true
	}
	if !ok {
		return nil, authUnknown
	}
	if se.static {
		// The static token follows the account, even across LoadState.
		se.orgUnitID, se.userID = s.top, s.adminUserID
	}
	if s.groups[se.orgUnitID] == nil {
		return nil, authUnknown
	}
	if now.After(se.expires) {
		return nil, authExpired
	}
	if expireAfter > 0 && se.calls >= expireAfter {
		return nil, authExpired
	}
	se.calls++
	se.expires = now.Add(accessLife) // renewed on each authenticated call
	return se, authOK
}
