package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/nearest"
)

// Drafting a mapping (`convirza-sync init`): the header of each export is
// matched against the column names that CRMs write, so that a first run
// starts from a mapping that is mostly right and says what it left out.

// conventions lists, per field, the column names CRMs give it: Salesforce
// API and report (UI) names, HubSpot, Dynamics 365 (Web API and UI) and
// Zoho. They are matched by letters and digits alone, any case: "Billing
// Street", "BillingStreet" and "Billing_Street" are one.
var groupConventions = []struct {
	field string
	names []string
}{
	{"org_unit_ext_id", []string{"org_unit_ext_id", "Id", "Account ID", "AccountId", "Record ID", "hs_object_id", "Company ID", "accountid", "Account Number", "External ID"}},
	{"org_unit_name", []string{"org_unit_name", "Name", "Account Name", "Company name", "Company", "Account_Name"}},
	{"parent_ext_id", []string{"parent_ext_id", "ParentId", "Parent.Id", "Parent Account ID", "parentaccountid", "_parentaccountid_value", "Parent_Account.id", "hs_parent_company_id", "Parent Company ID"}},
	{"parent_name", []string{"parent_name", "Parent Account", "Parent.Name", "Parent Account Name", "Parent Company", "parentaccountidname", "Parent_Account", "Parent_Account.name"}},
	{"address", []string{"address", "BillingStreet", "Billing Street", "BillingAddress.street", "Street Address", "Address", "address1_line1", "Address 1: Street 1", "Billing_Street", "Street"}},
	{"city", []string{"city", "BillingCity", "Billing City", "BillingAddress.city", "address1_city", "Address 1: City", "Billing_City"}},
	{"state", []string{"state", "BillingState", "Billing State/Province", "Billing State", "BillingAddress.state", "State/Region", "address1_stateorprovince", "Address 1: State/Province", "Billing_State", "Province"}},
	{"zip", []string{"zip", "BillingPostalCode", "Billing Zip/Postal Code", "Billing Zip", "BillingAddress.postalCode", "Postal Code", "Zip Code", "address1_postalcode", "Address 1: ZIP/Postal Code", "Billing_Code"}},
	{"country", []string{"country", "BillingCountry", "Billing Country", "BillingAddress.country", "Country/Region", "address1_country", "Address 1: Country/Region", "Billing_Country"}},
	{"phone_number", []string{"phone_number", "Phone", "Phone Number", "telephone1", "Main Phone", "Account Phone"}},
	{"industry", []string{"industry", "Industry"}},
	{"industry_id", []string{"industry_id"}},
}

var userConventions = []struct {
	field string
	names []string
}{
	{"email", []string{"email", "Email Address", "internalemailaddress", "Primary Email", "E-mail"}},
	{"first_name", []string{"first_name", "FirstName", "First Name", "firstname"}},
	{"last_name", []string{"last_name", "LastName", "Last Name", "lastname"}},
	{"role", []string{"role", "Profile.Name", "Profile", "UserRole.Name", "Role Name", "User Role", "Security Role"}},
	{"group_ext_id", []string{"group_ext_id", "AccountId", "Account.Id", "Account ID", "Associated Company ID", "Company ID", "parentcustomerid", "_parentcustomerid_value"}},
	{"user_ext_id", []string{"user_ext_id", "Id", "User ID", "systemuserid", "Record ID", "hs_object_id", "Federation ID", "FederationIdentifier"}},
}

// DraftOptions says which exports to draft a mapping for, and how to read
// them (as LoadOptions).
type DraftOptions struct {
	GroupsPath, UsersPath      string
	Encoding, Delimiter, Sheet string
}

// sampleRows is how many rows a draft looks at past the header.
const sampleRows = 20

