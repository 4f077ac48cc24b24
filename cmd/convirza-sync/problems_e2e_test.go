package main

// End-to-end tests of errors that teach: row problems grouped by kind and
// bounded on a terminal, the whole list in JSON and report files, huge
// plans folded on stdout, the industry suggestion, and no "already
// matches" when rows were skipped.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bigExport writes groups.csv: n rows under 50 top groups, every 100th row
// (from the 50th) bad in one of four ways, in turn. It returns the count of
// bad rows of each kind's label.
func bigExport(w *world, n int) map[string]int {
	var b strings.Builder
	b.WriteString("org_unit_ext_id,org_unit_name,parent_ext_id,address,city,state,zip,phone_number\n")
	bad := map[string]int{}
	for i := range n {
		ext, name, parent := fmt.Sprintf("E%06d", i), fmt.Sprintf("Location %d", i), ""
		if i >= 50 {
			parent = fmt.Sprintf("E%06d", i%50)
		}
		st, zip, phone := "MA", "02110", fmt.Sprintf("(617) 555-%04d", i%10000)
		if i >= 50 && i%100 == 7 {
			switch (i / 100) % 4 {
			case 0:
				zip = "ABCDE"
				bad[`group column "zip": not a US ZIP code: "…"`]++
			case 1:
				phone = "12"
				bad[`group column "phone_number": bad phone number "…": not a valid number of region US`]++
			case 2:
				st = "Narnia"
				bad[`group column "state": not a US state: "…"`]++
			case 3:
				name = ""
				bad[`group column "org_unit_name": missing org_unit_name`]++
			}
		}
		fmt.Fprintf(&b, "%s,%s,%s,1 Main St,Boston,%s,%s,%s\n", ext, name, parent, st, zip, phone)
	}
	w.write("big.csv", b.String())
	return bad
}

// kindCounts reads the "N × label" lines of grouped problems.
var kindLine = regexp.MustCompile(`^\s+([\d,]+) × (.+?)(?: \(first: .*\))?$`)

func kindCounts(t *testing.T, text string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, " × ") {
			continue // most lines: skip the regexp, which is slow under -race
		}
		if m := kindLine.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			if err != nil {
				t.Fatal(err)
			}
			got[m[2]] += n
		}
	}
	return got
}

// Many rows (20,000 by default) with 1% bad: validate and plan name every kind with its
// count on a bounded terminal, and the JSON output and the report file list
// every problem.
func TestE2EManyRowErrorsAreGroupedAndBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 rows or more")
	}
	// 20,000 rows keep the test under a minute with -race; set
	// CONVIRZA_SYNC_E2E_ROWS=200000 for the size the grouping was made for.
	rows := 20_000
	if v := os.Getenv("CONVIRZA_SYNC_E2E_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("CONVIRZA_SYNC_E2E_ROWS=%q: want a number of rows from 1000", v)
		}
		rows = n
	}
	w := newWorld(t, exampleState(t))
	bad := bigExport(w, rows)
	total := 0
	for _, n := range bad {
		total += n
	}
	changes := rows - total

	r := w.run("validate", "--groups", "big.csv")
	if r.code != 1 {
		t.Fatalf("validate: want exit 1\n%s", r)
	}
	if diff := cmp.Diff(bad, kindCounts(t, r.stdout)); diff != "" {
		t.Errorf("validate's counts per kind (-want +got):\n%s\n%s", diff, r)
	}
	if lines := strings.Count(r.stdout, "\n"); lines > 60 {
		t.Errorf("validate printed %d lines for %d problems", lines, total)
	}
	if n := strings.Count(r.stdout, "big.csv:"); n > 50 || n == 0 {
		t.Errorf("validate named %d problems, want 1 to 50 (--max-errors)", n)
	}
	r = w.run("validate", "--groups", "big.csv", "--max-errors", "5")
	if n := strings.Count(r.stdout, "big.csv:"); n != 5 {
		t.Errorf("validate --max-errors 5 named %d problems\n%s", n, r)
	}

	r = w.run("validate", "--groups", "big.csv", "--output", "json")
	var out struct {
		Problems []json.RawMessage `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Problems) != total {
		t.Errorf("validate --output json: %d problems, want %d (%v)", len(out.Problems), total, err)
	}

	// plan: the rows skipped, the plan folded on stdout, the problems once
	// on stderr, everything in the report file.
	m := w.mark()
	r = w.run("plan", "--groups", "big.csv", "--max-invalid", "3000", "--report", "plan.txt", "--log-format", "console")
	if r.code != 0 {
		t.Fatalf("plan --max-invalid 3000: want exit 0\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) > 0 {
		t.Errorf("plan wrote: %s", describeCalls(ws))
	}
	if lines := strings.Count(r.stdout, "\n"); lines > stdoutLines {
		t.Errorf("plan printed %d lines on stdout, want at most %d", lines, stdoutLines)
	}
	if !strings.Contains(r.stdout, "--report plan.txt") || !strings.Contains(r.stdout, "Summary: "+thousands(changes)+" changes") {
		t.Errorf("the folded plan lacks its hint or summary:\n%s", r)
	}
	if diff := cmp.Diff(bad, kindCounts(t, r.stderr)); diff != "" {
		t.Errorf("stderr's counts per kind (-want +got):\n%s\n%s", diff, r)
	}
	if diff := cmp.Diff(bad, kindCounts(t, r.stdout)); diff != "" {
		t.Errorf("stdout's invalid rows by kind (-want +got):\n%s\n%s", diff, r)
	}
	if n := strings.Count(r.stderr, "big.csv:"); n > 50 || n == 0 {
		t.Errorf("stderr named %d problems, want 1 to 50", n)
	}
	full := w.read("plan.txt")
	if n := strings.Count(full, "\n"); n < changes {
		t.Errorf("the report file has %d lines: it is not whole", n)
	}
	if n := strings.Count(full, "  big.csv:"); n != total {
		t.Errorf("the report file lists %d skipped rows, want %d", n, total)
	}

	// The JSON log carries them too: one event per kind, with its count.
	r = w.run("plan", "--groups", "big.csv", "--max-invalid", "3000", "--log-format", "json", "--output", "json")
	if r.code != 0 {
		t.Fatalf("plan --log-format json: want exit 0\n%s", r)
	}
	got := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	sc.Buffer(nil, 1<<20)
	events := 0
	for sc.Scan() {
		var ev struct {
			Level string   `json:"level"`
			Kind  string   `json:"kind"`
			Count int      `json:"count"`
			First []string `json:"first"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stderr is not JSON lines: %v: %s", err, sc.Text())
		}
		events++
		if ev.Kind != "" {
			got[ev.Kind] = ev.Count
			if ev.Level != "error" || len(ev.First) == 0 || len(ev.First) > 3 {
				t.Errorf("event %s", sc.Text())
			}
		}
	}
	if diff := cmp.Diff(bad, got); diff != "" || events > 20 {
		t.Errorf("%d log events; counts per kind (-want +got):\n%s", events, diff)
	}
}

