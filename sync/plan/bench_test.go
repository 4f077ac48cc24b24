package plan

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/keyjoin"
)

// bigState builds a Convirza of `groups` groups (a 10-ary tree) and `users`
// users, and an export that wants it with about 1% of changes: renames, a
// few name swaps, moves, field updates, creates, role changes, new users,
// and in mirror mode departed leaf groups with their users.
func bigState(groups, users int) (*state.CurrentState, *state.DesiredState) {
	c := &state.CurrentState{RootID: 1, Industries: []state.Industry{{ID: 10, Name: "Technology"}, {ID: 11, Name: "Healthcare"}}}
	c.Groups = make([]state.Group, 0, groups+1)
	c.Groups = append(c.Groups, state.Group{ID: 1, Name: "Root", Status: state.StatusActive})
	d := &state.DesiredState{GroupsManaged: true, UsersManaged: users > 0}
	d.Groups = make([]state.DesiredGroup, 0, groups+groups/100)
	phone := func(i int) string { return fmt.Sprintf("+1-617-555-%04d", i%10000) }
	parentOf := func(i int) int { return (i - 1) / 10 } // group i is node i+1; the root is node 0
	departed := func(i int) bool { return i%1000 == 999 && i*10+1 >= groups }
	for i := 1; i <= groups; i++ {
		p := parentOf(i)
		g := state.Group{
			ID: int64(i + 1), ParentID: int64(p + 1), ExtID: "G" + strconv.Itoa(i), Name: "Group " + strconv.Itoa(i),
			Status: state.StatusActive, Address: strconv.Itoa(i) + " Main St", City: "Boston", State: "MA", Zip: "02134",
			Phone: phone(i), IndustryID: 10, IndustryName: "Technology",
		}
		c.Groups = append(c.Groups, g)
		if departed(i) {
			continue
		}
		w := state.DesiredGroup{
			Source: state.Source{File: "groups.csv", Line: i + 1}, ExtID: g.ExtID, Name: g.Name,
			Address: ptr(g.Address), City: ptr("Boston"), State: ptr("Massachusetts"), Zip: ptr("02134"),
			Phone: ptr("+1617555" + fmt.Sprintf("%04d", i%10000)), Industry: ptr("technology"),
		}
		if p > 0 {
			w.ParentExtID = "G" + strconv.Itoa(p)
		}
		switch i % 100 {
		case 7:
			w.Name += " (renamed)"
		case 31:
			if i > 200 {
				w.ParentExtID = "G" + strconv.Itoa(i/100) // a move up the tree
			}
		case 53:
			w.Phone = ptr("+16175550000")
		}
		d.Groups = append(d.Groups, w)
	}
	// swaps of names between siblings
	for i := 12; i+1 < len(d.Groups); i += 1000 {
		d.Groups[i].Name, d.Groups[i+1].Name = d.Groups[i+1].Name, d.Groups[i].Name
	}
	for i := 0; i < groups/100; i++ {
		p := 1 + i*97%groups
		if departed(p) {
			p = parentOf(p)
		}
		d.Groups = append(d.Groups, state.DesiredGroup{
			Source: state.Source{File: "groups.csv", Line: groups + 2 + i}, ExtID: "NEW" + strconv.Itoa(i), Name: "New " + strconv.Itoa(i),
			ParentExtID: "G" + strconv.Itoa(p), City: ptr("Salem"),
		})
	}
	c.Users = make([]state.User, 0, users)
	d.Users = make([]state.DesiredUser, 0, users+users/200)
	for i := range users {
		gi := 1 + i%groups
		u := state.User{ID: int64(10_000_000 + i), Email: "user" + strconv.Itoa(i) + "@example.com", FirstName: "First" + strconv.Itoa(i),
			LastName: "Last", ExtID: "U" + strconv.Itoa(i), Status: state.StatusActive, Role: "Standard User", GroupID: int64(gi + 1), GroupExtID: "G" + strconv.Itoa(gi)}
		c.Users = append(c.Users, u)
		if departed(gi) {
			continue
		}
		w := state.DesiredUser{Source: state.Source{File: "users.csv", Line: i + 2}, Email: u.Email, FirstName: ptr(u.FirstName), LastName: ptr("Last"),
			Role: ptr(state.RoleStandard), GroupExtID: ptr(u.GroupExtID), ExtID: ptr(u.ExtID)}
		if i%100 == 3 {
			w.Role = ptr(state.RoleReadOnly)
		}
		d.Users = append(d.Users, w)
	}
	for i := 0; i < users/200; i++ {
		d.Users = append(d.Users, state.DesiredUser{Source: state.Source{File: "users.csv", Line: users + 2 + i}, Email: "new" + strconv.Itoa(i) + "@example.com",
			FirstName: ptr("New"), LastName: ptr("User"), GroupExtID: ptr("NEW" + strconv.Itoa(i%max(groups/100, 1)))})
	}
	// the index of the users' keys that the loader hands over with them
	d.UserKeys = keyjoin.Index(d.Users, d.UserMatch)
	return c, d
}

