package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestFailure(t *testing.T) {
	msg := "the export has no rows: groups.csv"
	for _, tt := range []struct{ path, want string }{
		{"r.txt", "nothing was written.\n\nthe export has no rows: groups.csv\n"},
		{"r.md", "~~~ text\nthe export has no rows: groups.csv\n~~~\n"},
		{"r.json", `"error": "the export has no rows: groups.csv"`},
		{"r.html", `<pre class="alert trip" role="alert">the export has no rows: groups.csv</pre>`},
		{"r.csv", "line,kind,key,action,outcome,convirza_id,http_status,message,request_id,fields\n,,,,failed,,,the export has no rows: groups.csv,,\n"},
	} {
		render, err := Failure(tt.path, msg)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s:\n%s\nwant it to contain %q", tt.path, b.String(), tt.want)
		}
	}
	render, _ := Failure("r.txt", "stale:\n  change 3\x1b[31m")
	var b bytes.Buffer
	_ = render(&b)
	if !strings.Contains(b.String(), "stale:\n  change 3\\x1b[31m") {
		t.Errorf("line breaks kept, control characters escaped: %q", b.String())
	}
	render, _ = Failure("r.html", "bad name <img src=x onerror=alert(1)>")
	b.Reset()
	_ = render(&b)
	if strings.Contains(b.String(), "<img") || !strings.Contains(b.String(), "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the HTML failure page does not escape its message:\n%s", b.String())
	}
	if _, err := Failure("r.pdf", msg); err == nil {
		t.Error("an unknown extension is accepted")
	}
}
