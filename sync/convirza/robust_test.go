package convirza

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRateLimitReset(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tt := range []struct {
		name, v string
		want    time.Duration
	}{
		{"absent", "", 0},
		{"unix seconds", unix(5 * time.Second), 5 * time.Second},
		{"unix seconds, spaces", " " + unix(2*time.Second) + " ", 2 * time.Second},
		{"unix milliseconds", strconv.FormatInt(now.Add(1500*time.Millisecond).UnixMilli(), 10), 1500 * time.Millisecond},
		{"small: seconds from now", "3", 3 * time.Second},
		{"a fraction of a second from now", "0.25", 250 * time.Millisecond},
		{"an HTTP date", now.Add(4 * time.Second).Format(http.TimeFormat), 4 * time.Second},
		{"RFC 3339", now.Add(6 * time.Second).Format(time.RFC3339), 6 * time.Second},
		{"past", unix(-10 * time.Second), 0},
		{"now", unix(0), 0},
		{"too far: skew or a quota window", unix(2 * time.Hour), 0},
		{"too far, from now", "7200", 0},
		{"negative", "-3", 0},
		{"zero", "0", 0},
		{"NaN", "NaN", 0},
		{"Inf", "+Inf", 0},
		{"huge", "1e300", 0},
		{"text", "soon", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.v != "" {
				h.Set("X-RateLimit-Reset", tt.v)
			}
			if got := parseRateLimitReset(h, now); got != tt.want {
				t.Errorf("X-RateLimit-Reset %q = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestRateLimitBackoff(t *testing.T) {
	for _, tt := range []struct {
		n          int
		maxBackoff time.Duration
		lo, hi     time.Duration
	}{
		{0, 5 * time.Millisecond, time.Second, time.Second}, // a tiny MaxBackoff does not cut the 1 s floor
		{7, 5 * time.Millisecond, time.Second, time.Second},
		{0, 30 * time.Second, time.Second, 1250 * time.Millisecond},
		{1, 30 * time.Second, 2 * time.Second, 2500 * time.Millisecond},
		{3, 30 * time.Second, 8 * time.Second, 10 * time.Second},
		{5, 30 * time.Second, 30 * time.Second, 30 * time.Second},
		{62, 30 * time.Second, 30 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if d := rateLimitBackoff(tt.n, tt.maxBackoff); d < tt.lo || d > tt.hi {
				t.Fatalf("rateLimitBackoff(%d, %v) = %v, outside [%v, %v]", tt.n, tt.maxBackoff, d, tt.lo, tt.hi)
			}
		}
	}
}

// TestRateLimitRetries: 429s are retried on a budget of their own (a total
// wait), not on MaxRetries, and wait for Retry-After, else X-RateLimit-Reset.
func TestRateLimitRetries(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		budget     time.Duration
		header     map[string]string // on every 429
		statuses   []int             // answered in turn; the last one repeats
		wantCalls  int64
		wantErr    string // "" for success
		minElapsed time.Duration
	}{
		{name: "Retry-After: five 429s pass MaxRetries 1", maxRetries: 1, budget: time.Second,
			header: map[string]string{"Retry-After": "0.01"}, statuses: []int{429, 429, 429, 429, 429, 200},
			wantCalls: 6, minElapsed: 50 * time.Millisecond},
		{name: "X-RateLimit-Reset in seconds from now is waited for", maxRetries: 1, budget: time.Second,
			header: map[string]string{"X-RateLimit-Reset": "0.08"}, statuses: []int{429, 200},
			wantCalls: 2, minElapsed: 75 * time.Millisecond},
		{name: "no delay named: the wait budget is spent, then it gives up", maxRetries: 3, budget: 60 * time.Millisecond,
			statuses: []int{429}, wantCalls: 2, wantErr: "gave up after 1 retries on 429", minElapsed: 60 * time.Millisecond},
		{name: "a Retry-After past the budget is not waited for", maxRetries: 3, budget: time.Second,
			header: map[string]string{"Retry-After": "5"}, statuses: []int{429, 200},
			wantCalls: 1, wantErr: "not retried: the wait asked for (5s) is longer than the 1s"},
		{name: "retries off", maxRetries: -1, budget: time.Second,
			header: map[string]string{"Retry-After": "0.01"}, statuses: []int{429, 200}, wantCalls: 1, wantErr: "429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t, func(o *Options) { o.MaxRetries = tt.maxRetries; o.MaxRateLimitWait = tt.budget })
			var n atomic.Int64
			mux.HandleFunc("/v3/groups/7", func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				if st == 429 {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					reply(w, 429, "")
					return
				}
				reply(w, 200, `{"orgUnitId": 7}`)
			})
			start := time.Now()
			_, err := c.Groups.Patch(context.Background(), 7, GroupPatch{City: ptr("Boston")})
			elapsed := time.Since(start)
			if got := n.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "":
				var re *RateLimitError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want a *RateLimitError saying %q", err, tt.wantErr)
				}
			}
			if elapsed < tt.minElapsed {
				t.Errorf("took %v, want at least %v", elapsed, tt.minElapsed)
			}
			want429 := tt.wantCalls // every answer was a 429, or all but the last
			if tt.wantErr == "" {
				want429--
			}
			if s := c.Stats(); s.RateLimited != want429 || s.Retries != tt.wantCalls-1 {
				t.Errorf("stats %+v, want %d 429s and %d retries", s, want429, tt.wantCalls-1)
			}
		})
	}
}

