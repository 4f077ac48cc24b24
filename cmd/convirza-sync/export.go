package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/statefile"
)

// exportGroup and exportUser are the rows of groups.csv and users.csv, in
// the canonical columns: syncing the files back with no mapping makes zero
// writes. Their cells are plain strings, not report cells: export files
// are data, and are never escaped.
type exportGroup struct {
	ExtID       string `csv:"org_unit_ext_id"`
	Name        string `csv:"org_unit_name"`
	ParentExtID string `csv:"parent_ext_id"`
	Address     string `csv:"address"`
	City        string `csv:"city"`
	State       string `csv:"state"`
	Zip         string `csv:"zip"`
	Phone       string `csv:"phone_number"`
	Industry    string `csv:"industry"`
}

type exportUser struct {
	Email      string `csv:"email"`
	FirstName  string `csv:"first_name"`
	LastName   string `csv:"last_name"`
	Role       string `csv:"role"`
	GroupExtID string `csv:"group_ext_id"`
	UserExtID  string `csv:"user_ext_id"`
}

// runExport writes Convirza's current state under the root: groups.csv and
// users.csv in canonical columns (plain data, no ids), and state.json, the
// full snapshot the sandbox loads with --state.
func runExport(ctx context.Context, e *env, c *config, _ []string) error {
	if c.outDir == "" {
		return usagef("export: --out-dir DIR is required")
	}
	s, err := connect(e, c)
	if err != nil {
		return err
	}
	defer s.close(ctx, e.log)
	cur, st, err := s.client.FetchState(ctx, convirza.FetchOptions{Root: c.root, Industries: true, RootDetails: true})
	if err != nil {
		return s.readError(err)
	}
	if err := os.MkdirAll(c.outDir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	groups, users, skipped := exportRows(cur)
	for _, msg := range skipped {
		e.log.Warn().Msg(msg)
	}
	write := func(name string, render func(io.Writer) error) error {
		if err := report.WriteFile(filepath.Join(c.outDir, name), render); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		return nil
	}
	if err := write("groups.csv", func(w io.Writer) error { return report.WriteCSV(w, groups) }); err != nil {
		return err
	}
	if err := write("users.csv", func(w io.Writer) error { return report.WriteCSV(w, users) }); err != nil {
		return err
	}
	if err := write("state.json", statefile.FromCurrent(cur).Write); err != nil {
		return err
	}
	e.log.Info().Int("groups", len(groups)).Int("users", len(users)).Int("calls", st.Calls).Str("dir", c.outDir).Msg("exported")
	fmt.Fprintf(e.stdout, "Exported %d groups and %d users to %s (groups.csv, users.csv, state.json).\n", len(groups), len(users), c.outDir)
	return nil
}

// exportRows turns the current state into canonical rows. Only what a sync
// can manage is exported: active groups with an ext id whose ancestors up
// to the root all qualify too, and active users of the root or of such a
// group. What is left out is said, one line per subtree.
func exportRows(cur *state.CurrentState) (groups []exportGroup, users []exportUser, skipped []string) {
	byID := make(map[int64]state.Group, len(cur.Groups))
	children := map[int64][]state.Group{}
	for _, g := range cur.Groups {
		byID[g.ID] = g
		if g.ID != cur.RootID {
			children[g.ParentID] = append(children[g.ParentID], g)
		}
	}
	industry := map[int64]string{}
	for _, in := range cur.Industries {
		industry[in.ID] = in.Name
	}
	exported := map[int64]string{cur.RootID: ""} // id -> ext id as a parent column
	var walk func(parent int64)
	walk = func(parent int64) {
		kids := children[parent]
		slices.SortFunc(kids, func(a, b state.Group) int { return strings.Compare(a.Name, b.Name) })
		for _, g := range kids {
			if g.Status == state.StatusDeleted {
				continue
			}
			if g.ExtID == "" || !g.Active() {
				why := "it has no org_unit_ext_id"
				if !g.Active() {
					why = "it is " + string(g.Status)
				}
				skipped = append(skipped, fmt.Sprintf("export: group %q (id %d) and everything under it left out: %s", g.Name, g.ID, why))
				continue
			}
			exported[g.ID] = g.ExtID
			ind := industry[g.IndustryID]
			if ind == "" && g.IndustryName != "" {
				ind = g.IndustryName
			}
			groups = append(groups, exportGroup{g.ExtID, g.Name, exported[parent], g.Address, g.City, g.State, g.Zip, g.Phone, ind})
			walk(g.ID)
		}
	}
	walk(cur.RootID)
	us := slices.Clone(cur.Users)
	slices.SortFunc(us, func(a, b state.User) int { return strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)) })
	for _, u := range us {
		if !u.Active() {
			continue
		}
		ext, ok := exported[u.GroupID]
		if !ok {
			skipped = append(skipped, fmt.Sprintf("export: user %s left out: its group (id %d) is not exported", u.Email, u.GroupID))
			continue
		}
		users = append(users, exportUser{u.Email, u.FirstName, u.LastName, string(u.Role), ext, u.ExtID})
	}
	return groups, users, skipped
}
