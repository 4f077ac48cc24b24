package plan

import (
	"encoding/json"
	"strconv"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// appendChange appends c as json.MarshalIndent(plan) writes an element of
// its changes (prefix "    ", indent "  "), without reflection: a plan file
// is mostly changes. TestEncodeIsMarshalIndent and FuzzEncode hold it to
// encoding/json's output; TestChangeEncoderKnowsEveryField fails when a
// field is added to a type it writes.
func appendChange(b []byte, c *Change) []byte {
	const in = "\n      "
	b = append(b, '{')
	b = append(b, in+`"id": `...)
	b = strconv.AppendInt(b, int64(c.ID), 10)
	b = append(b, ","+in+`"action": `...)
	b = appendString(b, c.Action.String())
	b = append(b, ","+in+`"kind": `...)
	b = appendString(b, string(c.Kind))
	b = append(b, ","+in+`"key": `...)
	b = appendString(b, c.Key)
	if c.ObjectID != 0 {
		b = append(b, ","+in+`"convirza_id": `...)
		b = strconv.AppendInt(b, c.ObjectID, 10)
	}
	if c.Name != "" {
		b = append(b, ","+in+`"name": `...)
		b = appendString(b, c.Name)
	}
	b = append(b, ","+in+`"parent": `...)
	b = appendRef(b, &c.Parent)
	if c.FromParent != nil {
		b = append(b, ","+in+`"from_parent": `...)
		b = appendRef(b, c.FromParent)
	}
	if len(c.Fields) > 0 {
		b = append(b, ","+in+`"fields": [`...)
		for i := range c.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendField(b, &c.Fields[i])
		}
		b = append(b, in+"]"...)
	}
	if c.Reason != "" {
		b = append(b, ","+in+`"reason": `...)
		b = appendString(b, c.Reason)
	}
	if c.Source != nil {
		b = append(b, ","+in+`"source": `...)
		b = appendSource(b, c.Source)
	}
	if len(c.After) > 0 {
		b = append(b, ","+in+`"after": [`...)
		for i, a := range c.After {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = strconv.AppendInt(b, int64(a), 10)
		}
		b = append(b, in+"]"...)
	}
	if c.NewUser {
		b = append(b, ","+in+`"new_user": true`...)
	}
	return append(b, "\n    }"...)
}

// member appends one member of an object whose members sit at in.
func member(b []byte, first *bool, in, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, in...)
	b = append(b, key...)
	return append(b, ": "...)
}

// appendRef appends a Ref that is a member of a change.
func appendRef(b []byte, r *Ref) []byte {
	const in = "\n        "
	first := true
	b = append(b, '{')
	if r.ID != 0 {
		b = strconv.AppendInt(member(b, &first, in, `"id"`), r.ID, 10)
	}
	if r.ExtID != "" {
		b = appendString(member(b, &first, in, `"ext_id"`), r.ExtID)
	}
	if r.Name != "" {
		b = appendString(member(b, &first, in, `"name"`), r.Name)
	}
	if first {
		return append(b, '}')
	}
	return append(b, "\n      }"...)
}

// appendSource appends the Source of a change.
func appendSource(b []byte, s *state.Source) []byte {
	const in = "\n        "
	first := true
	b = append(b, '{')
	if s.File != "" {
		b = appendString(member(b, &first, in, `"file"`), s.File)
	}
	if s.Line != 0 {
		b = strconv.AppendInt(member(b, &first, in, `"line"`), int64(s.Line), 10)
	}
	if s.Sheet != "" {
		b = appendString(member(b, &first, in, `"sheet"`), s.Sheet)
	}
	if first {
		return append(b, '}')
	}
	return append(b, "\n      }"...)
}

// appendField appends one element of a change's fields.
func appendField(b []byte, f *FieldChange) []byte {
	const in = "\n          "
	b = append(b, '{')
	b = appendString(append(b, in+`"field": `...), f.Field)
	b = appendString(append(b, ","+in+`"before": `...), f.Before)
	b = appendString(append(b, ","+in+`"after": `...), f.After)
	if f.BeforeLabel != "" {
		b = appendString(append(b, ","+in+`"before_label": `...), f.BeforeLabel)
	}
	if f.AfterLabel != "" {
		b = appendString(append(b, ","+in+`"after_label": `...), f.AfterLabel)
	}
	return append(b, "\n        }"...)
}

// appendString appends s as encoding/json quotes it: as it is when it
// holds only printable ASCII that needs no escape, else through
// json.Marshal (HTML escaping, U+2028, invalid UTF-8 and all).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
