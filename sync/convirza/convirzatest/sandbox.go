package convirzatest

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/statefile"
)

// Password is the one password the sandbox accepts, for any email.
const Password = "sandbox"

// DefaultLoginLimit is the documented login limit: requests per minute per IP.
const DefaultLoginLimit = 10

// MaxBodyBytes is the largest request body the sandbox reads; a larger one
// is answered 413.
const MaxBodyBytes = 1 << 20

// DefaultCallLogLimit is how many calls the log keeps when Options.CallLogLimit is 0.
const DefaultCallLogLimit = 100_000

// Shapes switches the response shapes where the docs contradict themselves,
// so that a client is tested against both.
type Shapes struct {
	// NestedTree serves /v3/groups/tree as nested nodes with children,
	// org_unit_parent_id and coded_level instead of the flat dotted-code list.
	NestedTree bool
	// WrappedGroupDetail serves GET /v3/groups/{id} as data.group.
	WrappedGroupDetail bool
	// WrappedUserDetail serves GET /v3/users/{id} as data.user.
	WrappedUserDetail bool
	// WrappedIndustries serves /v3/industry as {"industries": [...]} instead of a bare array.
	WrappedIndustries bool
	// GroupTimestampNames names group timestamps group_created/group_modified
	// instead of org_unit_created/org_unit_modified.
	GroupTimestampNames bool
	// PhoneDashes stores North American phone numbers written by POST and
	// PATCH as "+1-212-555-0100", whatever format was sent.
	PhoneDashes bool
}

// DeleteSemantics says what DELETE /v3/groups/{id} does to a group that
// still holds child groups or users: one of the dialect switches, for the
// points where the API's behaviour is not documented and a client must be
// safe under every reading.
type DeleteSemantics string

// The delete semantics.
const (
	// DeleteRefuse (the default, also "") refuses with 400 the delete of a
	// group that has a child group that is not deleted, or an active user.
	DeleteRefuse DeleteSemantics = "refuse"
	// DeleteCascade is the older (v2) backend: the delete soft-deletes the
	// group, its direct child groups and every user of those groups,
	// whatever their status, and refuses nothing but the top group (and the
	// caller's own group). Grandchildren are left under a deleted parent.
	DeleteCascade DeleteSemantics = "cascade"
)

// ParseDeleteSemantics reads a DeleteSemantics by name ("" is refuse).
func ParseDeleteSemantics(s string) (DeleteSemantics, error) {
	switch d := DeleteSemantics(s); d {
	case "", DeleteRefuse:
		return DeleteRefuse, nil
	case DeleteCascade:
		return d, nil
	}
	return "", fmt.Errorf("delete semantics %q: want refuse or cascade", s)
}

// Options configures a Sandbox. The zero value is a well-behaved sandbox with
// the documented login limit and no faults.
type Options struct {
	// LoginLimit is the number of POST /oauth/token calls allowed per minute
	// per remote IP: 0 means DefaultLoginLimit, a negative value turns it off.
	LoginLimit int
	// Latency is added to every call; the wait ends early when the client
	// gives up (the request context is done).
	Latency time.Duration
	// RateLimit is a token bucket over /v3 calls in requests per second
	// (0 = off); RateBurst is its size (0 = max(1, RateLimit)). A refused call
	// gets 429 with Retry-After and X-RateLimit-* headers.
	RateLimit float64
	RateBurst int
	// FailRate is the share (0..1) of /v3 calls answered 500, 502, 503 or
	// 504 before any handler runs, so no write is made.
	FailRate float64
	// AmbiguousRate is the share (0..1) of POST creates (groups and users)
	// that are applied and then answered by dropping the connection.
	AmbiguousRate float64
	// ExpireAfter makes every access token (the static one included) die
	// after that many authenticated calls; it answers 401 until refreshed.
	// 0 means never.
	ExpireAfter int
	// Shapes picks the response shapes.
	Shapes Shapes
	// DeleteSemantics picks what a group delete does to what the group
	// holds: refuse ("" or DeleteRefuse) or cascade (DeleteCascade).
	DeleteSemantics DeleteSemantics
	// Dialect picks the reading of each undocumented or contradicted point
	// (page cap, role spellings, expires_in, List Groups).
	Dialect Dialect
	// Seed seeds the fault randomness (FailRate, AmbiguousRate).
	Seed int64
	// CallLogLimit caps the call log (the oldest calls are dropped): 0 means
	// DefaultCallLogLimit, a negative value keeps every call.
	CallLogLimit int
}

