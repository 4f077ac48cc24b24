package main

// Helpers of the end-to-end tests (e2e_test.go): they build the binary once,
// run it as a subprocess with a controlled environment against an in-process
// sandbox, and read the sandbox's call log and state.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convirza-sync/convirza-sync/examples"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// binPath is the convirza-sync binary TestMain builds.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convirza-sync-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: make a temp dir:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "convirza-sync")
	build := exec.Command(goTool(), "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build the binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command that runs these tests: go test puts its own
// GOROOT/bin first on the PATH of the test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// exampleInputs are the flags that name the embedded Salesforce example,
// relative to a world's directory.
var exampleInputs = []string{"--groups", examples.Groups, "--users", examples.Users, "--mapping", examples.Mapping}

// world is one test's sandbox, working directory and environment.
type world struct {
	t   *testing.T
	srv *convirzatest.Server
	dir string
	// env is the environment of every run besides PATH and HOME.
	env map[string]string
	// secrets must never appear in any output or file of a run.
	secrets []string
}

// newWorld starts a sandbox holding st on a free loopback port, and makes a
// working directory holding the example export and mapping.
func newWorld(t *testing.T, st convirzatest.State) *world {
	t.Helper()
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{CallLogLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	w := &world{t: t, srv: srv, dir: t.TempDir()}
	w.env = map[string]string{
		"CONVIRZA_API_URL":   srv.APIURL(),
		"CONVIRZA_AUTH_URL":  srv.AuthURL(),
		"CONVIRZA_TOKEN":     sb.Token(),
		"CONVIRZA_SYNC_RATE": "1000",
	}
	w.secrets = []string{sb.Token()}
	w.writeExamples()
	return w
}

// exampleState is the embedded half-set-up account.
func exampleState(t *testing.T) convirzatest.State {
	t.Helper()
	f, err := examples.FS.Open(examples.SandboxState)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := convirzatest.ReadState(f)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (w *world) writeExamples() {
	for _, name := range []string{examples.Groups, examples.Users, examples.Mapping} {
		b, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			w.t.Fatal(err)
		}
		w.write(name, string(b))
	}
}

// write writes a file into the world's directory and returns its path.
func (w *world) write(name, content string) string {
	w.t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) path(name string) string { return filepath.Join(w.dir, name) }

func (w *world) read(name string) string {
	w.t.Helper()
	b, err := os.ReadFile(w.path(name))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.took.Round(time.Millisecond), clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n[…]\n" + s[len(s)-2000:]
	}
	return s
}

// run runs the binary in the world's directory with its environment, and
// checks that no secret shows in the output or in any file of the
// directory.
func (w *world) run(args ...string) result {
	w.t.Helper()
	return w.runEnv(nil, args...)
}

// runEnv is run with extra variables; an empty value unsets one.
func (w *world) runEnv(extra map[string]string, args ...string) result {
	w.t.Helper()
	env := map[string]string{}
	for k, v := range w.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	r := runBinary(w.t, w.dir, env, args...)
	w.checkNoSecrets(r)
	return r
}

// runBinary runs the binary with only PATH, HOME and env in its environment.
func runBinary(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// tokenPattern matches every token the sandbox issues: the static token,
// access tokens and refresh tokens.
var tokenPattern = regexp.MustCompile(`\b(sbx|at|rt)_[0-9a-f]{32,}`)

// checkNoSecrets looks for a token or a secret in a run's output and in
// every file of the world's directory.
func (w *world) checkNoSecrets(r result) {
	w.t.Helper()
	look := func(where, s string) {
		if m := tokenPattern.FindString(s); m != "" {
			w.t.Errorf("%s shows a token", where)
		}
		for _, sec := range w.secrets {
			if sec != "" && strings.Contains(s, sec) {
				w.t.Errorf("%s shows a secret", where)
			}
		}
	}
	look("stdout", r.stdout)
	look("stderr", r.stderr)
	_ = filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			look(p, string(b))
		}
		return nil
	})
}

// mark is a position in the sandbox's call log.
type mark int

func (w *world) mark() mark { return mark(len(w.srv.Calls())) }

// callsSince returns the calls logged after m.
func (w *world) callsSince(m mark) []convirzatest.Call {
	return w.srv.Calls()[m:]
}

// writesSince returns the /v3 writes logged after m.
func (w *world) writesSince(m mark) []convirzatest.Call {
	var out []convirzatest.Call
	for _, c := range w.callsSince(m) {
		if c.IsWrite() {
			out = append(out, c)
		}
	}
	return out
}

func describeCalls(cs []convirzatest.Call) string {
	var b strings.Builder
	for i, c := range cs {
		if i == 20 {
			fmt.Fprintf(&b, "  … and %d more\n", len(cs)-20)
			break
		}
		fmt.Fprintf(&b, "  %s %s -> %d %s\n", c.Method, c.Path, c.Status, c.Body)
	}
	return b.String()
}

