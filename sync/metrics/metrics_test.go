package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// t0 is 2026-05-01T02:00:00Z, 1777600800 seconds after the epoch.
var t0 = time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)

// nightly is a successful sync with a bit of everything; the two
// group/create/created entries add up to 5.
func nightly() Run {
	return Run{
		Command: "sync",
		Start:   t0,
		End:     t0.Add(83500 * time.Millisecond),
		Success: true,
		Changes: []ChangeCount{
			{Kind: "group", Action: "create", Outcome: "created", N: 3},
			{Kind: "group", Action: "update", Outcome: "updated", N: 2},
			{Kind: "user", Action: "create", Outcome: "failed", N: 1},
			{Kind: "group", Action: "create", Outcome: "created", N: 2},
			{Kind: "user", Action: "deactivate", Outcome: "blocked", N: 0},
		},
		Calls:       map[int]int{200: 40, 201: 5, 429: 3, 500: 1, 0: 2},
		Retries:     4,
		RateLimited: 3,
	}
}

// series is one sample: the metric family's type and the value.
type series struct {
	Type  dto.MetricType
	Value float64
}

// flatten turns metric families into "name{label="value",...}" -> series,
// labels sorted, and fails on anything but plain counters and gauges.
func flatten(t *testing.T, mfs []*dto.MetricFamily) map[string]series {
	t.Helper()
	out := map[string]series{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			if _, dup := out[key]; dup {
				t.Errorf("series %s appears twice", key)
			}
			s := series{Type: mf.GetType()}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				s.Value = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.Value = m.GetGauge().GetValue()
			default:
				t.Errorf("series %s has type %v, want a counter or a gauge", key, mf.GetType())
			}
			out[key] = s
		}
	}
	return out
}

// parseFile reads a metrics file back with the Prometheus text parser.
func parseFile(t *testing.T, path string) map[string]series {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	mfs := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		mfs = append(mfs, mf)
	}
	return flatten(t, mfs)
}

const (
	counter = dto.MetricType_COUNTER
	gauge   = dto.MetricType_GAUGE
)

