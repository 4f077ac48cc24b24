package main

import "time"

// config holds the sizes of one run.
type config struct {
	quick bool

	// reads: 3-level trees (groups per level) crossed with user counts.
	readTrees [][]int
	readUsers []int

	// writes: the account drifted, and the drifts.
	writeTree   []int
	writeUsers  int
	writeDrifts []float64

	// rate: writes applied at rate, per sandbox latency.
	rateWrites    int
	rate          float64
	rateLatencies []time.Duration
	rateFixed     int

	// plan: the account planned, and the share of it drifted.
	planTree  []int
	planUsers int
	planDrift float64

	// naive: the account, the share changed, the latency and the rate.
	naiveTree    []int
	naiveShare   float64
	naiveLatency time.Duration
	naiveRate    float64
}

func fullConfig() config {
	return config{
		readTrees: [][]int{{10, 90, 900}, {100, 900, 9000}, {500, 4500, 45000}},
		readUsers: []int{10_000, 100_000},

		writeTree:   []int{20, 180, 1800},
		writeUsers:  5000,
		writeDrifts: []float64{0, 0.01, 0.30},

		rateWrites:    2000,
		rate:          200,
		rateLatencies: []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond},
		rateFixed:     4,

		planTree:  []int{100, 9900, 90_000},
		planUsers: 1_000_000,
		planDrift: 0.01,

		naiveTree:    []int{5, 50, 1945},
		naiveShare:   0.10,
		naiveLatency: 5 * time.Millisecond,
		naiveRate:    1000,
	}
}

// quickConfig runs every section on small sizes, in a few seconds: it
// proves the bench works, and its deterministic goals (reads, writes,
// calls) hold at any size; its timing figures are only indicative.
func quickConfig() config {
	return config{
		quick:     true,
		readTrees: [][]int{{2, 8, 90}, {3, 27, 270}},
		readUsers: []int{500, 1100},

		writeTree:   []int{4, 16, 80},
		writeUsers:  300,
		writeDrifts: []float64{0, 0.01, 0.30},

		rateWrites:    100,
		rate:          200,
		rateLatencies: []time.Duration{5 * time.Millisecond, 20 * time.Millisecond},
		rateFixed:     4,

		planTree:  []int{10, 90, 900},
		planUsers: 10_000,
		planDrift: 0.01,

		naiveTree:    []int{2, 8, 90},
		naiveShare:   0.10,
		naiveLatency: 5 * time.Millisecond,
		naiveRate:    1000,
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