// resultRow is one row of the results CSV.
type resultRow struct {
	Line, Kind, Key, Action, Outcome, ID, Status, Message, RequestID string
}

// readResults reads a results CSV, checking its header.
func (w *world) readResults(name string) []resultRow {
	w.t.Helper()
	recs, err := csv.NewReader(strings.NewReader(w.read(name))).ReadAll()
	if err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	want := "line,kind,key,action,outcome,convirza_id,http_status,message,request_id"
	if len(recs) == 0 || strings.Join(recs[0], ",") != want {
		w.t.Fatalf("%s: header %q, want %q", name, recs, want)
	}
	var rows []resultRow
	for _, r := range recs[1:] {
		rows = append(rows, resultRow{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]})
	}
	return rows
}

// doneOutcome is the outcome of a change of that action that was done.
var doneOutcome = map[string]string{
	"create": "created", "update": "updated", "adopt": "adopted", "move": "moved", "rename": "renamed",
	"delete": "deleted", "deactivate": "deactivated", "reactivate": "reactivated",
}

// outcomeCounts counts rows by kind/action/outcome.
func outcomeCounts(rows []resultRow) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r.Kind+"/"+r.Action+"/"+r.Outcome]++
	}
	return m
}

// anyFailed reports whether a row failed or was blocked.
func anyFailed(rows []resultRow) bool {
	for _, r := range rows {
		if r.Outcome == "failed" || r.Outcome == "blocked" {
			return true
		}
	}
	return false
}

// readPlan reads a plan file.
func (w *world) readPlan(name string) *plan.Plan {
	w.t.Helper()
	p, err := plan.Unmarshal([]byte(w.read(name)))
	if err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	return p
}

// changeKeys lists a plan's changes as kind/key/action, sorted.
func changeKeys(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, string(c.Kind)+"/"+strings.ToLower(c.Key)+"/"+c.Action.String())
	}
	sort.Strings(out)
	return out
}

func rowKeys(rows []resultRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind+"/"+strings.ToLower(r.Key)+"/"+r.Action)
	}
	sort.Strings(out)
	return out
}

// checkConverged asserts that a fresh plan is empty: `plan
// --detailed-exitcode` exits 0 and makes no write.
func (w *world) checkConverged(args ...string) {
	w.t.Helper()
	m := w.mark()
	r := w.run(append([]string{"plan", "--detailed-exitcode"}, args...)...)
	if r.code != 0 {
		w.t.Errorf("a fresh plan is not empty:\n%s", r)
	}
	if ws := w.writesSince(m); len(ws) != 0 {
		w.t.Errorf("plan made %d writes:\n%s", len(ws), describeCalls(ws))
	}
}

// checkNoDuplicates: among what is not deleted, no ext id twice, no sibling
// name twice (ignoring case and surrounding spaces), no email twice.
func checkNoDuplicates(t *testing.T, st convirzatest.State) {
	t.Helper()
	for _, d := range st.Duplicates() {
		t.Error(d)
	}
}

// wireModel is the sandbox's objects as wire fields, normalized for
// comparison, by path (/v3/groups/ID, /v3/users/ID).
type wireModel map[string]map[string]string

var spaces = regexp.MustCompile(`\s+`)

// normWire normalizes one wire value the way the planner compares it.
func normWire(field, v string) string {
	v = strings.TrimSpace(v)
	switch field {
	case "org_unit_name", "address", "city", "first_name", "last_name":
		return spaces.ReplaceAllString(v, " ")
	case "state":
		return strings.ToUpper(v)
	case "username":
		return strings.ToLower(v)
	case "phone_number":
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
	case "role":
		if r, ok := state.ParseRole(v); ok {
			return string(r)
		}
	case "industry_id", "org_unit_parent_id", "ct_user_ou_id":
		if v == "0" {
			return ""
		}
	}
	return v
}