// Sandbox is an in-memory Convirza v3 account. Its methods are safe for
// concurrent use.
type Sandbox struct {
	// mu guards the account (groups, users, industries) and the tokens.
	mu           sync.Mutex
	top          int64
	groups       map[int64]*Group
	children     map[int64][]int64 // sorted ids, every status
	users        map[int64]*User
	usersByGroup map[int64][]int64 // sorted ids, every status
	emails       map[string]int64  // emailKey -> id of the non-deleted user
	industries   []Industry
	industryName map[int64]string
	nextGroupID  int64
	nextUserID   int64
	adminUserID  int64 // the synthetic top-group admin (no user record)
	version      uint64
	userCache    map[userQuery][]int64
	cacheVersion uint64

	staticToken   string
	staticRevoked bool
	access        map[string]*session
	refresh       map[string]*refreshToken

	// cfgMu guards the fault switches and their state.
	cfgMu      sync.Mutex
	opts       Options
	rng        *rand.Rand
	bucket     float64
	bucketAt   time.Time
	dropNext   int
	loginHits  map[string][]time.Time
	callsLimit int

	logMu sync.Mutex
	calls []Call
}

// New returns a sandbox holding DefaultState.
func New(opts Options) *Sandbox {
	s, err := NewFromState(DefaultState(), opts)
	if err != nil {
		// DefaultState is valid by construction; a failure here is a bug in
		// this package, not a user error.
		panic(fmt.Sprintf("convirzatest: default state: %v", err))
	}
	return s
}

// NewFromState returns a sandbox holding st, which it validates first.
func NewFromState(st State, opts Options) (*Sandbox, error) {
	s := &Sandbox{
		opts:        opts,
		rng:         rand.New(rand.NewPCG(uint64(opts.Seed), 0x5a4db0c5)),
		loginHits:   map[string][]time.Time{},
		staticToken: "sbx_" + randomHex(20),
		access:      map[string]*session{},
		refresh:     map[string]*refreshToken{},
	}
	s.bucket = float64(s.burstLocked())
	s.bucketAt = time.Now()
	s.setCallLimitLocked(opts.CallLogLimit)
	if err := s.replaceState(st); err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	return s, nil
}

// replaceState validates st and makes it the account. Tokens survive, except
// those whose scope no longer exists.
func (s *Sandbox) replaceState(st State) error {
	c, err := st.Normalized()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.top = c.TopGroupID
	s.groups = make(map[int64]*Group, len(c.Groups))
	s.children = make(map[int64][]int64, len(c.Groups))
	s.users = make(map[int64]*User, len(c.Users))
	s.usersByGroup = make(map[int64][]int64)
	s.emails = make(map[string]int64, len(c.Users))
	s.industries = c.Industries
	s.industryName = make(map[int64]string, len(c.Industries))
	for _, in := range c.Industries {
		s.industryName[in.ID] = in.Name
	}
	var maxG, maxU int64
	for i := range c.Groups {
		g := c.Groups[i]
		s.groups[g.ID] = &g
		if g.ParentID != 0 {
			s.children[g.ParentID] = append(s.children[g.ParentID], g.ID)
		}
		maxG = max(maxG, g.ID)
	}
	for _, ids := range s.children {
		slices.Sort(ids)
	}
	for i := range c.Users {
		u := c.Users[i]
		s.users[u.ID] = &u
		s.usersByGroup[u.GroupID] = append(s.usersByGroup[u.GroupID], u.ID)
		if u.Status != state.StatusDeleted {
			s.emails[emailKey(u.Email)] = u.ID
		}
		maxU = max(maxU, u.ID)
	}
	for _, ids := range s.usersByGroup {
		slices.Sort(ids)
	}
	s.adminUserID = 1
	for s.users[s.adminUserID] != nil {
		s.adminUserID++
	}
	s.nextGroupID = max(maxG+1, 1002)
	s.nextUserID = max(maxU+1, s.adminUserID+1, 10001)
	s.version++
	for tok, se := range s.access {
		if s.groups[se.orgUnitID] == nil {
			delete(s.access, tok)
		}
	}
	for tok, rt := range s.refresh {
		if s.groups[rt.sess.orgUnitID] == nil {
			delete(s.refresh, tok)
		}
	}
	return nil
}

// LoadState replaces the account with the state file read from r. Tokens
// stay valid while their group exists.
func (s *Sandbox) LoadState(r io.Reader) error {
	st, err := ReadState(r)
	if err != nil {
		return fmt.Errorf("load sandbox state: %w", err)
	}
	if err := s.replaceState(st); err != nil {
		return fmt.Errorf("load sandbox state: %w", err)
	}
	return nil
}

// SaveState writes the account as a state file.
func (s *Sandbox) SaveState(w io.Writer) error {
	if err := s.Snapshot().Write(w); err != nil {
		return fmt.Errorf("save sandbox state: %w", err)
	}
	return nil
}

