package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/convirza-sync/convirza-sync/mapping"
	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// startSandbox serves st on a loopback port, keeping every call in its log
// and with the login limit off.
func startSandbox(st convirzatest.State, latency time.Duration) (*convirzatest.Server, error) {
	sb, err := convirzatest.NewFromState(st, convirzatest.Options{LoginLimit: -1, CallLogLimit: -1, Latency: latency})
	if err != nil {
		return nil, fmt.Errorf("load the sandbox: %w", err)
	}
	srv, err := convirzatest.StartServer(sb, "")
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// newClient is a client of srv with its static token, at rate requests per
// second and a bucket of burst.
func newClient(srv *convirzatest.Server, rate float64, burst int) (*convirza.Client, error) {
	c, err := convirza.NewClient(convirza.Options{
		APIURL: srv.APIURL(), AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
		Token: srv.Token(), Rate: rate, Burst: burst, MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("make the api client: %w", err)
	}
	return c, nil
}

// v3Calls returns the /v3 calls of the sandbox's log.
func v3Calls(srv *convirzatest.Server) []convirzatest.Call {
	var out []convirzatest.Call
	for _, c := range srv.Calls() {
		if strings.HasPrefix(c.Path, "/v3/") {
			out = append(out, c)
		}
	}
	return out
}

// groupRow and userRow are rows of a CRM export in the canonical columns.
type groupRow struct {
	ext, name, parent, address, city, st, zip, phone string
	industry                                         int64
	level                                            int // 1 below the root
}

type userRow struct {
	email, first, last, role, group, ext string
}

var (
	groupHeader = []string{"org_unit_ext_id", "org_unit_name", "parent_ext_id", "address", "city", "state", "zip", "phone_number", "industry_id"}
	userHeader  = []string{"email", "first_name", "last_name", "role", "group_ext_id", "user_ext_id"}
)

// export is the CRM export that asks for exactly what an account holds:
// every group below the top group and every user that is not deleted.
type export struct {
	rootExt string
	groups  []groupRow
	users   []userRow
}

func exportOf(st convirzatest.State) *export {
	ext := make(map[int64]string, len(st.Groups))
	level := make(map[int64]int, len(st.Groups))
	for _, g := range st.Groups {
		ext[g.ID] = g.ExtID
	}
	ex := &export{rootExt: ext[st.TopGroupID]}
	ex.groups = make([]groupRow, 0, len(st.Groups))
	for _, g := range st.Groups {
		if g.ID == st.TopGroupID || g.Status == state.StatusDeleted {
			continue
		}
		// Generate lists groups level by level, so a parent is seen first.
		level[g.ID] = level[g.ParentID] + 1
		parent := ext[g.ParentID]
		if g.ParentID == st.TopGroupID {
			parent = ""
		}
		ex.groups = append(ex.groups, groupRow{
			ext: g.ExtID, name: g.Name, parent: parent, address: g.Address, city: g.City,
			st: g.State, zip: g.Zip, phone: g.Phone, industry: g.IndustryID, level: level[g.ID],
		})
	}
	ex.users = make([]userRow, 0, len(st.Users))
	for _, u := range st.Users {
		if u.Status == state.StatusDeleted {
			continue
		}
		group := ext[u.GroupID]
		if u.GroupID == st.TopGroupID {
			group = ""
		}
		ex.users = append(ex.users, userRow{
			email: u.Email, first: u.FirstName, last: u.LastName, role: string(u.Role), group: group, ext: u.ExtID,
		})
	}
	return ex
}

// drift counts what drift changed: the rows (each is one write) and the
// fields.
type drift struct {
	groups, users, fields int
}

func (d drift) rows() int { return d.groups + d.users }

// drift changes share (0..1) of the groups' and of the users' rows, one
// field per row, picked at random (seeded, so a run is reproducible): for
// groups the city, the address, the phone, the name or the parent (to
// another group of the parent's level); for users the first name, the last
// name, the role or the group. Each changed row is one difference that
// Convirza must be told about, whatever the planner says.
func (ex *export) drift(share float64, seed uint64) drift {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	byLevel := map[int][]string{}
	for _, g := range ex.groups {
		byLevel[g.level] = append(byLevel[g.level], g.ext)
	}
	var d drift
	for _, i := range pick(rng, len(ex.groups), share) {
		g := &ex.groups[i]
		kind := rng.IntN(5)
		if kind == 4 && len(byLevel[g.level-1]) < 2 {
			kind = rng.IntN(4) // a level-1 group has only the root above it
		}
		switch kind {
		case 0:
			g.city = "Drift City " + strconv.Itoa(i)
		case 1:
			g.address = fmt.Sprintf("%d Drift Avenue", i+1)
		case 2:
			old := g.phone
			g.phone = fmt.Sprintf("+1303555%04d", (i*7919+1)%10000)
			if g.phone == old {
				g.phone = "+13035550199"
			}
		case 3:
			g.name = "Renamed " + g.ext
		case 4:
			peers := byLevel[g.level-1]
			for {
				if p := peers[rng.IntN(len(peers))]; p != g.parent {
					g.parent = p
					break
				}
			}
		}
		d.groups++
		d.fields++
	}
	roles := []string{"admin", "standard", "readonly"}
	for _, i := range pick(rng, len(ex.users), share) {
		u := &ex.users[i]
		kind := rng.IntN(4)
		if kind == 3 && len(ex.groups) < 2 {
			kind = rng.IntN(3)
		}
		switch kind {
		case 0:
			u.first = "Drifted"
		case 1:
			u.last = "Drifted-" + strconv.Itoa(i)
		case 2:
			for {
				if r := roles[rng.IntN(len(roles))]; r != u.role {
					u.role = r
					break
				}
			}
		case 3:
			for {
				if g := ex.groups[rng.IntN(len(ex.groups))].ext; g != u.group {
					u.group = g
					break
				}
			}
		}
		d.users++
		d.fields++
	}
	return d
}

// pick returns round(share*n) distinct indexes out of n.
func pick(rng *rand.Rand, n int, share float64) []int {
	k := int(share*float64(n) + 0.5)
	if k <= 0 {
		return nil
	}
	return rng.Perm(n)[:min(k, n)]
}

// write writes groups.csv (and users.csv when withUsers) into dir.
func (ex *export) write(dir string, withUsers bool) (groupsPath, usersPath string, err error) {
	groupsPath = filepath.Join(dir, "groups.csv")
	err = writeCSV(groupsPath, groupHeader, len(ex.groups), func(i int, rec []string) {
		g := ex.groups[i]
		rec[0], rec[1], rec[2], rec[3], rec[4] = g.ext, g.name, g.parent, g.address, g.city
		rec[5], rec[6], rec[7], rec[8] = g.st, g.zip, g.phone, strconv.FormatInt(g.industry, 10)
	})
	if err != nil || !withUsers {
		return groupsPath, "", err
	}
	usersPath = filepath.Join(dir, "users.csv")
	err = writeCSV(usersPath, userHeader, len(ex.users), func(i int, rec []string) {
		u := ex.users[i]
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5] = u.email, u.first, u.last, u.role, u.group, u.ext
	})
	return groupsPath, usersPath, err
}

func writeCSV(path string, header []string, n int, fill func(i int, rec []string)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	cw := csv.NewWriter(bw)
	_ = cw.Write(header)
	rec := make([]string, len(header))
	for i := range n {
		fill(i, rec)
		_ = cw.Write(rec)
	}
	cw.Flush()
	err = cw.Error()
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// desired writes the export as CSV files in a temporary directory and
// loads them back through mapping.Load, as the CLI would read them.
func (ex *export) desired(withUsers bool) (*state.DesiredState, error) {
	dir, err := os.MkdirTemp("", "convirza-bench-*")
	if err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	gp, up, err := ex.write(dir, withUsers)
	if err != nil {
		return nil, err
	}
	return load(gp, up, ex.rootExt)
}

// load reads the export files through mapping.Load, with the canonical
// columns, and refuses an export with invalid rows: every figure of the
// bench assumes each row made it through.
func load(groupsPath, usersPath, rootExt string) (*state.DesiredState, error) {
	ds, err := mapping.Load(mapping.LoadOptions{GroupsPath: groupsPath, UsersPath: usersPath, RootExtID: rootExt})
	if err != nil {
		return nil, fmt.Errorf("load the export: %w", err)
	}
	if len(ds.Invalid) > 0 {
		return nil, fmt.Errorf("load the export: %d invalid rows, the first: %s", len(ds.Invalid), ds.Invalid[0].Error())
	}
	return ds, nil
}

// currentOf is the state FetchState reads from a sandbox holding st, built
// without the sandbox: the planning section uses it to time Calculate on
// an account too large to serve over HTTP in the bench's budget. The test
// checks that the planner sees no difference between the two.
func currentOf(st convirzatest.State) *state.CurrentState {
	names := make(map[int64]string, len(st.Industries))
	for _, in := range st.Industries {
		names[in.ID] = in.Name
	}
	cs := &state.CurrentState{RootID: st.TopGroupID, Groups: make([]state.Group, 0, len(st.Groups))}
	ext := make(map[int64]string, len(st.Groups))
	for _, g := range st.Groups {
		ext[g.ID] = g.ExtID
	}
	add := func(g convirzatest.Group) {
		cs.Groups = append(cs.Groups, state.Group{
			ID: g.ID, ExtID: g.ExtID, Name: g.Name, ParentID: g.ParentID, TopID: st.TopGroupID,
			BillingID: g.BillingID, Status: g.Status, Address: g.Address, City: g.City, State: g.State,
			Zip: g.Zip, Phone: g.Phone, IndustryID: g.IndustryID, IndustryName: names[g.IndustryID],
			Timezone: g.Timezone, Created: g.Created, Modified: g.Modified,
		})
	}
	for _, g := range st.Groups {
		if g.ID == st.TopGroupID {
			add(g) // the root first
		}
	}
	for _, g := range st.Groups {
		if g.ID != st.TopGroupID && g.Status != state.StatusDeleted {
			add(g)
		}
	}
	cs.Users = make([]state.User, 0, len(st.Users))
	for _, u := range st.Users {
		if u.Status == state.StatusDeleted {
			continue
		}
		cs.Users = append(cs.Users, state.User{
			ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ExtID: u.ExtID,
			Status: u.Status, Role: u.Role, GroupID: u.GroupID, GroupExtID: ext[u.GroupID], Created: u.Created,
		})
	}
	for _, in := range st.Industries {
		cs.Industries = append(cs.Industries, state.Industry{ID: in.ID, Name: in.Name})
	}
	return cs
}