func TestWriteFile(t *testing.T) {
	failed := nightly()
	failed.Command, failed.Success = "apply", false
	failed.Changes = []ChangeCount{{Kind: "group", Action: "delete", Outcome: "failed", N: 7}}
	failed.Calls = map[int]int{401: 1}
	failed.Retries, failed.RateLimited = 0, 0

	quiet := Run{Start: t0, End: t0.Add(1500 * time.Millisecond), Success: true}

	tests := []struct {
		name string
		run  Run
		want map[string]series
	}{
		{"a successful sync", nightly(), map[string]series{
			`convirza_sync_run_duration_seconds{command="sync"}`:                                            {gauge, 83.5},
			`convirza_sync_run_success{command="sync"}`:                                                     {gauge, 1},
			`convirza_sync_last_success_timestamp_seconds{command="sync"}`:                                  {gauge, 1777600883.5},
			`convirza_sync_changes_total{action="create",command="sync",kind="group",outcome="created"}`:    {counter, 5},
			`convirza_sync_changes_total{action="update",command="sync",kind="group",outcome="updated"}`:    {counter, 2},
			`convirza_sync_changes_total{action="create",command="sync",kind="user",outcome="failed"}`:      {counter, 1},
			`convirza_sync_changes_total{action="deactivate",command="sync",kind="user",outcome="blocked"}`: {counter, 0},
			`convirza_sync_api_calls_total{command="sync",status="200"}`:                                    {counter, 40},
			`convirza_sync_api_calls_total{command="sync",status="201"}`:                                    {counter, 5},
			`convirza_sync_api_calls_total{command="sync",status="429"}`:                                    {counter, 3},
			`convirza_sync_api_calls_total{command="sync",status="500"}`:                                    {counter, 1},
			`convirza_sync_api_calls_total{command="sync",status="transport_error"}`:                        {counter, 2},
			`convirza_sync_api_retries_total{command="sync"}`:                                               {counter, 4},
			`convirza_sync_api_rate_limited_total{command="sync"}`:                                          {counter, 3},
		}},
		{"a failed apply has no last success", failed, map[string]series{
			`convirza_sync_run_duration_seconds{command="apply"}`:                                        {gauge, 83.5},
			`convirza_sync_run_success{command="apply"}`:                                                 {gauge, 0},
			`convirza_sync_changes_total{action="delete",command="apply",kind="group",outcome="failed"}`: {counter, 7},
			`convirza_sync_api_calls_total{command="apply",status="401"}`:                                {counter, 1},
			`convirza_sync_api_retries_total{command="apply"}`:                                           {counter, 0},
			`convirza_sync_api_rate_limited_total{command="apply"}`:                                      {counter, 0},
		}},
		{"no command, no changes, no calls", quiet, map[string]series{
			`convirza_sync_run_duration_seconds{}`:           {gauge, 1.5},
			`convirza_sync_run_success{}`:                    {gauge, 1},
			`convirza_sync_last_success_timestamp_seconds{}`: {gauge, 1777600801.5},
			`convirza_sync_api_retries_total{}`:              {counter, 0},
			`convirza_sync_api_rate_limited_total{}`:         {counter, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			if err := WriteFile(path, tt.run); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if diff := cmp.Diff(tt.want, parseFile(t, path)); diff != "" {
				t.Errorf("metrics file (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := umasked(t, 0o644); fi.Mode().Perm() != want {
				t.Errorf("mode = %v, want %v: 0644 less the umask (a collector in another uid reads it)", fi.Mode().Perm(), want)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %v, want only metrics.prom (no temporary file left)", names)
			}
		})
	}
}

// TestWriteFileKeepsLastSuccess: a failed run keeps the last success of an
// earlier run of the same command, and only of the same command.
func TestWriteFileKeepsLastSuccess(t *testing.T) {
	const key = `convirza_sync_last_success_timestamp_seconds{command="sync"}`
	path := filepath.Join(t.TempDir(), "metrics.prom")
	if err := WriteFile(path, nightly()); err != nil {
		t.Fatal(err)
	}

	next := nightly()
	next.Start, next.End, next.Success = t0.Add(24*time.Hour), t0.Add(24*time.Hour+10*time.Second), false
	if err := WriteFile(path, next); err != nil {
		t.Fatal(err)
	}
	got := parseFile(t, path)
	want := map[string]series{
		key: {gauge, 1777600883.5},
		`convirza_sync_run_success{command="sync"}`:          {gauge, 0},
		`convirza_sync_run_duration_seconds{command="sync"}`: {gauge, 10},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("after a failed night, %s (-want +got):\n%s", k, diff)
		}
	}

	other := next
	other.Command = "apply"
	if err := WriteFile(path, other); err != nil {
		t.Fatal(err)
	}
	for k := range parseFile(t, path) {
		if strings.HasPrefix(k, "convirza_sync_last_success_timestamp_seconds") {
			t.Errorf("a failed apply took over the last success of sync: %s", k)
		}
	}
}

func badRuns() map[string]Run {
	with := func(f func(*Run)) Run { r := nightly(); f(&r); return r }
	return map[string]Run{
		"no start":           with(func(r *Run) { r.Start = time.Time{} }),
		"no end":             with(func(r *Run) { r.End = time.Time{} }),
		"ends before starts": with(func(r *Run) { r.End = r.Start.Add(-time.Second) }),
		"negative change":    with(func(r *Run) { r.Changes[0].N = -1 }),
		"change lacks kind":  with(func(r *Run) { r.Changes[0].Kind = "" }),
		"status 42":          with(func(r *Run) { r.Calls[42] = 1 }),
		"negative calls":     with(func(r *Run) { r.Calls[200] = -3 }),
		"negative retries":   with(func(r *Run) { r.Retries = -1 }),
		"negative 429s":      with(func(r *Run) { r.RateLimited = -1 }),
	}
}

// TestWriteFileRefusesBadRuns: a run that cannot be true is an error, and
// the file already there stays as it was.
func TestWriteFileRefusesBadRuns(t *testing.T) {
	for name, r := range badRuns() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.prom")
			const before = "# an earlier run\n"
			if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			err := WriteFile(path, r)
			if err == nil {
				t.Fatal("WriteFile: no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != before {
				t.Errorf("the file was changed to %q", got)
			}
		})
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "metrics.prom")
	err := WriteFile(path, nightly())
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile into a missing directory: %v, want an error naming %s that is os.ErrNotExist", err, path)
	}
}

