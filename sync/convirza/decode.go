package convirza

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// flexInt is an integer that may arrive as a JSON number ("12", "12.0") or a
// string of one ("12"); null and "" read as 0. Anything else is an error.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*f = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		str, err := unquote(b)
		if err != nil {
			return err
		}
		s = strings.TrimSpace(str)
		if s == "" {
			*f = 0
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		*f = flexInt(int64(x))
		return nil
	}
	return fmt.Errorf("want an integer, got %.40s", s)
}

// unquote decodes a JSON string, quickly when it holds no escape.
func unquote(b []byte) (string, error) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '\\') < 0 &&
		bytes.IndexByte(b[1:n-1], '"') < 0 && utf8.Valid(b[1:n-1]) {
		return string(b[1 : n-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// flexString is text that may arrive as a JSON string, number or boolean;
// null reads as "". An object or an array is an error.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want text, got %.40s", b)
	default: // a number or a boolean, kept as written
		*f = flexString(b)
	}
	return nil
}

// flexTime is a timestamp in any reasonable form: RFC 3339 (with or without
// fractions), "2006-01-02 15:04:05", a date, or Unix seconds or milliseconds.
// An unreadable timestamp reads as the zero time: timestamps are read-only
// information, and one odd value must not fail a whole listing.
type flexTime time.Time

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func (f *flexTime) UnmarshalJSON(b []byte) error {
	*f = flexTime(parseTimeValue(b))
	return nil
}

func parseTimeValue(b []byte) time.Time {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return time.Time{}
	}
	if b[0] != '"' {
		x, err := strconv.ParseFloat(string(b), 64)
		if err != nil || x <= 0 {
			return time.Time{}
		}
		if x > 1e12 { // milliseconds
			return time.UnixMilli(int64(x)).UTC()
		}
		return time.Unix(int64(x), 0).UTC()
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return time.Time{}
	}
	return parseTimeString(s)
}

func parseTimeString(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func (f flexTime) Time() time.Time { return time.Time(f) }

// envelope is the API's response wrapper.
type envelope struct {
	Code      flexInt         `json:"code"`
	Message   flexString      `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID flexString      `json:"request_id"`
	Errors    json.RawMessage `json:"errors"`
}

// hasData reports whether the envelope carries a non-null data member.
func (e *envelope) hasData() bool {
	d := bytes.TrimSpace(e.Data)
	return len(d) > 0 && string(d) != "null"
}

// fieldErrors reads the envelope's "errors" (a list of {field, message}, a
// list of strings, or an object of field -> message), ignoring anything else.
func (e *envelope) fieldErrors() []FieldError {
	raw := bytes.TrimSpace(e.Errors)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []FieldError
		for _, item := range list {
			var fe struct {
				Field   flexString `json:"field"`
				Message flexString `json:"message"`
			}
			var s string
			switch {
			case json.Unmarshal(item, &s) == nil:
				out = append(out, FieldError{Message: s})
			case json.Unmarshal(item, &fe) == nil:
				out = append(out, FieldError{Field: string(fe.Field), Message: string(fe.Message)})
			}
		}
		return out
	}
	var obj map[string]flexString
	if json.Unmarshal(raw, &obj) == nil {
		out := make([]FieldError, 0, len(obj))
		for k, v := range obj {
			out = append(out, FieldError{Field: k, Message: string(v)})
		}
		sortFieldErrors(out)
		return out
	}
	return nil
}

func sortFieldErrors(fe []FieldError) {
	for i := 1; i < len(fe); i++ {
		for j := i; j > 0 && fe[j].Field < fe[j-1].Field; j-- {
			fe[j], fe[j-1] = fe[j-1], fe[j]
		}
	}
}

// isJSONObject reports whether raw is a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// isJSONArray reports whether raw is a JSON array.
func isJSONArray(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '['
}

// member returns the value of the first of keys that obj, a JSON object,
// holds and that is not null. A key given twice in obj counts with its last
// value, as a map would.
func member(obj json.RawMessage, keys ...string) (json.RawMessage, bool) {
	if !isJSONObject(obj) {
		return nil, false
	}
	found := make([]json.RawMessage, len(keys))
	err := eachMember(obj, func(k string, v json.RawMessage) error {
		for i, want := range keys {
			if k == want {
				found[i] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, false
	}
	for _, v := range found {
		if v != nil && string(bytes.TrimSpace(v)) != "null" {
			return v, true
		}
	}
	return nil, false
}

// eachMember calls fn with each key of the JSON object obj and its value
// (a sub-slice of obj, not a copy), in order, scanning the object once: no
// map is built and nothing is copied. It fails when obj is not one
// well-formed object.
func eachMember(obj []byte, fn func(key string, val json.RawMessage) error) error {
	if !json.Valid(obj) {
		return fmt.Errorf("want an object, got %.40s", bytes.TrimSpace(obj))
	}
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return fmt.Errorf("want an object, got %.40s", bytes.TrimSpace(obj))
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		// obj is valid JSON: a key, a colon, a value, then ',' or '}'.
		end := skipValue(obj, i)
		key, err := unquote(obj[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1) // the colon
		end = skipValue(obj, i)
		if err := fn(key, obj[i:end:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if obj[i] == '}' {
			return nil
		}
		i = skipSpace(obj, i+1) // the comma
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		default:
			if depth == 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				// A number, true, false or null: up to the next delimiter.
				for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
					i++
				}
				return i
			}
		}
	}
	return i
}

// interner shares the backing of strings that repeat across the rows of a
// listing (a status, a role, a city, a group's ext id on each of its users),
// so a million rows hold a few thousand copies instead of a million. It
// keeps at most max strings; past that, new values are kept as they are.
type interner struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

func newInterner(max int) *interner { return &interner{m: map[string]string{}, max: max} }

// internMax bounds a client's interner: enough for the distinct names,
// cities and group ext ids of a large account, a few MiB at most.
const internMax = 1 << 17

// lockedInterner is an interner held by one caller: nil interns nothing.
type lockedInterner struct{ in *interner }

// lock takes the interner for a page of rows; the caller calls unlock.
func (in *interner) lock() lockedInterner {
	if in == nil {
		return lockedInterner{}
	}
	in.mu.Lock()
	return lockedInterner{in}
}

func (l lockedInterner) unlock() {
	if l.in != nil {
		l.in.mu.Unlock()
	}
}

// s returns the shared copy of v.
func (l lockedInterner) s(v string) string {
	if l.in == nil || v == "" {
		return v
	}
	if c, ok := l.in.m[v]; ok {
		return c
	}
	if len(l.in.m) >= l.in.max || len(v) > 128 {
		return v
	}
	l.in.m[v] = v
	return v
}

// unwrapObject returns data.<key> when it is an object (the "data.group"
// shape), else data itself.
func unwrapObject(data json.RawMessage, key string) json.RawMessage {
	if v, ok := member(data, key); ok && isJSONObject(v) {
		return v
	}
	return data
}

// snippet returns the start of a body on one line, at most n bytes.
func snippet(body []byte, n int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > n {
		s = s[:n]
		// Do not cut a UTF-8 sequence in half.
		for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xC0 {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return s
}
