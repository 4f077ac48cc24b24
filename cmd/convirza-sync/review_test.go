package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Values that can be judged without a call are usage errors, on every
// command that takes them, even before credentials are looked for (none are
// set here).
func TestValueChecksExit64(t *testing.T) {
	for _, args := range [][]string{
		{"sync", "--dry-run", "--output", "xml", "--groups", "g.csv"},
		{"plan", "--output", "yaml", "--groups", "g.csv"},
		{"sync", "--input-format", "xml", "--groups", "g.csv"},
		{"validate", "--input-format", "xls", "--groups", "g.csv"},
		{"sync", "--root", "id:abc", "--groups", "g.csv"},
		{"plan", "--root", "id:0", "--groups", "g.csv"},
		{"sync", "--pushgateway", "not a url", "--groups", "g.csv"},
		{"export", "--pushgateway", "ftp://gw:9091", "--out-dir", "x"},
		{"sync", "--policy", "yolo", "--groups", "g.csv"},
		{"plan", "--max-deletes", "lots", "--groups", "g.csv"},
		{"sync", "--concurrency", "0", "--groups", "g.csv"},
		{"apply", "p.json", "--rate", "0"},
	} {
		if code, _, stderr := runCLI(t, nil, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want 64; stderr:\n%s", args, code, stderr)
		}
	}
}

// plan takes what sync --dry-run takes.
func TestPlanTakesSyncDryRunFlags(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "plan", "--dry-run", "--concurrency", "4", "--grace", "5s", "--groups", "g.csv")
	if code != exitFailed || !strings.Contains(stderr, "CONVIRZA_TOKEN") {
		t.Errorf("exit %d (want 1: no credentials), stderr:\n%s", code, stderr)
	}
}

// A run that fails before it has a plan still writes the report and the
// results asked for: the report says why, the results hold their header.
func TestFailedRunStillWritesReportAndResults(t *testing.T) {
	dir := t.TempDir()
	groups := filepath.Join(dir, "g.csv")
	if err := os.WriteFile(groups, []byte("org_unit_ext_id,org_unit_name\nA,Alpha\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".txt", ".md", ".json", ".csv"} {
		rep, res := filepath.Join(dir, "report"+ext), filepath.Join(dir, "results"+ext+".csv")
		code, _, stderr := runCLI(t, nil, "sync", "--groups", groups, "--report", rep, "--results", res)
		if code != exitFailed {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
		}
		b, err := os.ReadFile(rep)
		if err != nil {
			t.Fatalf("%s: the report asked for was not written: %v", ext, err)
		}
		if !strings.Contains(string(b), "CONVIRZA_TOKEN") {
			t.Errorf("%s report does not say why:\n%s", ext, b)
		}
		b, err = os.ReadFile(res)
		if err != nil || string(b) != "line,kind,key,action,outcome,convirza_id,http_status,message,request_id\n" {
			t.Errorf("results: %q, %v; want the header alone", b, err)
		}
	}
}