// TestFindExtIDListingLoop: child listings that disagree with the tree (2's
// children include its own parent) used to send findExtID round the loop
// until the deadline.
func TestFindExtIDListingLoop(t *testing.T) {
	tests := []struct {
		name string
		// list serves GET /v3/groups/list for a parent at an offset.
		list      func(parent string, offset int) string
		wantErr   []string
		wantStats FetchStats
	}{
		{
			name: "a listing names an ancestor",
			list: func(parent string, _ int) string {
				switch parent {
				case "1":
					return `{"groups":[{"org_unit_id":2,"org_unit_name":"Two","org_unit_parent_id":1}],"total":1}`
				default: // 2 lists its parent, not its child 3
					return `{"groups":[{"org_unit_id":1,"org_unit_name":"Top","org_unit_ext_id":"TOP"}],"total":1}`
				}
			},
			wantErr: []string{`find root "NOPE": no group under the caller's group has this ext id`,
				"the child listings disagree with the group tree"},
			wantStats: FetchStats{Calls: 4, TreeCalls: 1, GroupListCalls: 2, RootCalls: 1},
		},
		{
			name: "a listing pages on and on",
			list: func(parent string, offset int) string {
				// One row a page, each new, and a total of a million: only the
				// call budget (2 + 2 per parent of the tree) stops the walk.
				return fmt.Sprintf(`{"groups":[{"org_unit_id":%d,"org_unit_name":"G%d","org_unit_parent_id":%s}],"total":1000000}`,
					1000+offset, offset, parent)
			},
			// 1's pages at offsets 0 to 5 spend the budget of 2 + 2×2; the
			// 7th is refused before it is sent.
			wantErr:   []string{"list child groups of 1, offset 6: gave up after 6 listing calls: the child listings disagree with the group tree"},
			wantStats: FetchStats{Calls: 7, TreeCalls: 1, GroupListCalls: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.HandleFunc("/v3/groups/tree", func(w http.ResponseWriter, r *http.Request) {
				reply(w, 200, `{"groups":[{"org_unit_id":1,"text":"Top","code":"1"},{"org_unit_id":2,"text":"Two","code":"1.1"},{"org_unit_id":3,"text":"Three","code":"1.1.1"}]}`)
			})
			mux.HandleFunc("/v3/groups/list", func(w http.ResponseWriter, r *http.Request) {
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				reply(w, 200, tt.list(r.URL.Query().Get("org_unit_id"), off))
			})
			mux.HandleFunc("/v3/groups/1", func(w http.ResponseWriter, r *http.Request) {
				reply(w, 200, `{"org_unit_id":1,"org_unit_name":"Top","org_unit_ext_id":"TOP"}`)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, fs, err := c.FetchState(ctx, FetchOptions{Root: "NOPE"})
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want a clear error before the deadline", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to say %q", err, want)
				}
			}
			fs.Duration = 0
			if diff := cmp.Diff(tt.wantStats, fs); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetchStateUserTotalNotTrusted: a user listing whose total is far more
// than its rows used to schedule a page read for every 200 of the total.
func TestFetchStateUserTotalNotTrusted(t *testing.T) {
	row := func(id int) string {
		return fmt.Sprintf(`{"ct_user_id":%d,"email":"u%d@x.example","group_org_unit_id":1,"group_external_id":"TOP","role":"Admin"}`, id, id)
	}
	tests := []struct {
		name string
		// rows serves the user rows of a page; total is what every page says.
		rows      func(offset, limit int) []string
		total     int
		wantErr   string // "" for success
		wantUsers int
		wantCalls int // user listing calls
	}{
		{name: "an empty first page with a total of 20 million",
			rows: func(int, int) []string { return nil }, total: 20_000_000,
			wantErr: "list users of 1: the listing changed while it was read (0 distinct rows for a total of 20000000)", wantCalls: 2},
		{name: "one full page, then empty pages, with a total of 20 million",
			rows: func(off, limit int) []string {
				if off > 0 {
					return nil
				}
				var out []string
				for i := range limit {
					out = append(out, row(1+i))
				}
				return out
			}, total: 20_000_000,
			// Page 0, the 4 pages read ahead (Concurrency 4), which come back
			// empty and end the read-ahead; then pages 0 and 200 read again.
			wantErr: "(200 distinct rows for a total of 20000000)", wantCalls: 7},
		{name: "short pages: the rest is walked, page after page, to the total",
			rows: func(off, limit int) []string {
				var out []string
				for i := off; i < min(off+min(limit, 100), 450); i++ {
					out = append(out, row(1+i))
				}
				return out
			}, total: 450, wantUsers: 450, wantCalls: 5},
		{name: "full pages: exactly the pages the total needs",
			rows: func(off, limit int) []string {
				var out []string
				for i := off; i < min(off+limit, 1234); i++ {
					out = append(out, row(1+i))
				}
				return out
			}, total: 1234, wantUsers: 1234, wantCalls: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A ceiling above the totals: what is tested here is that a total
			// alone schedules no page (TestBoundedListings tests the ceiling).
			c, mux, _ := setup(t, func(o *Options) { o.MaxListingRows = 1 << 30 })
			mux.HandleFunc("/v3/groups/tree", func(w http.ResponseWriter, r *http.Request) {
				reply(w, 200, `{"groups":[{"org_unit_id":1,"text":"Top","code":"1"}]}`)
			})
			mux.HandleFunc("/v3/users/list", func(w http.ResponseWriter, r *http.Request) {
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
				reply(w, 200, fmt.Sprintf(`{"users":[%s],"total":%d}`, strings.Join(tt.rows(off, limit), ","), tt.total))
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cs, fs, err := c.FetchState(ctx, FetchOptions{Concurrency: 4})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			case err == nil && len(cs.Users) != tt.wantUsers:
				t.Errorf("%d users, want %d", len(cs.Users), tt.wantUsers)
			}
			if fs.UserListCalls != tt.wantCalls || fs.RootCalls != 0 {
				t.Errorf("%d user listing calls, %d root calls; want %d, 0", fs.UserListCalls, fs.RootCalls, tt.wantCalls)
			}
		})
	}
}
