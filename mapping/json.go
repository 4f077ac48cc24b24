package mapping

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// lineCounter counts the lines of what a json.Decoder reads, so that an
// offset the decoder reports can be turned into a physical line. It keeps
// only the newlines the decoder has read ahead of the last offset asked
// about, so its memory is bounded by the decoder's buffer.
type lineCounter struct {
	r     io.Reader
	off   int64   // bytes read so far
	nl    []int64 // offsets of newlines not yet passed
	head  int
	lines int // newlines before nl[head]
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		c.nl = append(c.nl, c.off+int64(i+j))
		i += j + 1
	}
	c.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of the byte at off. Offsets must not go
// backwards between calls.
func (c *lineCounter) lineAt(off int64) int {
	for c.head < len(c.nl) && c.nl[c.head] < off {
		c.head++
		c.lines++
	}
	if c.head > 4096 && c.head*2 > len(c.nl) {
		c.nl = append(c.nl[:0], c.nl[c.head:]...)
		c.head = 0
	}
	return c.lines + 1
}

// jsonFile is one JSON export being read.
type jsonFile struct {
	l    *loader
	file string
	lc   *lineCounter
	dec  *json.Decoder
	bom  int64
}

func (j *jsonFile) line(decOff int64) int { return j.lc.lineAt(decOff + j.bom) }

func (j *jsonFile) fail(decOff int64, format string, args ...any) *FileError {
	return &FileError{File: j.file, Line: j.line(decOff), Message: fmt.Sprintf(format, args...)}
}

// syntaxErr turns a decoder error into a FileError with its line.
func (j *jsonFile) syntaxErr(err error, what string) *FileError {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FileError{File: j.file, Line: j.line(j.locate()), Message: "invalid JSON " + what + ": " + se.Error(), Err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FileError{File: j.file, Line: j.line(j.lc.off - j.bom), Message: "invalid JSON " + what + ": the file ends too early", Err: err}
	}
	return &FileError{File: j.file, Message: "read " + what, Err: err}
}

// locate finds the decoder offset of a syntax error. json.SyntaxError's
// Offset is not an offset in the stream (the decoder's scanner counts only
// the bytes of values), so the value the decoder failed on is scanned again
// from its start, which the decoder still holds in its buffer.
func (j *jsonFile) locate() int64 {
	at := j.dec.InputOffset()
	rest, _ := io.ReadAll(io.LimitReader(j.dec.Buffered(), 4<<20))
	i := 0
	skip := func() {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n' || rest[i] == '\r') {
			i++
		}
	}
	skip()
	if i < len(rest) && (rest[i] == ',' || rest[i] == ':') {
		i++
		skip()
	}
	var v json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(rest[i:])).Decode(&v); errors.As(err, &se) && se.Offset > 0 {
		return at + int64(i) + se.Offset - 1
	}
	return at + int64(i)
}

// readJSON reads a JSON export: an array of row objects that go through
// the mapping, or a combined {"groups": [...], "users": [...]} object with
// canonical keys. k is what the file was given as.
func (l *loader) readJSON(src io.Reader, file string, k kind) []*FileError {
	br := bufio.NewReaderSize(src, 64<<10)
	var bom int64
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
		bom = 3
	}
	lc := &lineCounter{r: br, off: bom}
	j := &jsonFile{l: l, file: file, lc: lc, dec: json.NewDecoder(lc), bom: bom}
	j.dec.UseNumber()
	tok, err := j.dec.Token()
	if err == io.EOF {
		return []*FileError{{File: file, Message: "the export has no rows: the file is empty", Err: ErrNoRows}}
	}
	if err != nil {
		return []*FileError{j.syntaxErr(err, "at the start")}
	}
	var errs []*FileError
	switch tok {
	case json.Delim('['):
		if fe := j.rows(k, l.m.section(k, false), j.dec.InputOffset()-1); fe != nil {
			return []*FileError{fe}
		}
	case json.Delim('{'):
		seen := map[string]bool{}
		for j.dec.More() {
			kt, err := j.dec.Token()
			if err != nil {
				return append(errs, j.syntaxErr(err, "in the top-level object"))
			}
			at := j.dec.InputOffset() - 1 // the key's closing quote
			key, _ := kt.(string)
			sk := kindGroups
			switch key {
			case "groups":
			case "users":
				sk = kindUsers
			default:
				return append(errs, j.fail(at, "unknown key %q in a combined export: it holds \"groups\" and \"users\"", key))
			}
			if seen[key] {
				return append(errs, j.fail(at, "%q is given twice", key))
			}
			seen[key] = true
			if k == kindUsers && sk == kindGroups {
				return append(errs, j.fail(at, "this combined export, given as the users file, holds groups too: give it as the groups file (or as both)"))
			}
			vt, err := j.dec.Token()
			if err != nil {
				return append(errs, j.syntaxErr(err, "after \""+key+"\""))
			}
			if vt != json.Delim('[') {
				return append(errs, j.fail(j.dec.InputOffset()-1, "%q must be an array of rows", key))
			}
			if fe := j.rows(sk, l.m.section(sk, true), j.dec.InputOffset()-1); fe != nil {
				if !errors.Is(fe, ErrNoRows) {
					return append(errs, fe)
				}
				errs = append(errs, fe)
			}
		}
		if _, err := j.dec.Token(); err != nil { // the closing brace
			return append(errs, j.syntaxErr(err, "at the end of the top-level object"))
		}
		if len(seen) == 0 {
			return []*FileError{{File: file, Message: "the export has no rows: the object has neither \"groups\" nor \"users\"", Err: ErrNoRows}}
		}
	default:
		return []*FileError{j.fail(j.dec.InputOffset()-1, "expected an array of rows, or {\"groups\": [...], \"users\": [...]}")}
	}
	if _, err := j.dec.Token(); err != io.EOF {
		if err != nil {
			return append(errs, j.syntaxErr(err, "after the export"))
		}
		return append(errs, j.fail(j.dec.InputOffset(), "unexpected data after the export"))
	}
	return errs
}