// An unknown industry names the nearest Convirza industry and the mapping
// line that maps it; with that line, the same export plans cleanly.
func TestE2EUnknownIndustrySuggests(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.write("g.csv", "Account ID,Account Name,Industry\nR1,Rosie's Diner,Restaurant\nR2,Rosie's Grill,Restaurant\n")
	w.write("m.yaml", "groups:\n  columns:\n    org_unit_ext_id: Account ID\n    org_unit_name: Account Name\n    industry: Industry\n")
	r := w.run("plan", "--groups", "g.csv", "--mapping", "m.yaml", "--log-format", "console")
	if r.code != 1 {
		t.Fatalf("plan with an unknown industry: want exit 1\n%s", r)
	}
	want := `unknown industry "Restaurant" (the nearest Convirza industry is "Restaurants"): to map it, add to the mapping's groups: industries: {Restaurant: Restaurants}`
	if !strings.Contains(r.stderr, "g.csv:2: column \"industry\": "+want) || !strings.Contains(r.stderr, "2 × group column \"industry\": unknown industry \"…\"") {
		t.Errorf("stderr lacks the suggestion:\n%s", r)
	}
	if n := strings.Count(r.stderr, want); n != 2 {
		t.Errorf("the problems show %d times on stderr, want once per row (2)\n%s", n, r)
	}
	w.write("m.yaml", "groups:\n  columns:\n    org_unit_ext_id: Account ID\n    org_unit_name: Account Name\n    industry: Industry\n  industries: {Restaurant: Restaurants}\n")
	r = w.run("plan", "--groups", "g.csv", "--mapping", "m.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "Summary: 2 changes") {
		t.Errorf("plan with the suggested line: want exit 0 and 2 creates\n%s", r)
	}
}

// Skipped rows never read as "already matches", and an export whose every
// row is invalid is an error, whatever --max-invalid and --force say.
func TestE2ENoFalseAlreadyMatches(t *testing.T) {
	w := newWorld(t, exampleState(t))
	w.write("bad.csv", "org_unit_ext_id,org_unit_name,zip\nB1,,02110\nB2,Two,ABCDE\n")
	r := w.run("plan", "--groups", "bad.csv", "--max-invalid", "100%", "--force")
	if r.code != 1 || !strings.Contains(r.stderr, "every one of the export's 2 rows is invalid") || strings.Contains(r.stdout, "already matches") {
		t.Errorf("an export of invalid rows: want exit 1 and the empty-export error\n%s", r)
	}

	// Converge on one row, then add an invalid one: no change, one skipped.
	w.write("g.csv", "org_unit_ext_id,org_unit_name\nK1,Kiosk One\n")
	if r := w.run("sync", "--groups", "g.csv"); r.code != 0 {
		t.Fatalf("sync: want exit 0\n%s", r)
	}
	w.write("g.csv", "org_unit_ext_id,org_unit_name\nK1,Kiosk One\nK2,\n")
	r = w.run("plan", "--groups", "g.csv", "--max-invalid", "1")
	if r.code != 0 {
		t.Fatalf("plan: want exit 0\n%s", r)
	}
	if strings.Contains(r.stdout, "already matches") || !strings.Contains(r.stdout, "No changes for the valid rows, but 1 invalid row was skipped") {
		t.Errorf("a plan that skipped a row says:\n%s", r)
	}
}

// thousands writes n with commas between groups of three digits, as the
// plan's summary does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