// heapPeak samples the heap while a benchmark runs.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func heapNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func BenchmarkCalculate(b *testing.B) {
	for _, size := range []struct {
		name          string
		groups, users int
	}{
		{"groups=10k", 10_000, 0},
		{"groups=100k", 100_000, 0},
		{"groups=100k,users=1M", 100_000, 1_000_000},
	} {
		b.Run(size.name, func(b *testing.B) {
			c, d := bigState(size.groups, size.users)
			opts := Options{Policy: PolicyMirror, MaxDeletes: NoLimit()}
			p, err := Calculate(d, c, opts)
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Invalid) > 0 || len(p.Changes) == 0 {
				b.Fatalf("unexpected plan: %d invalid (%v), %d changes", len(p.Invalid), p.Invalid[:min(3, len(p.Invalid))], len(p.Changes))
			}
			p = nil
			input := heapNow()
			b.ReportAllocs()
			stop := heapPeak()
			b.ResetTimer()
			for b.Loop() {
				p, _ = Calculate(d, c, opts)
			}
			b.StopTimer()
			peak := stop()
			b.ReportMetric(float64(len(p.Changes)), "changes")
			// The gates count objects: a moved or deleted group with its
			// subtree and users, every other object changed once.
			b.ReportMetric(float64(gateNamed(p, "max-changes").Count), "gate-changes")
			b.ReportMetric(float64(gateNamed(p, "max-deletes").Count), "gate-deletes")
			b.ReportMetric(float64(objectsTouched(p, c, false)), "objects-touched")
			b.ReportMetric(float64(input)/(1<<20), "input-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkReadCSV reads the same data as the largest Calculate benchmark
// from CSV with encoding/csv, without even mapping the records: the bar
// that planning should not exceed.
func BenchmarkReadCSV(b *testing.B) {
	c, _ := bigState(100_000, 1_000_000)
	var groups, users bytes.Buffer
	gw, uw := csv.NewWriter(&groups), csv.NewWriter(&users)
	gw.Write([]string{"org_unit_ext_id", "org_unit_name", "parent_ext_id", "address", "city", "state", "zip", "phone_number", "industry"})
	for _, g := range c.Groups[1:] {
		gw.Write([]string{g.ExtID, g.Name, "G" + strconv.FormatInt(g.ParentID-1, 10), g.Address, g.City, g.State, g.Zip, g.Phone, g.IndustryName})
	}
	uw.Write([]string{"email", "first_name", "last_name", "role", "group_ext_id", "user_ext_id"})
	for _, u := range c.Users {
		uw.Write([]string{u.Email, u.FirstName, u.LastName, string(u.Role), u.GroupExtID, u.ExtID})
	}
	gw.Flush()
	uw.Flush()
	b.ReportAllocs()
	b.SetBytes(int64(groups.Len() + users.Len()))
	for b.Loop() {
		for _, buf := range [][]byte{groups.Bytes(), users.Bytes()} {
			r := csv.NewReader(bytes.NewReader(buf))
			for {
				if _, err := r.Read(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