func idStr(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func groupWire(g convirzatest.Group) map[string]string {
	m := map[string]string{
		"org_unit_name": g.Name, "org_unit_ext_id": g.ExtID, "org_unit_parent_id": idStr(g.ParentID),
		"address": g.Address, "city": g.City, "state": g.State, "zip": g.Zip, "phone_number": g.Phone,
		"industry_id": idStr(g.IndustryID),
	}
	for k, v := range m {
		m[k] = normWire(k, v)
	}
	return m
}

func userWire(u convirzatest.User) map[string]string {
	m := map[string]string{
		"username": u.Email, "first_name": u.FirstName, "last_name": u.LastName, "user_ext_id": u.ExtID,
		"ct_user_ou_id": idStr(u.GroupID), "role": string(u.Role), "user_status": string(u.Status),
	}
	for k, v := range m {
		m[k] = normWire(k, v)
	}
	return m
}

func newWireModel(st convirzatest.State) wireModel {
	m := wireModel{}
	for _, g := range st.Groups {
		m["/v3/groups/"+idStr(g.ID)] = groupWire(g)
	}
	for _, u := range st.Users {
		m["/v3/users/"+idStr(u.ID)] = userWire(u)
	}
	return m
}

// decodeBody decodes a JSON object body into strings (null is "").
func decodeBody(b []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range raw {
		switch x := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out, nil
}

// checkWrites replays the writes of a run over the state before it: every
// PATCH body holds only fields whose value differs from the object's value
// at that moment, and every create names a parent group that existed
// before the create was sent. after is the state after the run (for the
// ids and creation times of what the run created).
func checkWrites(t *testing.T, before, after convirzatest.State, writes []convirzatest.Call) (patches, creates int) {
	t.Helper()
	model := newWireModel(before)
	groupsAfter := map[int64]convirzatest.Group{}
	groupByExt := map[string]convirzatest.Group{}
	for _, g := range after.Groups {
		groupsAfter[g.ID] = g
		if g.ExtID != "" && g.Status != state.StatusDeleted {
			groupByExt[g.ExtID] = g
		}
	}
	usersByEmail := map[string]convirzatest.User{}
	for _, u := range after.Users {
		if u.Status != state.StatusDeleted {
			usersByEmail[strings.ToLower(u.Email)] = u
		}
	}
	existedBefore := map[int64]bool{}
	for _, g := range before.Groups {
		existedBefore[g.ID] = g.Status != state.StatusDeleted
	}
	for _, c := range writes {
		switch c.Method {
		case "PATCH":
			patches++
			body, err := decodeBody(c.Body)
			if err != nil {
				t.Errorf("PATCH %s: body %s is not a JSON object: %v", c.Path, c.Body, err)
				continue
			}
			if len(body) == 0 {
				t.Errorf("PATCH %s: an empty body", c.Path)
			}
			obj, ok := model[c.Path]
			if !ok {
				t.Errorf("PATCH %s: an object that neither existed before nor was created by this run", c.Path)
				continue
			}
			for k, v := range body {
				have, known := obj[k]
				switch {
				case !known:
					t.Errorf("PATCH %s sends %s, a field the sync does not manage: %s", c.Path, k, c.Body)
				case normWire(k, v) == have:
					t.Errorf("PATCH %s sends %s=%q, which it already holds: %s", c.Path, k, v, c.Body)
				}
			}
			if c.Applied() {
				for k, v := range body {
					obj[k] = normWire(k, v)
				}
			}
		case "POST":
			creates++
			body, err := decodeBody(c.Body)
			if err != nil {
				t.Errorf("POST %s: body %s is not a JSON object: %v", c.Path, c.Body, err)
				continue
			}
			parentField := "org_unit_parent_id"
			if c.Path == "/v3/users" {
				parentField = "ct_user_ou_id"
			} else if body[parentField] == "" {
				parentField = "parent_org_unit_id"
			}
			pid, err := strconv.ParseInt(body[parentField], 10, 64)
			if err != nil {
				t.Errorf("POST %s: %s %q is not an id: %s", c.Path, parentField, body[parentField], c.Body)
				continue
			}
			if !existedBefore[pid] {
				p, ok := groupsAfter[pid]
				switch {
				case !ok:
					t.Errorf("POST %s at %v: parent %d does not exist", c.Path, c.Time, pid)
				case !p.Created.Before(c.Time):
					t.Errorf("POST %s at %v: parent %d was created at %v, not before", c.Path, c.Time, pid, p.Created)
				}
			}
			if !c.Applied() {
				continue
			}
			// Model what the create made, for the PATCHes that follow it.
			if c.Path == "/v3/users" {
				if u, ok := usersByEmail[strings.ToLower(body["username"])]; ok {
					model["/v3/users/"+idStr(u.ID)] = userWire(u)
				}
			} else if g, ok := groupByExt[body["org_unit_ext_id"]]; ok {
				model["/v3/groups/"+idStr(g.ID)] = groupWire(g)
			}
		}
	}
	return patches, creates
}

// promSample is one sample of a Prometheus text file.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

var promLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)`)
var promLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// readMetrics parses a Prometheus text-format file.
func (w *world) readMetrics(name string) []promSample {
	w.t.Helper()
	var out []promSample
	sc := bufio.NewScanner(strings.NewReader(w.read(name)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := promLine.FindStringSubmatch(line)
		if m == nil {
			w.t.Fatalf("%s: unreadable line %q", name, line)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			w.t.Fatalf("%s: line %q: %v", name, line, err)
		}
		s := promSample{name: m[1], labels: map[string]string{}, value: v}
		for _, l := range promLabel.FindAllStringSubmatch(m[3], -1) {
			s.labels[l[1]] = l[2]
		}
		out = append(out, s)
	}
	return out
}

// sumMetric adds up the samples of a metric by one label's value.
func sumMetric(ss []promSample, name string, key func(map[string]string) string) map[string]int {
	out := map[string]int{}
	for _, s := range ss {
		if s.name == name {
			out[key(s.labels)] += int(s.value)
		}
	}
	return out
}
