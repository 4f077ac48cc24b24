package convirzatest

import (
	"math"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

type tokenData struct {
	AccessToken      string    `json:"access_token"`
	RefreshToken     string    `json:"refresh_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        any       `json:"expires_in"`         // an ISO-8601 time, or seconds (Dialect.ExpiresInSeconds)
	RefreshExpiresIn any       `json:"refresh_expires_in"` // the same
	FrontendToken    string    `json:"frontend_token"`
	User             tokenUser `json:"user"`
}

type tokenUser struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	RoleID    int    `json:"role_id"`
	OrgUnitID int64  `json:"org_unit_id"`
}

// serveAuth answers the three calls of the auth host. They need no bearer.
func (s *Sandbox) serveAuth(r *http.Request, p string, body []byte) *reply {
	var handle func(*http.Request, []byte) *reply
	switch p {
	case "/oauth/token":
		handle = s.login
	case "/oauth/refresh-token":
		handle = s.refreshTokens
	case "/oauth/revoke-token":
		handle = s.revoke
	default:
		return errReply(errf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}
	if r.Method != http.MethodPost {
		return methodNotAllowed(r.Method, http.MethodPost)
	}
	return handle(r, body)
}

// login is POST /oauth/token {"email", "password"}.
func (s *Sandbox) login(r *http.Request, body []byte) *reply {
	now := time.Now()
	if rep := s.loginLimited(r, now); rep != nil {
		return rep
	}
	f, err := parseObject(body, false)
	if err != nil {
		return errReply(err)
	}
	email, err := f.str("email")
	if err != nil {
		return errReply(err)
	}
	password, err := f.str("password")
	if err != nil {
		return errReply(err)
	}
	if email == nil || password == nil {
		return errReply(errf(http.StatusBadRequest, "email and password are required"))
	}
	if *password != Password || !validEmail(strings.TrimSpace(*email)) {
		return errReply(errf(http.StatusUnauthorized, "unauthorized: invalid email or password"))
	}
	dl := s.dialect()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := session{userID: s.adminUserID, email: strings.TrimSpace(*email), orgUnitID: s.top}
	if id, found := s.emails[emailKey(*email)]; found {
		if u := s.users[id]; u.Status == state.StatusActive {
			sess = session{userID: u.ID, email: u.Email, orgUnitID: u.GroupID}
		}
	}
	return ok(s.tokenDataLocked(sess, now, dl))
}

// tokenDataLocked issues a token pair for sess. The caller holds s.mu.
func (s *Sandbox) tokenDataLocked(sess session, now time.Time, dl Dialect) tokenData {
	access, refresh, aExp, rExp := s.issueLocked(sess, now)
	role := 1
	if u := s.users[sess.userID]; u != nil {
		role = u.Role.ID()
	}
	var exp, rexp any = formatTime(aExp), formatTime(rExp)
	if dl.ExpiresInSeconds {
		exp, rexp = int64(aExp.Sub(now).Seconds()), int64(rExp.Sub(now).Seconds())
	}
	return tokenData{
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: exp, RefreshExpiresIn: rexp,
		FrontendToken: "ft_" + randomHex(16),
		User:          tokenUser{UserID: sess.userID, Email: sess.email, RoleID: role, OrgUnitID: sess.orgUnitID},
	}
}

// loginLimited counts a login against its IP's limit and answers 429 when
// the limit is reached.
func (s *Sandbox) loginLimited(r *http.Request, now time.Time) *reply {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	limit := s.opts.LoginLimit
	if limit == 0 {
		limit = DefaultLoginLimit
	}
	if limit < 0 {
		return nil
	}
	window := now.Add(-time.Minute)
	hits := s.loginHits[ip]
	i := 0
	for i < len(hits) && !hits[i].After(window) {
		i++
	}
	hits = hits[i:]
	if len(hits) >= limit {
		s.loginHits[ip] = hits
		wait := hits[len(hits)-limit].Add(time.Minute).Sub(now)
		secs := max(1, int(math.Ceil(wait.Seconds())))
		rep := errReply(errf(http.StatusTooManyRequests, "too many login attempts: %d per minute; retry after %d s", limit, secs))
		rep.setHeader("Retry-After", strconv.Itoa(secs))
		return rep
	}
	s.loginHits[ip] = append(hits, now)
	return nil
}

// refreshTokens is POST /oauth/refresh-token {"refresh_token"}: single use;
// it kills the old refresh and access tokens.
func (s *Sandbox) refreshTokens(_ *http.Request, body []byte) *reply {
	f, err := parseObject(body, false)
	if err != nil {
		return errReply(err)
	}
	rt, err := f.str("refresh_token")
	if err != nil {
		return errReply(err)
	}
	if rt == nil || *rt == "" {
		return errReply(fieldErr(http.StatusBadRequest, "refresh_token", "refresh_token is required"))
	}
	now := time.Now()
	dl := s.dialect()
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found := s.refresh[*rt]
	if !found || now.After(old.expires) || s.groups[old.sess.orgUnitID] == nil {
		delete(s.refresh, *rt)
		return errReply(errf(http.StatusUnauthorized, "unauthorized: invalid or used refresh token"))
	}
	delete(s.refresh, *rt)
	delete(s.access, old.access)
	return ok(s.tokenDataLocked(old.sess, now, dl))
}

// revoke is POST /oauth/revoke-token {"token", "token_type"}. It succeeds
// for a token that is unknown or already revoked.
func (s *Sandbox) revoke(_ *http.Request, body []byte) *reply {
	f, err := parseObject(body, false)
	if err != nil {
		return errReply(err)
	}
	tok, err := f.str("token")
	if err != nil {
		return errReply(err)
	}
	typ, err := f.str("token_type")
	if err != nil {
		return errReply(err)
	}
	if tok == nil || *tok == "" {
		return errReply(fieldErr(http.StatusBadRequest, "token", "token is required"))
	}
	if typ == nil || (*typ != "access" && *typ != "refresh") {
		return errReply(fieldErr(http.StatusBadRequest, "token_type", `token_type must be "access" or "refresh"`))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch *typ {
	case "access":
		delete(s.access, *tok)
		if *tok == s.staticToken {
			s.staticRevoked = true
		}
	case "refresh":
		delete(s.refresh, *tok)
	}
	return ok(map[string]bool{"revoked": true})
}

// validEmail accepts a bare address (no display name, no surrounding
// spaces) whose domain has a dot.
func validEmail(s string) bool {
	if s == "" || len(s) > 254 || s != strings.TrimSpace(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
