package mapping

import (
	"fmt"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/nearest"
	"github.com/convirza-sync/convirza-sync/sync/state/normalize"
)

// CRM conventions the loader knows (see doc.go for the whole list).

// isSalesforceNullID reports Salesforce's "no record" id, which exports
// write in lookup fields (ParentId, OwnerId) instead of an empty cell:
// fifteen zeros, or the 18-character form 000000000000000AAA.
func isSalesforceNullID(s string) bool {
	return s == "000000000000000" || strings.EqualFold(s, "000000000000000AAA")
}

// canadianProvinces maps the names and codes of Canada's provinces and
// territories (in English and French) to their two-letter codes.
var canadianProvinces = map[string]string{
	"AB": "AB", "ALBERTA": "AB",
	"BC": "BC", "BRITISH COLUMBIA": "BC", "COLOMBIE-BRITANNIQUE": "BC",
	"MB": "MB", "MANITOBA": "MB",
	"NB": "NB", "NEW BRUNSWICK": "NB", "NOUVEAU-BRUNSWICK": "NB",
	"NL": "NL", "NEWFOUNDLAND AND LABRADOR": "NL", "NEWFOUNDLAND": "NL", "TERRE-NEUVE-ET-LABRADOR": "NL",
	"NS": "NS", "NOVA SCOTIA": "NS", "NOUVELLE-ÉCOSSE": "NS",
	"NT": "NT", "NORTHWEST TERRITORIES": "NT", "TERRITOIRES DU NORD-OUEST": "NT",
	"NU": "NU", "NUNAVUT": "NU",
	"ON": "ON", "ONTARIO": "ON",
	"PE": "PE", "PRINCE EDWARD ISLAND": "PE", "ÎLE-DU-PRINCE-ÉDOUARD": "PE",
	"QC": "QC", "QUEBEC": "QC", "QUÉBEC": "QC", "PQ": "QC",
	"SK": "SK", "SASKATCHEWAN": "SK",
	"YT": "YT", "YUKON": "YT", "YUKON TERRITORY": "YT",
}

// canadianProvince returns the code of a province or territory.
func canadianProvince(s string) (string, bool) {
	code, ok := canadianProvinces[strings.ToUpper(normalize.Text(strings.ReplaceAll(s, ".", "")))]
	return code, ok
}

// canadianPostal returns a Canadian postal code in its usual form
// ("M5H 2N2"), from any case and spacing: letter digit letter, digit
// letter digit, with D F I O Q U never used and W Z never first.
func canadianPostal(s string) (string, bool) {
	var b []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
		case r < 0x80:
			b = append(b, byte(r))
		default:
			return "", false
		}
	}
	if len(b) != 6 {
		return "", false
	}
	for i, c := range b {
		letter := c >= 'A' && c <= 'Z'
		if i%2 == 0 && (!letter || strings.IndexByte("DFIOQU", c) >= 0 || i == 0 && (c == 'W' || c == 'Z')) {
			return "", false
		}
		if i%2 == 1 && !(c >= '0' && c <= '9') {
			return "", false
		}
	}
	return string(b[:3]) + " " + string(b[3:]), true
}

// countryHint is added to a US state or ZIP error of a row whose country
// is not mapped: the row may simply be in another country.
const countryHint = " (a row outside the US needs its country: map groups.columns.country to the export's country column)"

// roleSynonyms reads the mapping's users.roles into normalize.Key -> role.
func (m *Mapping) roleSynonyms() map[string]state.Role {
	if len(m.Users.Roles) == 0 {
		return nil
	}
	out := make(map[string]state.Role, len(m.Users.Roles))
	for k, v := range m.Users.Roles {
		if r, ok := state.ParseRole(v); ok {
			out[normalize.Key(k)] = r
		}
	}
	return out
}

// unknownRole is the message for a role no rule reads: the nearest
// Convirza role, and the mapping line that would map the CRM word.
func unknownRole(v string) string {
	best, hint := "standard", ""
	if s := nearest.Words(v, []string{"admin", "standard", "readonly"}); len(s) > 0 {
		best = s[0]
	} else if s := nearest.Words(v, []string{"administrator", "viewer", "read only"}); len(s) > 0 {
		best = map[string]string{"administrator": "admin", "viewer": "readonly", "read only": "readonly"}[s[0]]
	}
	if best != "standard" || strings.Contains(strings.ToLower(v), "standard") {
		hint = "; the nearest is " + best
	}
	return fmt.Sprintf("unknown role %q (Convirza's roles are admin, standard and readonly%s): to map it, add to the mapping\n  users:\n    roles:\n      %s: %s",
		v, hint, nearest.YAMLKey(v), best)
}
