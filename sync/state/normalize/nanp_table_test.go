package normalize

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files (here: the NANP validity table)")

// nanpTableDigits returns the ten digits of a number under the table's
// bit, with a fixed line number (which TestNANPValidityDigits proves does
// not change the verdict).
func nanpTableDigits(bit int) [10]byte {
	var s string
	if bit < 800000 {
		s = fmt.Sprintf("%06d0142", bit+200000)
	} else {
		i, rest := (bit-800000)/10000, (bit-800000)%10000
		s = fmt.Sprintf("%03d%04d142", nanpSevenDigitOrder[i], rest)
	}
	var d [10]byte
	copy(d[:], s)
	return d
}

// TestNANPTable checks the embedded table against phonenumbers, every bit
// (a sample of them under -short or the race detector, which make it
// slow). With -update it rewrites the table.
func TestNANPTable(t *testing.T) {
	if len(nanpSevenDigitOrder) != len(nanpSevenDigitAreas) {
		t.Fatalf("nanpSevenDigitOrder %v does not list nanpSevenDigitAreas", nanpSevenDigitOrder)
	}
	for _, a := range nanpSevenDigitOrder {
		if !nanpSevenDigitAreas[a] {
			t.Fatalf("nanpSevenDigitOrder lists %d, not a seven-digit area", a)
		}
	}
	if *update {
		table := make([]byte, (nanpTableBits+7)/8)
		for bit := range nanpTableBits {
			d := nanpTableDigits(bit)
			if nanpValidSlow(&d) {
				table[bit/8] |= 1 << (bit % 8)
			}
		}
		if err := os.WriteFile("nanp_valid.bin", table, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("rewrote nanp_valid.bin: run the test again without -update")
	}
	if len(nanpTable) != (nanpTableBits+7)/8 {
		t.Fatalf("the table holds %d bytes, want %d: go test -run TestNANPTable -update", len(nanpTable), (nanpTableBits+7)/8)
	}
	step := 1
	if testing.Short() || raceEnabled {
		step = 97
	}
	bad := 0
	for bit := 0; bit < nanpTableBits; bit += step {
		d := nanpTableDigits(bit)
		if got, want := nanpValid(&d), nanpValidSlow(&d); got != want {
			if bad++; bad <= 10 {
				t.Errorf("%s...: table says valid %t, phonenumbers %t", d[:7], got, want)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d prefixes disagree with phonenumbers: go test -run TestNANPTable -update", bad)
	}
}
