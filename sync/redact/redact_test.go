package redact

import (
	"net/url"
	"testing"
)

func TestURLString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://platform-api.convirza.com/v3", "https://platform-api.convirza.com/v3"},
		{"https://bob:hunter2@api.example/v3", "https://api.example/v3"},
		{"https://api.example/v3/groups?limit=200&token=abc", "https://api.example/v3/groups?limit=200&token=REDACTED"},
		{"https://api.example/v3?Access_Token=abc&API_KEY=k", "https://api.example/v3?API_KEY=REDACTED&Access_Token=REDACTED"},
		{"://bob:hunter2@host", "…@host"},
	} {
		if got := URLString(tt.in); got != tt.want {
			t.Errorf("URLString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPath(t *testing.T) {
	u, err := url.Parse("https://bob:pw@api.example/v3/users/list?email=a%40b.c&password=pw")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Path(u), "/v3/users/list?email=a%40b.c&password=REDACTED"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}
