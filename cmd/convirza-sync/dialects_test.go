package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/doctor"
)

// TestDialectMatrix runs, under each reading of the API's open points that
// the sandbox can play, `doctor` (which must make no write and name the
// reading with the right status) and then `sync` to convergence with no
// duplicate. A caller that is not an admin is the case doctor must call
// differs (exit 1), and sync is not run for it.
func TestDialectMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	tests := []struct {
		name    string
		shapes  convirzatest.Shapes
		dialect convirzatest.Dialect
		email   string // the login; "" means the static token
		check   string // the doctor check that tells this dialect
		want    doctor.Status
	}{
		{"plain", convirzatest.Shapes{}, convirzatest.Dialect{}, "", doctor.CheckTree, doctor.OK},
		{"plain, list groups absent", convirzatest.Shapes{}, convirzatest.Dialect{}, "", doctor.CheckListGroups, doctor.OK},
		{"nested tree", convirzatest.Shapes{NestedTree: true}, convirzatest.Dialect{}, "", doctor.CheckTree, doctor.Adapted},
		{"pages capped at 2", convirzatest.Shapes{}, convirzatest.Dialect{MaxPageSize: 2}, "", doctor.CheckPageSize, doctor.Adapted},
		{"roles as ids", convirzatest.Shapes{}, convirzatest.Dialect{Roles: convirzatest.RoleIDs}, "", doctor.CheckSpellings, doctor.Adapted},
		{"roles short", convirzatest.Shapes{}, convirzatest.Dialect{Roles: convirzatest.RoleShort}, "", doctor.CheckSpellings, doctor.OK},
		{"group detail wrapped", convirzatest.Shapes{WrappedGroupDetail: true}, convirzatest.Dialect{}, "", doctor.CheckRoot, doctor.Adapted},
		{"expires_in a time", convirzatest.Shapes{}, convirzatest.Dialect{}, "ops@example.com", doctor.CheckAuth, doctor.OK},
		{"expires_in in seconds", convirzatest.Shapes{}, convirzatest.Dialect{ExpiresInSeconds: true}, "ops@example.com", doctor.CheckAuth, doctor.Adapted},
		{"list groups present", convirzatest.Shapes{}, convirzatest.Dialect{ListGroups: true}, "", doctor.CheckListGroups, doctor.Adapted},
		{"caller not an admin", convirzatest.Shapes{}, convirzatest.Dialect{}, "grace.tanaka@northwind-dental.example", doctor.CheckAuth, doctor.Differs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t))
			w.srv.SetShapes(tt.shapes)
			w.srv.SetDialect(tt.dialect)
			if tt.email != "" {
				w.env["CONVIRZA_TOKEN"] = ""
				w.env["CONVIRZA_EMAIL"] = tt.email
				w.env["CONVIRZA_PASSWORD"] = convirzatest.Password
			}
			m := w.mark()
			r := w.run("doctor", "--output", "json")
			if ws := w.writesSince(m); len(ws) != 0 {
				t.Errorf("doctor made %d writes:\n%s", len(ws), describeCalls(ws))
			}
			var rep doctor.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("doctor --output json: %v\n%s", err, r)
			}
			got, _ := rep.Check(tt.check)
			if got.Status != tt.want {
				t.Errorf("doctor's %s check: %s (%s), want %s", tt.check, got.Status, got.Detail, tt.want)
			}
			wantCode := 0
			if tt.want == doctor.Differs {
				wantCode = 1
			}
			if r.code != wantCode || rep.Differs() != (wantCode == 1) {
				t.Errorf("doctor exit %d, want %d:\n%s", r.code, wantCode, r)
			}
			t.Logf("%s: doctor %s = %s (%s)", tt.name, tt.check, got.Status, got.Detail)
			if wantCode != 0 {
				return
			}
			if r := w.run(append([]string{"sync"}, exampleInputs...)...); r.code != 0 {
				t.Fatalf("sync:\n%s", r)
			}
			w.checkConverged(exampleInputs...)
			checkNoDuplicates(t, w.srv.Snapshot())
		})
	}
}

// TestDoctorText: against the plain sandbox, doctor's table names every
// check, exits 0 and makes no write (the sandbox's call log has GETs and
// auth calls only).
func TestDoctorText(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	w := newWorld(t, exampleState(t))
	m := w.mark()
	r := w.run("doctor")
	if r.code != 0 {
		t.Fatalf("doctor:\n%s", r)
	}
	calls := w.callsSince(m)
	for _, c := range calls {
		if c.Method != "GET" && !strings.HasPrefix(c.Path, "/oauth/") {
			t.Errorf("doctor sent %s %s", c.Method, c.Path)
		}
	}
	for _, name := range []string{doctor.CheckAuth, doctor.CheckRoot, doctor.CheckTree, doctor.CheckPageSize,
		doctor.CheckListGroups, doctor.CheckIndustries, doctor.CheckSpellings, doctor.CheckExtIDs, doctor.CheckSiblings,
		doctor.CheckAdoption, doctor.CheckRateLimit, doctor.CheckLatency, doctor.CheckClock} {
		if !strings.Contains(r.stdout, name+"  ") {
			t.Errorf("the table lacks the %s check", name)
		}
	}
	if !strings.Contains(r.stdout, "0 differs: the job can run against this account.") {
		t.Errorf("no verdict line:\n%s", r.stdout)
	}
	t.Logf("doctor against the plain sandbox: exit %d, %d calls, %d writes:\n%s", r.code, len(calls), len(w.writesSince(m)), r.stdout)
}
