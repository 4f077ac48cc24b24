package mapping

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// csvReading is everything a csvSource tells, record by record.
type csvReading struct {
	Rec     []string
	Line    int
	Bad     string // the bad record, rendered
	Err     string
	Offset  int64
	Partial []string
}

// readAllCSV reads data to the end (or the first error) with the fast path
// on or off.
func readAllCSV(t *testing.T, data []byte, enc string, comma rune, fast bool) (out []csvReading, fault string) {
	t.Helper()
	cs, fault, err := newCSVSource(bytes.NewReader(data), enc, comma)
	if err != nil || fault != "" {
		return nil, fmt.Sprint(fault, err)
	}
	if !fast {
		cs.fast = nil
	}
	for n := 0; n < 10000; n++ {
		rec, line, bad, err := cs.next()
		r := csvReading{Rec: append([]string(nil), rec...), Line: line, Offset: cs.offset()}
		if bad != nil {
			r.Bad = fmt.Sprintf("%d %d %d %v", bad.line, bad.errLine, bad.errCol, bad.err)
			r.Partial = append([]string(nil), bad.partial...)
		}
		if err != nil {
			r.Err = err.Error()
			r.Offset = 0 // where a failed read stops is of no use
		}
		out = append(out, r)
		if err != nil {
			break
		}
	}
	return out, ""
}

func checkFastPath(t *testing.T, data []byte, enc string, comma rune) {
	t.Helper()
	slow, f1 := readAllCSV(t, data, enc, comma, false)
	fast, f2 := readAllCSV(t, data, enc, comma, true)
	if f1 != f2 {
		t.Fatalf("%q: faults differ: %q, %q", data, f1, f2)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Fatalf("%q: the fast path reads otherwise than encoding/csv (-csv +fast):\n%s", data, diff)
	}
}

var fastPathCases = []string{
	"",
	"a,b,c\n1,2,3\n",
	"a,b,c\n1,2,3",
	"a,b,c\r\n1,2,3\r\n",
	"a,b,c\r\n1,2,3\r",
	"a,b,c\n\n\n1,2,3\n\r\n4,5,6\n",
	"a,b,c\n1,,\n,,\n,\n",
	"a,b,c\n1,2\r3,4\n5,6,7\n",
	"a,b,c\n1,\"2\",3\n4,5,6\n",
	"a,b,c\n1,2,3\n4,\"5\n5\",6\n7,8,9\n",
	"a,b,c\n1,2,3\n4,5\"x,6\n7,8,9\n",
	"a,b,c\n1,2,3\n4,\"5\"x,6\n7,8,9\n",
	"a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n",
	"a;b;c\n1;2;3\n1,5;2;3\n",
	"a\tb\tc\n1\t2\t3\n",
	"a|b|c\n1|2|3\n",
	"\ufeffa,b,c\n1,2,3\n",
	"a,b,c\n é,ü ,\xff\n",
	"a,b,c\n1,2,3\n\r",
	"a,b,c\n1,2,3\r\r\n4,5,6\n",
	"a,b\n" + strings.Repeat("x", 70<<10) + ",y\n1,2\n",
	// quoted cells on one line, as Salesforce's Data Loader and Excel write them
	"\"Id\",\"Name\",\"Street\"\n\"001\",\"Acme, Inc.\",\"1 \"\"Main\"\" St\"\n\"002\",\"\",\"\"\n",
	"a,b,c\n\"1\",2,\"3\"\n\"\",\"\"\"\",\",\"\n4,5,6\n",
	"a,b,c\n\"1\",\"2\",\n,\"x\"\n\"\"\n",
	"a;b\n\"1;2\";\"3\"\n\"4\" ;5\n",
	"a,b\n \"1\",2\n3,4\n",
	"a,b\n\"1\"\"\",2\n\"1\"\"x,2\n",
	"a,b\n\"1\",\"2\"\r\n\"3\",\"4\r5\"\n",
	"a,b\n\"é\",\"\xff\"\n",
}

// TestCSVFastPath reads tricky files with the fast path and with
// encoding/csv alone: the records, their lines, the bad records and the
// offsets must be the same.
func TestCSVFastPath(t *testing.T) {
	for _, c := range fastPathCases {
		checkFastPath(t, []byte(c), "", 0)
	}
	checkFastPath(t, []byte("a,b\n1,2\n"), "", ';')
	// UTF-16 text is decoded before the split.
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "a,b\r\n1,2\r\n3,\"4\"\r\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	checkFastPath(t, utf16, "", 0)
	// Random files of the characters that matter.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,,;\"\r\n\n é")
	for range 3000 {
		b := make([]byte, rng.IntN(60))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkFastPath(t, append([]byte("h1,h2\n"), b...), "", 0)
	}
}

// TestCSVFastPathLongRecord: a line over the record limit is left to
// encoding/csv and its guard.
func TestCSVFastPathLongRecord(t *testing.T) {
	defer func(n int64) { maxRecordBytes = n }(maxRecordBytes)
	maxRecordBytes = 1 << 10
	checkFastPath(t, []byte("a,b\n1,2\n"+strings.Repeat("x", 2<<10)+",y\n3,4\n"), "", 0)
	checkFastPath(t, []byte("a,b\n1,2\n"+strings.Repeat("x", 200<<10)+",y\n3,4\n"), "", 0)
}

// maxFuzzCSV bounds the fuzzed files: the splitting rules are all seen in a
// few hundred bytes.
const maxFuzzCSV = 4 << 10

func FuzzCSVFastPath(f *testing.F) {
	for _, c := range fastPathCases {
		if len(c) <= maxFuzzCSV {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzCSV {
			// Long lines are TestCSVFastPath's; here they only slow each
			// run and the minimizing of new inputs past a brief -fuzztime.
			t.Skip()
		}
		checkFastPath(t, data, "", 0)
	})
}
