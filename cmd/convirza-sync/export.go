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
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
	"github.com/convirza-sync/convirza-sync/sync/report"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// The canonical columns export writes; syncing the files back with no
// mapping makes zero writes.
var (
	exportGroupColumns = []string{"org_unit_ext_id", "org_unit_name", "parent_ext_id", "address", "city", "state", "zip", "phone_number", "industry"}
	exportUserColumns  = []string{"email", "first_name", "last_name", "role", "group_ext_id", "user_ext_id"}
)

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
	if err := write("groups.csv", csvRender(exportGroupColumns, groups)); err != nil {
		return err
	}
	if err := write("users.csv", csvRender(exportUserColumns, users)); err != nil {
		return err
	}
	if err := write("state.json", convirzatest.StateFromCurrent(cur).Write); err != nil {
		return err
	}
	e.log.Info().Int("groups", len(groups)).Int("users", len(users)).Int("calls", st.Calls).Str("dir", c.outDir).Msg("exported")
	fmt.Fprintf(e.stdout, "Exported %d groups and %d users to %s (groups.csv, users.csv, state.json).\n", len(groups), len(users), c.outDir)
	return nil
}

// csvRender writes a data CSV: export files are data and are never escaped.
func csvRender(header []string, rows [][]string) func(io.Writer) error {
	return func(w io.Writer) error {
		cw := report.NewCSVWriter(w, report.CSVData)
		if err := cw.Write(header); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(r); err != nil {
				return err
			}
		}
		return cw.Flush()
	}
}

// exportRows turns the current state into canonical rows. Only what a sync
// can manage is exported: active groups with an ext id whose ancestors up
// to the root all qualify too, and active users of the root or of such a
// group. What is left out is said, one line per subtree.
func exportRows(cur *state.CurrentState) (groups, users [][]string, skipped []string) {
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
			groups = append(groups, []string{g.ExtID, g.Name, exported[parent], g.Address, g.City, g.State, g.Zip, g.Phone, ind})
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
		role := string(u.Role)
		users = append(users, []string{u.Email, u.FirstName, u.LastName, role, ext, u.ExtID})
	}
	return groups, users, skipped
}
