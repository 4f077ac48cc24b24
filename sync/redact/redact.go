// Package redact is the one rule for showing a URL without its
// credentials: the user information is dropped and query values that look
// like credentials are replaced. It never keeps what it hides, and it does
// no I/O.
package redact

import (
	"net/url"
	"strings"
)

// secretQueryKeys are query parameters whose values are never shown.
var secretQueryKeys = []string{"token", "access_token", "refresh_token", "password", "secret", "key", "api_key", "apikey"}

// Placeholder replaces a hidden query value.
const Placeholder = "REDACTED"

// Path is the path and query of u as errors and logs show it: query values
// that look like credentials are redacted.
func Path(u *url.URL) string {
	if u.RawQuery == "" {
		return u.EscapedPath()
	}
	return u.EscapedPath() + "?" + query(u).Encode()
}

// URL is u as reports, traces and errors show it: no user information, and
// query values that look like credentials redacted.
func URL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = query(u).Encode()
	}
	return c.String()
}

// URLString is URL for a URL given as text. Text that does not parse keeps
// only what follows its last "@", so that "user:pw@host" never shows.
func URLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return "…" + s[i:]
		}
		return s
	}
	return URL(u)
}

func query(u *url.URL) url.Values {
	q := u.Query()
	for k := range q {
		for _, s := range secretQueryKeys {
			if strings.EqualFold(k, s) {
				q[k] = []string{Placeholder}
			}
		}
	}
	return q
}
