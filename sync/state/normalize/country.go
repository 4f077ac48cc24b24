package normalize

import (
	"strings"
	"sync"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/unicode/norm"
)

// IsUS reports whether a row's country (as exported) names the United
// States. An empty country is not a country: whether such a row is a US row
// depends on the phone region (RowRegion).
func IsUS(country string) bool {
	r, ok := CountryRegion(country)
	return ok && r == "US"
}

// CountryRegion returns the region (ISO 3166 alpha-2, as phonenumbers
// knows it) of a country as a CRM exports it: an ISO 3166 alpha-2 or
// alpha-3 code, or the country's name in English or in one of the common
// languages of Europe and the Americas, the country's own language
// included ("Deutschland", "España", "Österreich", "Schweiz", "Suisse").
// Case, accents, dots, spaces and hyphens do not matter. It is "", false
// for an empty or unknown country.
func CountryRegion(country string) (string, bool) {
	k := countryFold(country)
	if k == "" {
		return "", false
	}
	r, ok := countryIndex()[k]
	return r, ok
}

// RowRegion is the phone region of one row: the region of its country when
// the row names one, else the mapping's region ("" is US). known is false
// when the row names a country that CountryRegion does not know; the
// region is then "" and a number must carry its country code.
func RowRegion(country, region string) (rowRegion string, known bool) {
	if strings.TrimSpace(country) == "" {
		return normRegion(region), true
	}
	if r, ok := CountryRegion(country); ok {
		return r, true
	}
	return "", false
}

// countryLanguages are the languages whose country names are recognised,
// besides each country's own language.
var countryLanguages = []string{
	"en", "de", "fr", "es", "it", "pt", "nl", "sv", "nb", "da", "fi", "pl", "cs", "sk", "hu",
	"ro", "hr", "sl", "el", "tr", "ga", "is", "et", "lv", "lt", "bg", "ca",
}

// countryAliases are names the locale data does not give.
var countryAliases = map[string]string{
	"USA": "US", "UNITEDSTATESOFAMERICA": "US", "AMERICA": "US", "UNITEDSTATES": "US",
	"UK": "GB", "GREATBRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB",
	"NORTHERNIRELAND": "GB", "BRITAIN": "GB", "HOLLAND": "NL", "THENETHERLANDS": "NL",
	"KOREA": "KR", "SOUTHKOREA": "KR", "RUSSIA": "RU", "CZECHIA": "CZ", "CZECHREPUBLIC": "CZ",
}

// countryIndex maps folded names and codes to regions, built once. A name
// that two regions share in different languages is left out: ambiguous.
var countryIndex = sync.OnceValue(func() map[string]string {
	idx := map[string]string{}
	ambiguous := map[string]bool{}
	put := func(name, region string) {
		k := countryFold(name)
		if k == "" || ambiguous[k] {
			return
		}
		if r, ok := idx[k]; ok && r != region {
			delete(idx, k)
			ambiguous[k] = true
			return
		}
		idx[k] = region
	}
	var namers []display.Namer
	for _, l := range countryLanguages {
		if n := display.Regions(language.MustParse(l)); n != nil {
			namers = append(namers, n)
		}
	}
	for region := range phonenumbers.GetSupportedRegions() {
		reg, err := language.ParseRegion(region)
		if err != nil {
			continue
		}
		for _, n := range namers {
			put(n.Name(reg), region)
		}
		if tag, err := language.Compose(language.Und, reg); err == nil {
			if base, conf := tag.Base(); conf != language.No {
				if n := display.Regions(language.Make(base.String())); n != nil {
					put(n.Name(reg), region)
				}
			}
		}
	}
	// Codes and aliases win over names.
	for region := range phonenumbers.GetSupportedRegions() {
		idx[region] = region
		if reg, err := language.ParseRegion(region); err == nil && reg.ISO3() != "" {
			idx[reg.ISO3()] = region
		}
	}
	for k, r := range countryAliases {
		idx[k] = r
	}
	return idx
})

// countryFold is the key a country is looked up by: upper case, accents
// dropped, letters and digits only.
func countryFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}
