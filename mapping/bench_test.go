package mapping

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The 1M-row benchmarks share one generated file, made on first use (only
// when -bench selects them) and removed by TestMain.
var big struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

const bigRows = 1_000_000

// bigExport writes a Salesforce-style groups CSV: a corporate row, 200
// regions, the rest locations; US addresses, ZIPs and phones (from 40 area
// codes and every exchange, so the phone memo sees about 32,000 prefixes).
func bigExport(tb testing.TB) string {
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "convirza-sync-bench-")
		if big.err != nil {
			return
		}
		big.path = filepath.Join(big.dir, "groups-1m.csv")
		f, err := os.Create(big.path)
		if err != nil {
			big.err = err
			return
		}
		defer f.Close()
		w := bufio.NewWriterSize(f, 1<<20)
		rng := rand.New(rand.NewPCG(3, 4))
		areas := []string{"617", "212", "415", "312", "713", "305", "206", "404", "303", "602", "214", "702", "503", "612", "314",
			"215", "412", "216", "313", "614", "317", "414", "816", "913", "405", "504", "901", "615", "704", "919", "804", "202",
			"410", "973", "201", "718", "646", "510", "408", "619"}
		states := []string{"MA", "NY", "CA", "IL", "TX", "FL", "WA", "GA", "CO", "AZ", "Massachusetts", "new york", "Calif."}
		cities := []string{"Boston", "New York", "San Francisco", "Chicago", "Houston", "Miami", "Seattle", "Atlanta", "Denver", "Phoenix"}
		fmt.Fprintln(w, "Account ID,Account Name,Parent Account ID,Billing Street,Billing City,Billing State/Province,Billing Zip/Postal Code,Phone,Industry")
		fmt.Fprintln(w, "C0,Northwind Corporate,,100 Federal Street,Boston,MA,02110,(617) 555-0100,Healthcare")
		for i := 1; i < bigRows; i++ {
			parent := "C0"
			if i > 200 {
				parent = "R" + strconv.Itoa(1+i%200)
			}
			id := "L" + strconv.Itoa(i)
			if i <= 200 {
				id = "R" + strconv.Itoa(i)
			}
			phone := fmt.Sprintf("(%s) %d-%04d", areas[rng.IntN(len(areas))], 200+rng.IntN(800), rng.IntN(10000))
			if i%3 == 1 {
				phone = strings.NewReplacer("(", "", ") ", ".", "-", ".").Replace(phone)
			}
			fmt.Fprintf(w, "%s,Northwind Location %d,%s,%d Main Street,%s,%s,%05d,%s,Dental Practice\n",
				id, i, parent, 1+i%9999, cities[i%len(cities)], states[i%len(states)], 1001+i%98000, phone)
		}
		big.err = w.Flush()
	})
	if big.err != nil {
		tb.Fatal(big.err)
	}
	return big.path
}

func bigMapping(phones bool) *Mapping {
	cols := map[string]string{
		"org_unit_ext_id": "Account ID", "org_unit_name": "Account Name", "parent_ext_id": "Parent Account ID",
		"address": "Billing Street", "city": "Billing City", "state": "Billing State/Province",
		"zip": "Billing Zip/Postal Code", "industry": "Industry",
	}
	if phones {
		cols["phone_number"] = "Phone"
	}
	return &Mapping{Groups: GroupsMapping{Columns: cols}}
}

// memWatch samples the live heap while a benchmark runs and resets the
// process's peak RSS (VmHWM) at its start.
type memWatch struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
	base uint64
	cpu  time.Duration // process CPU time (user+system) at the start
}

// cpuTime is the process's CPU time, GC workers included: on a shared
// machine it is a steadier yardstick than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startMemWatch() *memWatch {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux) to the current RSS
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{}), base: heapBytes(), cpu: cpuTime()}
	go func() {
		defer close(w.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if h := heapBytes(); h > w.peak {
					w.peak = h
				}
			}
		}
	}()
	return w
}

func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// report stops the watch and reports peak heap, the heap the result holds
// and peak RSS, in MB.
func (w *memWatch) report(b *testing.B, keep any) {
	cpu := cpuTime() - w.cpu
	close(w.stop)
	<-w.done
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	runtime.GC()
	live := heapBytes()
	runtime.KeepAlive(keep)
	b.ReportMetric(float64(w.peak-min(w.peak, w.base))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live-min(live, w.base))/(1<<20), "result-heap-MB")
	b.ReportMetric(vmHWM(), "VmHWM-MB")
}

func benchLoad(b *testing.B, phones bool) {
	path := bigExport(b)
	m := bigMapping(phones)
	var cold time.Duration
	if phones { // the phone memo is per process: show its cold cost once
		st := time.Now()
		if _, err := Load(LoadOptions{GroupsPath: path, Mapping: m}); err != nil {
			b.Fatal(err)
		}
		cold = time.Since(st)
	}
	b.ReportAllocs()
	w := startMemWatch()
	b.ResetTimer()
	var keep any
	for b.Loop() {
		ds, err := Load(LoadOptions{GroupsPath: path, Mapping: m})
		if err != nil {
			b.Fatal(err)
		}
		if len(ds.Groups) != bigRows || len(ds.Invalid) != 0 {
			b.Fatalf("%d groups, %d invalid: %v", len(ds.Groups), len(ds.Invalid), Problems(ds))
		}
		keep = ds
	}
	b.StopTimer()
	w.report(b, keep)
	if cold > 0 {
		b.ReportMetric(cold.Seconds(), "cold-s")
	}
}

// BenchmarkLoad1M loads the 1M-row export, every column but the phone.
func BenchmarkLoad1M(b *testing.B) { benchLoad(b, false) }

// BenchmarkLoad1MPhones loads it with phones normalized (the memo warm;
// cold-s is the first load, with the memo cold).
func BenchmarkLoad1MPhones(b *testing.B) { benchLoad(b, true) }

func rawRead(b *testing.B, reuse, keep bool) {
	path := bigExport(b)
	b.ReportAllocs()
	w := startMemWatch()
	b.ResetTimer()
	var last [][]string
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(f)
		r.ReuseRecord = reuse
		n := 0
		var kept [][]string
		if keep {
			kept = make([][]string, 0, bigRows+1)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if keep {
				kept = append(kept, rec)
			}
			n++
		}
		f.Close()
		if n != bigRows+1 {
			b.Fatalf("%d records", n)
		}
		last = kept
	}
	b.StopTimer()
	w.report(b, last)
}

// BenchmarkRawCSV1M is a plain encoding/csv read of the same file: the
// yardstick of BenchmarkLoad1M.
func BenchmarkRawCSV1M(b *testing.B) { rawRead(b, false, false) }

// BenchmarkRawCSV1MReuse is the same with ReuseRecord, as the loader reads.
func BenchmarkRawCSV1MReuse(b *testing.B) { rawRead(b, true, false) }

// BenchmarkRawCSV1MKeep is the raw read keeping every record, as a loader
// keeps its rows: it pays for the memory of a result (its page faults and
// the collector's marking), which the read that drops its records does not.
func BenchmarkRawCSV1MKeep(b *testing.B) { rawRead(b, false, true) }
