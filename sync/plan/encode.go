package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Encode writes the plan file (what Marshal returns, byte for byte, and a
// final newline) to w as a stream: the plan's top-level members are written
// one after the other, and the elements of its lists one at a time, so the
// memory it takes does not grow with the number of changes. It is the one
// encoder of the format; Marshal buffers it.
func (p *Plan) Encode(w io.Writer) error {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	if p == nil {
		bw.WriteString("null\n")
		return bw.Flush()
	}
	e := &streamEncoder{w: bw}
	e.enc = json.NewEncoder(&e.buf)
	if err := e.object(reflect.ValueOf(p).Elem()); err != nil {
		return err
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// streamEncoder writes a struct as json.MarshalIndent(v, "", "  ") would,
// member by member, its slices element by element.
type streamEncoder struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	// scratch holds one change while it is written.
	scratch []byte
}

// value writes v as MarshalIndent would at the given depth, after the
// first line (which the caller placed).
func (e *streamEncoder) value(v reflect.Value, depth int) error {
	e.buf.Reset()
	e.enc.SetIndent(strings.Repeat("  ", depth), "  ")
	if err := e.enc.Encode(v.Interface()); err != nil {
		return err
	}
	b := bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})
	_, err := e.w.Write(b)
	return err
}

// object writes the struct v, at depth 0, streaming its non-empty slices.
func (e *streamEncoder) object(v reflect.Value) error {
	t := v.Type()
	e.w.WriteByte('{')
	first := true
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if omitted(fv, opts) {
			continue
		}
		if !first {
			e.w.WriteByte(',')
		}
		first = false
		key, err := json.Marshal(name)
		if err != nil {
			return fmt.Errorf("encode plan: %w", err)
		}
		e.w.WriteString("\n  ")
		e.w.Write(key)
		e.w.WriteString(": ")
		if fv.Kind() == reflect.Slice && fv.Len() > 0 {
			err = e.slice(fv)
		} else {
			err = e.value(fv, 1)
		}
		if err != nil {
			return fmt.Errorf("encode plan: %s: %w", name, err)
		}
	}
	if !first {
		e.w.WriteByte('\n')
	}
	e.w.WriteByte('}')
	return nil
}

// slice writes a non-empty slice at depth 1, one element at a time.
func (e *streamEncoder) slice(v reflect.Value) error {
	e.w.WriteByte('[')
	changes, _ := v.Interface().([]Change)
	for i := range v.Len() {
		if i > 0 {
			e.w.WriteByte(',')
		}
		e.w.WriteString("\n    ")
		if changes != nil {
			e.scratch = appendChange(e.scratch[:0], &changes[i])
			if _, err := e.w.Write(e.scratch); err != nil {
				return err
			}
			continue
		}
		if err := e.value(v.Index(i), 2); err != nil {
			return err
		}
	}
	_, err := e.w.WriteString("\n  ]")
	return err
}

// omitted applies the omitempty and omitzero options of a field, as
// encoding/json does.
func omitted(v reflect.Value, opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		switch o {
		case "omitempty":
			switch v.Kind() {
			case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
				if v.Len() == 0 {
					return true
				}
			case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
				reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
				if v.IsZero() {
					return true
				}
			}
		case "omitzero":
			if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
				if z.IsZero() {
					return true
				}
			} else if v.IsZero() {
				return true
			}
		}
	}
	return false
}
