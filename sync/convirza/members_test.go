package convirza

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzEachMember: the member scanner reads any object as encoding/json
// reads it into a map (a key given twice counts with its last value), and
// refuses what encoding/json refuses.
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{}`, ` {"a" : 1 , "b":[1,{"c":"}"}],"a":"x\"y"} `, `{"users":[],"total":"3"}`, `[1]`, `{"a":}`, `{"a":1}x`,
		`{"\u0061":null,"b":true,"c":-1.5e3,"d":{"e":[[]]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(b, &want) != nil || !isJSONObject(b)
		got := map[string]json.RawMessage{}
		err := eachMember(b, func(k string, v json.RawMessage) error {
			got[k] = v
			return nil
		})
		if (err != nil) != wantErr {
			t.Fatalf("eachMember(%q) error %v, encoding/json error %t", b, err, wantErr)
		}
		if err != nil {
			return
		}
		compact := func(m map[string]json.RawMessage) map[string]string {
			out := map[string]string{}
			for k, v := range m {
				var buf bytes.Buffer
				if err := json.Compact(&buf, v); err != nil {
					t.Fatalf("member %q: %v", k, err)
				}
				out[k] = buf.String()
			}
			return out
		}
		if d := cmp.Diff(compact(want), compact(got)); d != "" {
			t.Fatalf("eachMember(%q) differs from encoding/json (-want +got):\n%s", b, d)
		}
	})
}