// gateway is a fake Pushgateway that records what it is sent.
type gateway struct {
	mu     sync.Mutex
	status int
	reqs   []pushed
}

type pushed struct {
	Method, Path, Auth string
	Metrics            map[string]series
}

func newGateway(t *testing.T, status int) (*gateway, *httptest.Server) {
	g := &gateway{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read pushed body: %v", err)
		}
		var mfs []*dto.MetricFamily
		dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(r.Header))
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("decode pushed body (Content-Type %q): %v", r.Header.Get("Content-Type"), err)
				break
			}
			mfs = append(mfs, mf)
		}
		g.mu.Lock()
		g.reqs = append(g.reqs, pushed{Method: r.Method, Path: r.URL.EscapedPath(), Auth: r.Header.Get("Authorization"), Metrics: flatten(t, mfs)})
		g.mu.Unlock()
		if g.status != http.StatusOK {
			http.Error(w, "the gateway says no", g.status)
		}
	}))
	t.Cleanup(srv.Close)
	return g, srv
}

func TestPush(t *testing.T) {
	failed := nightly()
	failed.Success = false
	failed.Changes, failed.Calls = nil, map[int]int{0: 3}
	failed.Retries, failed.RateLimited = 2, 0

	tests := []struct {
		name string
		run  Run
		job  string
		want pushed
	}{
		{"a success replaces the group", nightly(), "convirza-sync", pushed{
			Method: http.MethodPut,
			Path:   "/metrics/job/convirza-sync/command/sync",
			Metrics: map[string]series{
				`convirza_sync_run_duration_seconds{}`:                                           {gauge, 83.5},
				`convirza_sync_run_success{}`:                                                    {gauge, 1},
				`convirza_sync_last_success_timestamp_seconds{}`:                                 {gauge, 1777600883.5},
				`convirza_sync_changes_total{action="create",kind="group",outcome="created"}`:    {counter, 5},
				`convirza_sync_changes_total{action="update",kind="group",outcome="updated"}`:    {counter, 2},
				`convirza_sync_changes_total{action="create",kind="user",outcome="failed"}`:      {counter, 1},
				`convirza_sync_changes_total{action="deactivate",kind="user",outcome="blocked"}`: {counter, 0},
				`convirza_sync_api_calls_total{status="200"}`:                                    {counter, 40},
				`convirza_sync_api_calls_total{status="201"}`:                                    {counter, 5},
				`convirza_sync_api_calls_total{status="429"}`:                                    {counter, 3},
				`convirza_sync_api_calls_total{status="500"}`:                                    {counter, 1},
				`convirza_sync_api_calls_total{status="transport_error"}`:                        {counter, 2},
				`convirza_sync_api_retries_total{}`:                                              {counter, 4},
				`convirza_sync_api_rate_limited_total{}`:                                         {counter, 3},
			},
		}},
		{"a failure keeps the gateway's last success", failed, "nightly", pushed{
			Method: http.MethodPost,
			Path:   "/metrics/job/nightly/command/sync",
			Metrics: map[string]series{
				`convirza_sync_run_duration_seconds{}`:                    {gauge, 83.5},
				`convirza_sync_run_success{}`:                             {gauge, 0},
				`convirza_sync_api_calls_total{status="transport_error"}`: {counter, 3},
				`convirza_sync_api_retries_total{}`:                       {counter, 2},
				`convirza_sync_api_rate_limited_total{}`:                  {counter, 0},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, srv := newGateway(t, http.StatusOK)
			if err := Push(context.Background(), srv.URL, tt.job, tt.run); err != nil {
				t.Fatalf("Push: %v", err)
			}
			if diff := cmp.Diff([]pushed{tt.want}, g.reqs); diff != "" {
				t.Errorf("pushed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPushCredentials: credentials in the URL go out as basic auth, not in
// the path, and no error shows them.
func TestPushCredentials(t *testing.T) {
	const secret = "s3cr3t-pa55"
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			g, srv := newGateway(t, status)
			u := strings.Replace(srv.URL, "http://", "http://alice:"+secret+"@", 1)
			err := Push(context.Background(), u, "convirza-sync", nightly())
			if (err != nil) != (status != http.StatusOK) {
				t.Fatalf("Push against a gateway answering %d: error %v", status, err)
			}
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the password: %v", err)
				}
				if !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
					t.Errorf("error %q should name the gateway and its answer", err)
				}
			}
			if len(g.reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(g.reqs))
			}
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			req.SetBasicAuth("alice", secret)
			if got, want := g.reqs[0].Auth, req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization = %q, want basic auth for alice", got)
			}
			if strings.Contains(g.reqs[0].Path, secret) {
				t.Errorf("the path carries the password: %s", g.reqs[0].Path)
			}
		})
	}
}

