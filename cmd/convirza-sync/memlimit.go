package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when the
// environment sets none (GOMEMLIMIT): the heap of a plan for 100k groups and
// 1M users holds about 650 MiB at its peak, and without a limit the garbage
// collector lets the heap grow to twice what it last kept, past 1 GiB of
// resident memory. Under the limit it collects sooner instead, and the
// whole process stays under 1 GiB. GOMEMLIMIT (a container's limit, say)
// overrides it.
const defaultMemoryLimit = 800 << 20

func init() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