// Draft reads the header and the first rows of each export and writes a
// commented mapping YAML. The draft always parses (parseMapping).
func Draft(opts DraftOptions) ([]byte, error) {
	if opts.GroupsPath == "" && opts.UsersPath == "" {
		return nil, fmt.Errorf("draft a mapping: no groups or users file given")
	}
	l := newLoader(DefaultMapping(), "")
	if err := l.readSettings(LoadOptions{Encoding: opts.Encoding, Delimiter: opts.Delimiter, Sheet: opts.Sheet}); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Mapping drafted by convirza-sync init from the headers")
	for _, p := range []string{opts.GroupsPath, opts.UsersPath} {
		if p != "" {
			if b.Len() > 60 {
				b.WriteString(" and")
			} else {
				b.WriteString(" of")
			}
			fmt.Fprintf(&b, " %s", filepath.Base(p))
		}
	}
	b.WriteString(".\n# Check every line: a column is mapped by its name alone. Then run validate, then plan.\n")
	if opts.Encoding != "" {
		fmt.Fprintf(&b, "encoding: %s\n", opts.Encoding)
	}
	if opts.Delimiter != "" {
		fmt.Fprintf(&b, "delimiter: %q\n", opts.Delimiter)
	}
	if opts.Sheet != "" {
		fmt.Fprintf(&b, "sheet: %s\n", nearest.YAMLKey(opts.Sheet))
	}
	if opts.GroupsPath != "" {
		header, rows, err := l.sample(opts.GroupsPath)
		if err != nil {
			return nil, err
		}
		draftSection(&b, "groups", header, rows, groupConventions)
	}
	if opts.UsersPath != "" {
		header, rows, err := l.sample(opts.UsersPath)
		if err != nil {
			return nil, err
		}
		draftSection(&b, "users", header, rows, userConventions)
	}
	if _, err := parseMapping(b.Bytes(), "the draft"); err != nil {
		return nil, fmt.Errorf("draft a mapping: the draft does not parse (please report it): %w", err)
	}
	return b.Bytes(), nil
}

func draftSection(b *bytes.Buffer, sec string, header []string, rows [][]string, conv []struct {
	field string
	names []string
}) {
	byKey := map[string]int{}
	for i, h := range header {
		k := nearest.Alnum(strings.ToLower(h))
		if _, dup := byKey[k]; !dup && k != "" {
			byKey[k] = i
		}
	}
	used := make([]bool, len(header))
	col := map[string]int{}
	for _, c := range conv {
		for _, n := range c.names {
			if i, ok := byKey[nearest.Alnum(strings.ToLower(n))]; ok && !used[i] {
				col[c.field] = i
				used[i] = true
				break
			}
		}
	}
	// One parent: by ext id when both are there.
	if i, ok := col["parent_name"]; ok && sec == "groups" {
		if _, id := col["parent_ext_id"]; id {
			used[i] = false
			delete(col, "parent_name")
		}
	}
	if _, ok := col["industry_id"]; ok {
		if i, named := col["industry"]; named {
			used[i] = false
			delete(col, "industry")
		}
	}
	fmt.Fprintf(b, "\n%s:\n  columns:\n", sec)
	for _, c := range conv {
		i, ok := col[c.field]
		if !ok {
			fmt.Fprintf(b, "    # %s: (no column recognised)\n", c.field)
			continue
		}
		line := fmt.Sprintf("    %s: %s", c.field, nearest.YAMLKey(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))))
		if ex := example(rows, i); ex != "" {
			line = fmt.Sprintf("%-48s # e.g. %s", line, ex)
		}
		b.WriteString(line + "\n")
	}
	if sec == "users" {
		if i, ok := col["role"]; ok {
			var words []string
			for _, r := range rows {
				if i < len(r) {
					w := strings.TrimSpace(r[i])
					if _, known := state.ParseRole(w); w != "" && !known && !slices.Contains(words, w) {
						words = append(words, w)
					}
				}
			}
			if len(words) > 0 {
				b.WriteString("  # The export's role words that Convirza does not know: map each to admin, standard or readonly.\n  roles:\n")
				for _, w := range words {
					best := "standard"
					if s := nearest.Words(w, []string{"admin", "readonly"}); len(s) > 0 {
						best = s[0]
					}
					fmt.Fprintf(b, "    %s: %s\n", nearest.YAMLKey(w), best)
				}
			}
		}
		b.WriteString("  # match: email      # or user_ext_id\n  # defaults: {role: standard}\n")
	} else {
		b.WriteString("  # industries: {CRM word: Convirza industry}\n  # empty: {phone_number: clear}   # an empty cell clears the field (default: ignore)\n")
	}
	var left []string
	for i, h := range header {
		if !used[i] && strings.TrimSpace(h) != "" {
			left = append(left, strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(b, "  # Left unmapped (%d): %s\n", len(left), strings.Join(left, ", "))
	}
}

// example is the first non-empty sample value of column i, cut short.
func example(rows [][]string, i int) string {
	for _, r := range rows {
		if i < len(r) {
			if v := strings.Join(strings.Fields(r[i]), " "); v != "" {
				if len([]rune(v)) > 30 {
					v = string([]rune(v)[:30]) + "…"
				}
				return v
			}
		}
	}
	return ""
}

// sample reads the header and the first sampleRows rows of an export.
func (l *loader) sample(path string) ([]string, [][]string, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &FileError{File: name, Message: "open the export", Err: err}
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	format, fe := formatOf(name, "", head[:n])
	if fe != nil {
		return nil, nil, fe
	}
	switch format {
	case "xlsx":
		return l.sampleXLSX(f, name)
	case "json":
		return l.sampleJSON(f, name)
	}
	cs, fault, err := newCSVSource(f, l.enc, l.comma)
	if err != nil || fault != "" {
		return nil, nil, &FileError{File: name, Message: fault, Err: err}
	}
	var header []string
	var rows [][]string
	for len(rows) < sampleRows {
		rec, _, bad, err := cs.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, readFault(name, kindGroups, err)
		}
		if bad != nil {
			continue
		}
		if header == nil {
			header = slices.Clone(rec)
			continue
		}
		rows = append(rows, slices.Clone(rec))
	}
	if header == nil {
		return nil, nil, &FileError{File: name, Message: "the file is empty", Err: ErrNoRows}
	}
	return header, rows, nil
}