// Snapshot returns a deep copy of the account, sorted by id.
func (s *Sandbox) Snapshot() State {
	s.mu.Lock()
	st := State{Version: StateVersion, TopGroupID: s.top,
		Groups:     make([]Group, 0, len(s.groups)),
		Users:      make([]User, 0, len(s.users)),
		Industries: slices.Clone(s.industries)}
	for _, g := range s.groups {
		st.Groups = append(st.Groups, *g)
	}
	for _, u := range s.users {
		c := *u
		c.Aliases = slices.Clone(u.Aliases)
		st.Users = append(st.Users, c)
	}
	s.mu.Unlock()
	st.Sort()
	return st
}

// TopGroupID returns the id of the account's top group.
func (s *Sandbox) TopGroupID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.top
}

// AdminUserID is the user_id of the synthetic top-group admin: the user of
// the static token, and of a login whose email matches no active user. It
// names no user record, so it is never listed.
func (s *Sandbox) AdminUserID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.adminUserID
}

// Token returns the static bearer token, bound to the top group's admin. It
// never expires unless ExpireAfter is set, and revoke-token kills it like
// any other access token.
func (s *Sandbox) Token() string { return s.staticToken }

// Group returns a copy of one group, of any status.
func (s *Sandbox) Group(id int64) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return Group{}, false
	}
	return *g, true
}

// User returns a copy of one user, of any status.
func (s *Sandbox) User(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	c := *u
	c.Aliases = slices.Clone(u.Aliases)
	return c, true
}

// SetLatency sets the latency added to every call.
func (s *Sandbox) SetLatency(d time.Duration) {
	s.cfgMu.Lock()
	s.opts.Latency = d
	s.cfgMu.Unlock()
}

// SetFailRate sets the share (0..1) of /v3 calls answered with a 5xx.
func (s *Sandbox) SetFailRate(f float64) {
	s.cfgMu.Lock()
	s.opts.FailRate = f
	s.cfgMu.Unlock()
}

// SetRateLimit sets the token bucket on /v3 calls: rps requests per second
// (0 = off) and burst (0 = max(1, rps)). The bucket starts full.
func (s *Sandbox) SetRateLimit(rps float64, burst int) {
	s.cfgMu.Lock()
	s.opts.RateLimit = rps
	s.opts.RateBurst = burst
	s.bucket = float64(s.burstLocked())
	s.bucketAt = time.Now()
	s.cfgMu.Unlock()
}

// SetAmbiguousRate sets the share (0..1) of POST creates that are applied
// and then answered by dropping the connection.
func (s *Sandbox) SetAmbiguousRate(f float64) {
	s.cfgMu.Lock()
	s.opts.AmbiguousRate = f
	s.cfgMu.Unlock()
}

// DropNextCreates makes the next n successful POST creates ambiguous: they
// are applied, then the connection is dropped. A refused create does not
// count.
func (s *Sandbox) DropNextCreates(n int) {
	s.cfgMu.Lock()
	s.dropNext = max(n, 0)
	s.cfgMu.Unlock()
}

// SetExpireAfter makes access tokens die after n authenticated calls (0 = never).
func (s *Sandbox) SetExpireAfter(n int) {
	s.cfgMu.Lock()
	s.opts.ExpireAfter = n
	s.cfgMu.Unlock()
}

// SetLoginLimit sets the login limit per minute per IP (0 = the default of
// 10, negative = off) and forgets the logins counted so far.
func (s *Sandbox) SetLoginLimit(n int) {
	s.cfgMu.Lock()
	s.opts.LoginLimit = n
	s.loginHits = map[string][]time.Time{}
	s.cfgMu.Unlock()
}

// SetShapes switches the response shapes.
func (s *Sandbox) SetShapes(sh Shapes) {
	s.cfgMu.Lock()
	s.opts.Shapes = sh
	s.cfgMu.Unlock()
}

func (s *Sandbox) shapes() Shapes {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.opts.Shapes
}

func (s *Sandbox) burstLocked() int {
	if s.opts.RateBurst > 0 {
		return s.opts.RateBurst
	}
	return max(1, int(s.opts.RateLimit))
}

func (s *Sandbox) setCallLimitLocked(n int) {
	switch {
	case n == 0:
		s.callsLimit = DefaultCallLogLimit
	case n < 0:
		s.callsLimit = 0
	default:
		s.callsLimit = n
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newRequestID returns a random UUID (version 4).
func newRequestID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// emailKey is the form in which emails are compared: the state file's.
func emailKey(e string) string { return statefile.EmailKey(e) }

// sameName compares sibling names: ignoring case and surrounding spaces.
func sameName(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) }

// Handler returns the sandbox as an http.Handler that serves both hosts:
// /oauth/... (auth) and /v3/... (API).
func (s *Sandbox) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }
