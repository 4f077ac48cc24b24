package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func TestNewGraph(t *testing.T) {
	grp := func(id int, a plan.Action, key string, parent plan.Ref, after ...int) plan.Change {
		return plan.Change{ID: id, Action: a, Kind: plan.KindGroup, Key: key, Parent: parent, After: after}
	}
	usr := func(id int, a plan.Action, key string, parent plan.Ref, after ...int) plan.Change {
		return plan.Change{ID: id, Action: a, Kind: plan.KindUser, Key: key, Parent: parent, After: after}
	}
	root := plan.Ref{ID: 1001}
	tests := []struct {
		name    string
		changes []plan.Change
		want    [][]int // deps by index
		wantErr string
	}{
		{
			name: "explicit and implied waits",
			changes: []plan.Change{
				grp(1, plan.Create, "A", root),
				grp(2, plan.Create, "B", plan.Ref{ExtID: "A"}),           // under a group the plan creates
				usr(3, plan.Create, "u@x.example", plan.Ref{ExtID: "B"}), // user in a created group
				grp(4, plan.Move, "C", plan.Ref{ExtID: "A"}),
				grp(5, plan.Rename, "D", root, 4),
				grp(6, plan.Update, "E", plan.Ref{ExtID: "EXISTING"}),        // names an ext id no create makes
				{ID: 7, Action: plan.Update, Kind: plan.KindGroup, Key: "A"}, // about a group the plan creates
				{ID: 8, Action: plan.Update, Kind: plan.KindUser, Key: "u@x.example"},
			},
			want: [][]int{nil, {0}, {1}, {0}, {3}, nil, {0}, {2}},
		},
		{
			name:    "duplicate ids",
			changes: []plan.Change{grp(1, plan.Create, "A", root), grp(1, plan.Create, "B", root)},
			wantErr: "changes 1 and 2 both have id 1",
		},
		{
			name:    "unknown dependency",
			changes: []plan.Change{grp(1, plan.Create, "A", root, 9)},
			wantErr: "change 1 waits on change 9, which is not in the plan",
		},
		{
			name:    "self",
			changes: []plan.Change{grp(1, plan.Create, "A", root, 1)},
			wantErr: "change 1 waits on itself",
		},
		{
			name: "cycle",
			changes: []plan.Change{
				grp(1, plan.Update, "X", root),
				grp(2, plan.Rename, "A", root, 3, 1),
				grp(3, plan.Rename, "B", root, 4),
				grp(4, plan.Rename, "C", root, 2),
				grp(5, plan.Rename, "D", root, 4), // downstream of the cycle, not on it
			},
			wantErr: "change 2 is part of a dependency cycle",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := plan.NewGraph(tt.changes)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("plan.NewGraph error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, g.Deps); diff != "" {
				t.Errorf("deps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAutoLimit(t *testing.T) {
	tests := []struct {
		rate float64
		p95  float64 // seconds
		want int
	}{
		{rate: 200, p95: 0.010, want: 4}, // ceil(2.5)+1
		{rate: 200, p95: 0.012, want: 4}, // ceil(3)+1
		{rate: 10, p95: 0.300, want: 5},  // ceil(3.75)+1
		{rate: 10, p95: 0.001, want: 2},  // the floor
		{rate: 1000, p95: 1, want: 64},   // the cap
		{rate: 0, p95: 0.5, want: DefaultConcurrency},
	}
	for _, tt := range tests {
		got := autoLimit(tt.rate, secs(tt.p95))
		if got != tt.want {
			t.Errorf("autoLimit(%v, %vs) = %d, want %d", tt.rate, tt.p95, got, tt.want)
		}
	}
}

func TestLimiterFollowsLatency(t *testing.T) {
	l := newLimiter(0, 200)
	if got, want := l.limit(), autoLimit(200, assumedLatency); got != want {
		t.Fatalf("limit before any latency = %d, want %d", got, want)
	}
	for range 100 {
		l.observe(secs(0.010))
	}
	if got := l.limit(); got != 4 {
		t.Fatalf("limit at 10 ms = %d, want 4", got)
	}
	// Latency rises: the window's p95 follows.
	for range latencyWindow {
		l.observe(secs(0.100))
	}
	if got := l.limit(); got != 26 {
		t.Fatalf("limit at 100 ms = %d, want 26", got)
	}
	var c Concurrency
	l.stats(&c)
	want := Concurrency{Auto: true, Limit: 26, MinLimit: 4, MaxLimit: 26, LatencyP95: secs(0.100), Samples: 100 + latencyWindow}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}

	fixed := newLimiter(7, 200)
	fixed.observe(secs(5))
	if got := fixed.limit(); got != 7 {
		t.Errorf("fixed limit = %d, want 7", got)
	}
}