func (l *loader) sampleXLSX(src io.Reader, name string) ([]string, [][]string, error) {
	f, err := excelize.OpenReader(src, excelize.Options{UnzipSizeLimit: maxXLSXUnzip})
	if err != nil {
		return nil, nil, &FileError{File: name, Message: "read the workbook", Err: err}
	}
	defer f.Close()
	sheet := l.sheet
	if sheet == "" {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, nil, &FileError{File: name, Message: "read the sheet " + sheet, Err: err}
	}
	defer rows.Close()
	var header []string
	var out [][]string
	for rows.Next() && len(out) < sampleRows {
		c, err := rows.Columns()
		if err != nil {
			return nil, nil, &FileError{File: name, Message: "read the sheet " + sheet, Err: err}
		}
		if blankCells(c) {
			continue
		}
		if header == nil {
			header = c
		} else {
			out = append(out, c)
		}
	}
	return header, out, nil
}

// sampleJSON flattens the first objects of a JSON export (an array, or
// Salesforce's {"records": [...]}) into dotted keys.
func (l *loader) sampleJSON(src io.Reader, name string) ([]string, [][]string, error) {
	r, _, fault := textReader(src, l.enc)
	if fault != "" {
		return nil, nil, &FileError{File: name, Message: fault}
	}
	var v any
	d := json.NewDecoder(r)
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, nil, &FileError{File: name, Message: "invalid JSON", Err: err}
	}
	var recs []any
	switch t := v.(type) {
	case []any:
		recs = t
	case map[string]any:
		if rs, ok := t["records"].([]any); ok {
			recs = rs
		} else if gs, ok := t["groups"].([]any); ok {
			recs = gs
		}
	}
	var header []string
	idx := map[string]int{}
	var rows []map[string]string
	for _, rec := range recs[:min(len(recs), sampleRows)] {
		obj, ok := rec.(map[string]any)
		if !ok {
			continue
		}
		row := map[string]string{}
		flatten("", obj, row, 0)
		for _, k := range sortedKeys(row) {
			if _, ok := idx[k]; !ok {
				idx[k] = len(header)
				header = append(header, k)
			}
		}
		rows = append(rows, row)
	}
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = make([]string, len(header))
		for k, v := range row {
			out[i][idx[k]] = v
		}
	}
	return header, out, nil
}

func flatten(prefix string, obj map[string]any, out map[string]string, depth int) {
	for k, v := range obj {
		if k == "attributes" {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			if depth < maxNesting {
				flatten(prefix+k+".", t, out, depth+1)
			}
		case nil:
			out[prefix+k] = ""
		case string:
			out[prefix+k] = t
		case json.Number:
			out[prefix+k] = t.String()
		}
	}
}
