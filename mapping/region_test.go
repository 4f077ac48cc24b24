package mapping

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPhoneRegionByRow: the mapping's phone_region is read once, and each
// row's country overrides it. A US row is parsed as NANP whatever the
// region, a row of another country in that country's region (its name in
// English, in its own language, or an ISO code), and a row with no country
// in the mapping's region.
func TestPhoneRegionByRow(t *testing.T) {
	const header = "org_unit_ext_id,org_unit_name,country,state,zip,phone_number\n"
	rows := "" +
		"US1,Boston,United States,MA,02134,(617) 555-0100\n" +
		"US2,Austin,USA,TX,73301,512-555-0101\n" +
		"US3,Denver,US,CO,80202,303.555.0102\n" +
		"DE1,Berlin,Deutschland,,10115,030 1234567\n" +
		"DE2,Munich,DEU,,80331,089 1234567\n" +
		"AT1,Vienna,Österreich,,1010,01 5123456\n" +
		"ES1,Madrid,España,,28001,912 345 678\n" +
		"GB1,London,United Kingdom,,SW1A 1AA,020 7946 0958\n" +
		"NO1,Nowhere,,,,NUMBER\n"
	tests := []struct {
		region string
		want   map[string]string // ext id -> phone
		bad    []want
	}{
		{region: "DE", want: map[string]string{
			"US1": "+16175550100", "US2": "+15125550101", "US3": "+13035550102",
			"DE1": "+49301234567", "DE2": "+49891234567", "AT1": "+4315123456", "ES1": "+34912345678", "GB1": "+442079460958",
		}},
		{region: "GB", want: map[string]string{
			"US1": "+16175550100", "US2": "+15125550101", "US3": "+13035550102",
			"DE1": "+49301234567", "DE2": "+49891234567", "AT1": "+4315123456", "ES1": "+34912345678", "GB1": "+442079460958",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			m := DefaultMapping()
			m.PhoneRegion = tt.region
			ds, err := loadString(t, m, "", kindGroups, "csv", header+rows)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			states := map[string]string{}
			for _, g := range ds.Groups {
				if g.Phone != nil {
					got[g.ExtID] = *g.Phone
				}
				if g.State != nil {
					states[g.ExtID] = *g.State
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("phones (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"US1": "MA", "US2": "TX", "US3": "CO"}, states); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if ds.PhoneRegion != tt.region {
				t.Errorf("PhoneRegion = %q, want %q", ds.PhoneRegion, tt.region)
			}
			checkProblems(t, ds, []want{{Line: 10, Column: "phone_number", Key: "NO1", Sev: E,
				Msg: `bad phone number "NUMBER": not a valid number of region ` + tt.region + " (the mapping's phone_region, US unless set)"}})
		})
	}
}

// TestPhoneRegionMessages: a bad phone names the region it was read in,
// and where that region came from.
func TestPhoneRegionMessages(t *testing.T) {
	const header = "org_unit_ext_id,org_unit_name,country,phone_number\n"
	data := header +
		"A,A,,555-0100\n" +
		"B,B,Canada,555-0101\n" +
		"C,C,Narnia,555-0102\n" +
		"D,D,Narnia,+44 20 7946 0958\n"
	ds, err := loadString(t, nil, "", kindGroups, "csv", data)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{Line: 2, Column: "phone_number", Key: "A", Sev: E, Msg: `bad phone number "555-0100": not a valid number of region US (the mapping's phone_region, US unless set)`},
		{Line: 3, Column: "phone_number", Key: "B", Sev: E, Msg: `bad phone number "555-0101": not a valid number of region CA (the row's country "Canada")`},
		{Line: 4, Column: "phone_number", Key: "C", Sev: E, Msg: `bad phone number "555-0102": the country "Narnia" is not one this tool knows, so the number must start with its country code`},
	})
	if len(ds.Groups) != 1 || ds.Groups[0].Phone == nil || *ds.Groups[0].Phone != "+442079460958" {
		t.Errorf("groups = %+v; want D alone, with +442079460958", ds.Groups)
	}
}

// TestOfflineFindings: what validate can know without Convirza, it finds:
// names wanted twice under one parent (at any level, ignoring case and
// spacing), and every row that depends on an invalid row, down the tree and
// into the users, each naming the row it depends on.
func TestOfflineFindings(t *testing.T) {
	dir := t.TempDir()
	g := writeFile(t, dir, "groups.csv", "org_unit_ext_id,org_unit_name,parent_ext_id,phone_number\n"+
		"A,Alpha,,not a phone\n"+ // 2: invalid
		"B,Beta,A,\n"+ // 3: below A
		"C,Gamma,B,\n"+ // 4: below B
		"D,Delta,,\n"+ // 5
		"E,delta ,,\n"+ // 6: the same name as D under the root
		"F,Kid,D,\n"+ // 7: below D, which is invalid now
		"G,Solo,,\n") // 8: fine
	u := writeFile(t, dir, "users.csv", usersHeader+
		"c@example.com,,,,C,\n"+ // 2: in C
		"g@example.com,,,,G,\n") // 3: fine
	ds, err := Load(LoadOptions{GroupsPath: g, UsersPath: u})
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, ds, []want{
		{2, "phone_number", "A", E, `bad phone number "not a phone"`},
		{3, "parent_ext_id", "B", E, `parent row "A" (groups.csv:2) is invalid; this row depends on it`},
		{4, "parent_ext_id", "C", E, `parent row "B" (groups.csv:3) is invalid; this row depends on it`},
		{5, "org_unit_name", "D", E, `the name "Delta" under the root is also wanted on line 6`},
		{6, "org_unit_name", "E", E, `the name "delta" under the root is also wanted on line 5`},
		{7, "parent_ext_id", "F", E, `parent row "D" (groups.csv:5) is invalid; this row depends on it`},
		{2, "group_ext_id", "c@example.com", E, `group row "C" (groups.csv:4) is invalid; this user depends on it`},
	})
	if len(ds.Groups) != 1 || ds.Groups[0].ExtID != "G" || len(ds.Users) != 1 || ds.Users[0].Email != "g@example.com" {
		t.Errorf("valid: groups %v, users %v; want G and g@example.com", ds.Groups, ds.Users)
	}
}