// TestPushRefuses: bad URLs, jobs and runs fail before any request, and
// the error never shows a password.
func TestPushRefuses(t *testing.T) {
	const secret = "hunter22"
	g, srv := newGateway(t, http.StatusOK)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := map[string]struct {
		url, job string
		run      Run
	}{
		"empty URL":           {"", "job", nightly()},
		"ftp":                 {"ftp://bob:" + secret + "@" + host, "job", nightly()},
		"unparsable":          {"http://bob:" + secret + "/x@" + host + ":port", "job", nightly()},
		"a query":             {"http://bob:" + secret + "@" + host + "/?token=" + secret, "job", nightly()},
		"a fragment":          {"http://" + host + "/#" + secret, "job", nightly()},
		"no host":             {"http://", "job", nightly()},
		"empty job":           {"http://bob:" + secret + "@" + host, "", nightly()},
		"a run that is wrong": {"http://bob:" + secret + "@" + host, "job", badRuns()["negative change"]},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := Push(context.Background(), tt.url, tt.job, tt.run)
			if err == nil {
				t.Fatal("Push: no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	if len(g.reqs) != 0 {
		t.Errorf("%d requests reached the gateway, want none", len(g.reqs))
	}
}

func TestPushHostPortAndContext(t *testing.T) {
	g, srv := newGateway(t, http.StatusOK)
	if err := Push(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/", "j", nightly()); err != nil {
		t.Fatalf("Push to host:port/: %v", err)
	}
	if len(g.reqs) != 1 || g.reqs[0].Path != "/metrics/job/j/command/sync" {
		t.Errorf("requests = %+v, want one to /metrics/job/j/command/sync", g.reqs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Push(ctx, srv.URL, "j", nightly()); !errors.Is(err, context.Canceled) {
		t.Errorf("Push with a cancelled context: %v, want context.Canceled", err)
	}
}

// umasked returns perm less the umask: the mode a new file made with perm
// gets.
func umasked(t *testing.T, perm os.FileMode) os.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, perm)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestWriteFileMode: an existing metrics file keeps its mode (0600 stays
// 0600); a new one is 0644 less the umask.
func TestWriteFileMode(t *testing.T) {
	for _, existing := range []os.FileMode{0, 0o600, 0o640, 0o644} {
		t.Run(existing.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.prom")
			want := umasked(t, 0o644)
			if existing != 0 {
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, existing); err != nil {
					t.Fatal(err)
				}
				want = existing
			}
			if err := WriteFile(path, nightly()); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != want {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), want)
			}
		})
	}
}
