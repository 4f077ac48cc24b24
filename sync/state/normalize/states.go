package normalize

import "strings"

// stateNames maps USPS codes to names; stateCodes maps upper-cased names,
// alternative names and AP-style abbreviations (without dots) to codes.
var stateNames = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
	"FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
	"IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
	"NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
	"PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
	"TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
	"WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
	"AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
	"VI": "U.S. Virgin Islands", "UM": "United States Minor Outlying Islands",
	"AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}

var stateCodes = func() map[string]string {
	m := make(map[string]string, 2*len(stateNames)+64)
	for code, name := range stateNames {
		m[name] = code
	}
	for k, v := range map[string]string{
		"Virgin Islands": "VI", "US Virgin Islands": "VI", "Washington DC": "DC", "Washington D C": "DC",
		"District Of Columbia": "DC",
		// AP style, dots removed ("Mass." -> "Mass").
		"Ala": "AL", "Ariz": "AZ", "Ark": "AR", "Calif": "CA", "Colo": "CO", "Conn": "CT",
		"Del": "DE", "Fla": "FL", "Ga": "GA", "Ill": "IL", "Ind": "IN", "Kan": "KS", "Kans": "KS",
		"Ky": "KY", "La": "LA", "Md": "MD", "Mass": "MA", "Mich": "MI", "Minn": "MN", "Miss": "MS",
		"Mo": "MO", "Mont": "MT", "Neb": "NE", "Nebr": "NE", "Nev": "NV", "Okla": "OK", "Ore": "OR",
		"Oreg": "OR", "Pa": "PA", "Penn": "PA", "Tenn": "TN", "Tex": "TX", "Vt": "VT", "Va": "VA",
		"Wash": "WA", "W Va": "WV", "Wis": "WI", "Wisc": "WI", "Wyo": "WY",
	} {
		m[k] = v
	}
	upper := make(map[string]string, len(m))
	for k, v := range m {
		upper[strings.ToUpper(Text(strings.ReplaceAll(k, ".", " ")))] = v
	}
	return upper
}()