// rows reads the elements of an array whose '[' has been read.
func (j *jsonFile) rows(k kind, sec *section, openAt int64) *FileError {
	l := j.l
	var cols [maxFields]string
	byKey := map[string][]field{}
	for f := 0; f < sec.nfields(); f++ {
		if c := sec.columns[f]; c != "" {
			cols[f] = c
			hk := headerKey(c)
			byKey[hk] = append(byKey[hk], field(f))
		}
	}
	l.noteColumns(k, j.file, cols)
	n := 0
	for j.dec.More() {
		var raw json.RawMessage
		if err := j.dec.Decode(&raw); err != nil {
			return j.syntaxErr(err, "in the "+k.plural()+" array")
		}
		end := j.dec.InputOffset()
		start := end - int64(len(raw))
		rowCols := cols
		r := rowIn{file: j.file, line: j.line(start), cols: &rowCols}
		n++
		if len(raw) == 0 || raw[0] != '{' {
			l.add(state.SeverityError, k, j.file, r.line, "", "", fmt.Sprintf("expected a row object, got %s", jsonKind(raw)))
			continue
		}
		if msg := j.object(raw, byKey, &r); msg != "" {
			l.add(state.SeverityError, k, j.file, r.line, "", "", msg)
			continue
		}
		if r.blank(sec.nfields()) {
			l.add(state.SeverityWarning, k, j.file, r.line, "", "", "empty row skipped")
			n--
			continue
		}
		l.row(k, &r, sec)
	}
	if _, err := j.dec.Token(); err != nil { // the closing bracket
		return j.syntaxErr(err, "at the end of the "+k.plural()+" array")
	}
	if n == 0 {
		return &FileError{File: j.file, Line: j.line(openAt), Message: "the export has no rows: the " + k.plural() + " array is empty", Err: ErrNoRows}
	}
	return nil
}

// object fills a row from one JSON object. Values may be strings, numbers
// (kept as written: a ZIP or a phone exported as a number) or null (an
// empty cell); booleans, objects and arrays are cell faults. A key that
// matches no mapped column is ignored, as an extra CSV column is.
func (j *jsonFile) object(raw []byte, byKey map[string][]field, r *rowIn) string {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if _, err := d.Token(); err != nil { // '{'
		return "invalid JSON object: " + err.Error()
	}
	seen := map[string]bool{}
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return "invalid JSON object: " + err.Error()
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return "invalid JSON object: " + err.Error()
		}
		fields := byKey[headerKey(key)]
		if len(fields) == 0 {
			continue
		}
		hk := headerKey(key)
		if seen[hk] {
			return fmt.Sprintf("the key %q is given twice", key)
		}
		seen[hk] = true
		val, fault := "", ""
		switch {
		case !utf8.Valid(v):
			fault = "invalid UTF-8 (save the export as UTF-8)"
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				fault = "invalid JSON string: " + err.Error()
			}
			val = s
		case v[0] == 'n':
			val = ""
		case v[0] == 't' || v[0] == 'f' || v[0] == '{' || v[0] == '[':
			fault = fmt.Sprintf("expected text or a number, got %s", jsonKind(v))
		default: // a number, as written
			val = string(v)
		}
		for _, f := range fields {
			r.has[f] = true
			r.cols[f] = strings.TrimSpace(key)
			r.vals[f] = val
			if fault != "" {
				r.fault(f, fault)
			}
		}
	}
	return ""
}

func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean (" + string(v) + ")"
	case 'n':
		return "null"
	}
	return "a number"
}
