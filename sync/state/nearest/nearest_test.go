package nearest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWords(t *testing.T) {
	tests := []struct {
		want string
		in   []string
		out  []string
	}{
		{"Account ID", []string{"AccountID", "Account Name", "Id"}, []string{"AccountID"}},
		{"Billing Zip", []string{"Billing Zip/Postal Code", "Shipping Zip"}, []string{"Billing Zip/Postal Code"}},
		{"Phone", []string{"Fax", "Phone Number", "Mobile Phone"}, []string{"Phone Number", "Mobile Phone"}},
		{"Email", []string{"E-mail", "Email Address", "First Name"}, []string{"E-mail", "Email Address"}},
		{"Industry", []string{"Type", "Owner"}, nil},
		// Industries: a plural, a typo, a different case.
		{"Restaurant", []string{"Automotive", "Healthcare", "Restaurants", "Retail"}, []string{"Restaurants"}},
		{"helthcare", []string{"Automotive", "Healthcare", "Home Services"}, []string{"Healthcare"}},
		{"REAL ESTATE", []string{"Real Estate", "Retail"}, []string{"Real Estate"}},
		{"Sysadmin", []string{"admin", "standard", "readonly"}, []string{"admin"}},
		{"", []string{"admin"}, nil},
		{"x", nil, nil},
		// At most three, the nearest first, ties in the candidates' order.
		{"cat", []string{"cut", "bat", "cot", "cap", "car"}, []string{"cut", "bat", "cot"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.out, Words(tt.want, tt.in)); diff != "" {
			t.Errorf("Words(%q, %q): %s", tt.want, tt.in, diff)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"straße", "strasse", 2}, {"abc", "abc", 0}} {
		if got := levenshtein(tt.a, tt.b); got != tt.d {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func BenchmarkWords(b *testing.B) {
	names := []string{"Automotive", "Education", "Financial Services", "Healthcare", "Home Services", "Hospitality",
		"Insurance", "Legal", "Manufacturing", "Real Estate", "Restaurants", "Retail", "Technology", "Travel"}
	for b.Loop() {
		Words("Restaurant", names)
	}
}

func TestYAMLKey(t *testing.T) {
	for in, want := range map[string]string{
		"Restaurant": "Restaurant", "Food & Beverage": `"Food & Beverage"`, "a: b": `"a: b"`, "": `""`,
		" padded": `" padded"`, "{x}": `"{x}"`, "Straße": "Straße",
	} {
		if got := YAMLKey(in); got != want {
			t.Errorf("YAMLKey(%q) = %s, want %s", in, got, want)
		}
	}
}
