package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func TestEscapeCell(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"plain", "plain"},
		{"Back Bay", "Back Bay"},
		{"jane@example.com", "jane@example.com"},
		{"a=b", "a=b"},
		// Formulas and their starts.
		{"=SUM(A1)", "'=SUM(A1)"},
		{"=1+1", "'=1+1"},
		{"@cmd", "'@cmd"},
		{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-1+2", "'-1+2"},
		{"-2-3", "'-2-3"},
		{"+1+1", "'+1+1"},
		{"=", "'="},
		{"-", "'-"},
		{"+", "'+"},
		{"@", "'@"},
		{"\tcell", "'\tcell"},
		{"\t1", "'\t1"},
		{"\rcell", "'\rcell"},
		{"\r\n=1", "'\r\n=1"},
		{"-req-1", "'-req-1"},
		{"--", "'--"},
		// Whole numbers stay numbers.
		{"-12.5", "-12.5"},
		{"+12", "+12"},
		{"-0", "-0"},
		{"-.5", "-.5"},
		{"-1e5", "-1e5"},
		{"-1.5E-3", "-1.5E-3"},
		{"12", "12"},
		{"-12.5.1", "'-12.5.1"},
		{"-1,234", "'-1,234"},
		{"-Inf", "'-Inf"},
		{"-0x10", "'-0x10"},
		// Phone numbers stay phone numbers.
		{"+1 617 555 0142", "+1 617 555 0142"},
		{"+16175550142", "+16175550142"},
		{"+1 (617) 555-0142", "+1 (617) 555-0142"},
		{"+44 20 7946 0958", "+44 20 7946 0958"},
		{"+1.617.555.0142", "+1.617.555.0142"},
		{"+1 617", "'+1 617"},                                 // too few digits for a phone
		{"+1234567890123456", "+1234567890123456"},            // a whole number, though too long for a phone
		{"+1 234 567 890 123 456", "'+1 234 567 890 123 456"}, // 16 digits: not a phone
		{"+1 617 555 0142 x12", "'+1 617 555 0142 x12"},
		{"+1 617 555 0142)", "'+1 617 555 0142)"},
		{"+1 617 555 0142 ", "'+1 617 555 0142 "},
		{"+1617555014+2", "'+1617555014+2"},
		{"-1 617 555 0142", "'-1 617 555 0142"}, // a phone starts with "+"
	}
	for _, tt := range tests {
		if got := EscapeCell(tt.in); got != tt.want {
			t.Errorf("EscapeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCSVCellTypes: a row's field type decides its escaping: a report Cell
// is guarded, a plain string (an export row) is written as it is.
func TestCSVCellTypes(t *testing.T) {
	type row struct {
		Report Cell   `csv:"report"`
		Data   string `csv:"data"`
		N      Count  `csv:"n"`
	}
	var b bytes.Buffer
	rows := []row{{"=SUM(A1)", "=SUM(A1)", 0}, {"@cmd", "@cmd", 3}, {"-1+2", "-1+2", -4}, {"+16175550142", "+16175550142", 0}, {"plain", "plain", 0}}
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "report,data,n\n'=SUM(A1),=SUM(A1),\n'@cmd,@cmd,3\n'-1+2,-1+2,-4\n+16175550142,+16175550142,\nplain,plain,\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read back csv: %v", err)
	}
	return recs
}

func TestCSVHeaders(t *testing.T) {
	const results = "line,kind,key,action,outcome,convirza_id,http_status,message,request_id"
	var b bytes.Buffer
	if err := ResultsCSV(&b, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(results+"\n", b.String()); diff != "" {
		t.Errorf("results CSV of no rows (-want +got):\n%s", diff)
	}
	b.Reset()
	if err := PlanCSV(&b, richPlan()); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(b.String(), "\n")
	if diff := cmp.Diff(results+",fields", first); diff != "" {
		t.Errorf("plan CSV header (-want +got):\n%s", diff)
	}
}

func TestPlanCSVRows(t *testing.T) {
	p := richPlan()
	var b bytes.Buffer
	if err := PlanCSV(&b, p); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b.String())[1:]
	if got, want := len(recs), len(p.Changes)+len(p.Invalid); got != want {
		t.Fatalf("plan CSV has %d rows, want one per change and per invalid row: %d", got, want)
	}
	var outcomes []string
	for _, r := range recs {
		if len(r) != 10 {
			t.Fatalf("row %q has %d cells, want 10", r, len(r))
		}
		outcomes = append(outcomes, r[4])
	}
	want := append(strings.Split(strings.Repeat("planned,", len(p.Changes)), ",")[:len(p.Changes)], "skipped", "skipped")
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// A skipped invalid row has no action; a create has no id.
	last := recs[len(recs)-1]
	if last[3] != "" || last[5] != "" || last[6] != "" {
		t.Errorf("invalid row %q: want empty action, convirza_id and http_status", last)
	}
}

func TestResultsCSVCells(t *testing.T) {
	var b bytes.Buffer
	rs := []plan.Result{
		{Change: 3, Line: 7, Kind: plan.KindGroup, Key: "bos-2", Action: plan.Create, Outcome: plan.OutcomeFailed, HTTPStatus: 409,
			Message: "conflict", RequestID: "req-1"},
		{Change: 4, Kind: plan.KindUser, Key: "sam@example.com", Action: plan.Create, Outcome: plan.OutcomeBlocked},
		{Line: 9, Kind: plan.KindGroup, Key: "bad", Outcome: plan.OutcomeSkipped},
	}
	if err := ResultsCSV(&b, rs); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"line", "kind", "key", "action", "outcome", "convirza_id", "http_status", "message", "request_id"},
		{"7", "group", "bos-2", "create", "failed", "", "409", "conflict", "req-1"},
		{"", "user", "sam@example.com", "create", "blocked", "", "", "", ""},
		{"9", "group", "bad", "", "skipped", "", "", "", ""},
	}
	if diff := cmp.Diff(want, readCSV(t, b.String())); diff != "" {
		t.Errorf("results CSV (-want +got):\n%s", diff)
	}
}
