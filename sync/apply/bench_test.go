package apply

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// BenchmarkApply2000 applies 2,000 creates (200 groups under the top, nine
// children under each, so most changes wait on another) to the sandbox over
// HTTP, with the client's rate at 200 requests per second and a bucket of
// one (no burst to flatter the figure). It reports the writes per second
// achieved and their share of the rate; the goal is 95%.
func BenchmarkApply2000(b *testing.B) {
	const rate = 200.0
	cases := []struct {
		name        string
		latency     time.Duration
		concurrency int
	}{
		{"latency=10ms/auto", 10 * time.Millisecond, 0},
		{"latency=10ms/concurrency=4", 10 * time.Millisecond, 4},
		{"latency=50ms/auto", 50 * time.Millisecond, 0},
		{"latency=50ms/concurrency=4", 50 * time.Millisecond, 4},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			var writes int
			var elapsed time.Duration
			var last Concurrency
			for range b.N {
				b.StopTimer()
				w := setup(b, convirzatest.Options{Latency: bc.latency}, convirza.Options{Rate: rate, Burst: 1})
				var cs []plan.Change
				for i := range 200 {
					ext := fmt.Sprintf("B%03d", i)
					cs = append(cs, createGroup(ext, "Branch "+ext, w.ref("")))
					for j := range 9 {
						cs = append(cs, createGroup(fmt.Sprintf("%s-%d", ext, j), fmt.Sprintf("Office %d", j), plan.Ref{ExtID: ext}))
					}
				}
				p := newPlan(cs...)
				b.StartTimer()
				res, err := Apply(context.Background(), p, w.remote, Options{Concurrency: bc.concurrency, Rate: rate})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if c := res.Counts(); c[plan.OutcomeCreated] != len(cs) {
					b.Fatalf("outcomes %v, want %d created", c, len(cs))
				}
				writes += res.Writes
				elapsed += res.Elapsed
				last = res.Concurrency
				w.srv.Close()
			}
			perSec := float64(writes) / elapsed.Seconds()
			b.ReportMetric(perSec, "writes/s")
			b.ReportMetric(100*perSec/rate, "%rate")
			b.ReportMetric(float64(last.MaxInFlight), "max-in-flight")
			b.ReportMetric(float64(last.Limit), "final-limit")
			b.ReportMetric(float64(last.LatencyP95.Microseconds())/1000, "p95-ms")
		})
	}
}
