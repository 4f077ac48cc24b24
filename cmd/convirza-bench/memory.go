package main

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

const (
	heapObjects  = "/memory/classes/heap/objects:bytes"  // live objects and garbage not yet swept
	heapAllocs   = "/gc/heap/allocs:bytes"               // cumulative bytes allocated
	memTotal     = "/memory/classes/total:bytes"         // all the runtime mapped
	heapReleased = "/memory/classes/heap/released:bytes" // mapped, but given back to the OS
)

// usage is what one measured step cost.
type usage struct {
	wall time.Duration
	// base is the heap before the step (after a GC), peak the most it held
	// during the step (sampled every millisecond), alloc what it allocated.
	base, peak, alloc uint64
	// resident is the most memory the runtime held from the OS (mapped
	// minus released): the heap, its fragmentation, stacks and metadata.
	resident uint64
}

// extra is the peak above what the heap held before the step.
func (u usage) extra() uint64 {
	if u.peak < u.base {
		return 0
	}
	return u.peak - u.base
}

func readHeap() (objects, allocs, resident uint64) {
	s := []metrics.Sample{{Name: heapObjects}, {Name: heapAllocs}, {Name: memTotal}, {Name: heapReleased}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64() - s[3].Value.Uint64()
}

// measure runs f after a GC and reports its wall time and the heap it
// used, from runtime/metrics sampled in a goroutine every millisecond.
// The heap held is that of the process: what f keeps, plus the garbage of
// the ordinary GC cycle (GOGC as set), which is what the process needs.
func measure(f func() error) (usage, error) {
	runtime.GC()
	base, alloc0, res0 := readHeap()
	var (
		mu       sync.Mutex
		peak     = base
		resident = res0
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	sample := func() {
		h, _, r := readHeap()
		mu.Lock()
		peak, resident = max(peak, h), max(resident, r)
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	start := time.Now()
	err := f()
	wall := time.Since(start)
	sample()
	close(stop)
	<-done
	_, alloc1, _ := readHeap()
	mu.Lock()
	defer mu.Unlock()
	return usage{wall: wall, base: base, peak: peak, alloc: alloc1 - alloc0, resident: resident}, err
}
