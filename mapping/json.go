package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/nearest"
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
	br, bom, fault := textReader(src, l.enc)
	if fault != "" {
		return []*FileError{{File: file, Message: fault}}
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
			case "totalSize", "nextRecordsUrl", "attributes":
				// Salesforce's REST/Bulk envelope: only records matter.
				var skip json.RawMessage
				if err := j.dec.Decode(&skip); err != nil {
					return append(errs, j.syntaxErr(err, "after \""+key+"\""))
				}
				continue
			case "done":
				var done any
				if err := j.dec.Decode(&done); err != nil {
					return append(errs, j.syntaxErr(err, "after \"done\""))
				}
				if done == false {
					return append(errs, j.fail(at, "the export is one page of a larger Salesforce query (\"done\": false): fetch every page (follow nextRecordsUrl, or use the Bulk API) and export the whole result"))
				}
				continue
			case "records":
				if seen["groups"] || seen["users"] {
					return append(errs, j.fail(at, "\"records\" (a Salesforce query result) cannot be mixed with \"groups\" and \"users\" (a combined export)"))
				}
				if seen[key] {
					return append(errs, j.fail(at, "%q is given twice", key))
				}
				seen[key] = true
				vt, err := j.dec.Token()
				if err != nil {
					return append(errs, j.syntaxErr(err, "after \"records\""))
				}
				if vt != json.Delim('[') {
					return append(errs, j.fail(j.dec.InputOffset()-1, "\"records\" must be an array of rows"))
				}
				if fe := j.rows(k, l.m.section(k, false), j.dec.InputOffset()-1); fe != nil {
					return append(errs, fe)
				}
				continue
			default:
				return append(errs, j.fail(at, "unknown key %q at the top of the export: it holds either \"groups\" and \"users\" (a combined export) or \"records\" (a Salesforce query result)", key))
			}
			if seen["records"] {
				return append(errs, j.fail(at, "\"records\" (a Salesforce query result) cannot be mixed with \"groups\" and \"users\" (a combined export)"))
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
			return []*FileError{{File: file, Message: "the export has no rows: the object has neither \"groups\", \"users\" nor \"records\"", Err: ErrNoRows}}
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

// jsonKeys resolves the keys of row objects to fields. A mapped key with
// dots (Parent.Id, Owner.Email) reaches into nested objects; prefixes holds
// the leading parts of those keys ("parent"), each with the fields below it.
type jsonKeys struct {
	byKey    map[string][]field
	prefixes map[string][]field
	// carried says which fields some object of the array carries; seen
	// collects the keys the objects hold (up to maxSeenKeys), for the
	// suggestions of a missing key.
	carried [maxFields]bool
	seen    map[string]string
}

const maxSeenKeys = 256

func newJSONKeys(sec *section) *jsonKeys {
	ks := &jsonKeys{byKey: map[string][]field{}, prefixes: map[string][]field{}, seen: map[string]string{}}
	for f := 0; f < sec.nfields(); f++ {
		c := sec.columns[f]
		if c == "" {
			continue
		}
		hk := headerKey(c)
		ks.byKey[hk] = append(ks.byKey[hk], field(f))
		for i := range len(hk) {
			if hk[i] == '.' && i > 0 {
				ks.prefixes[hk[:i]] = append(ks.prefixes[hk[:i]], field(f))
			}
		}
	}
	return ks
}

func (ks *jsonKeys) saw(key string) {
	if len(ks.seen) < maxSeenKeys {
		hk := headerKey(key)
		if _, ok := ks.seen[hk]; !ok {
			ks.seen[hk] = strings.TrimSpace(key)
		}
	}
}

// rows reads the elements of an array whose '[' has been read.
func (j *jsonFile) rows(k kind, sec *section, openAt int64) *FileError {
	l := j.l
	var cols [maxFields]string
	for f := 0; f < sec.nfields(); f++ {
		cols[f] = sec.columns[f]
	}
	ks := newJSONKeys(sec)
	openLine := j.line(openAt) // offsets may not go backwards
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
		if msg := j.object(raw, ks, &r); msg != "" {
			l.add(state.SeverityError, k, j.file, r.line, "", "", msg)
			continue
		}
		if r.blank(sec.nfields()) {
			l.add(state.SeverityWarning, k, j.file, r.line, "", "", "empty row skipped")
			n--
			continue
		}
		r.clean(fieldsOf(k))
		l.row(k, &r, sec)
	}
	if _, err := j.dec.Token(); err != nil { // the closing bracket
		return j.syntaxErr(err, "at the end of the "+k.plural()+" array")
	}
	if n == 0 {
		return &FileError{File: j.file, Line: openLine, Message: "the export has no rows: the " + k.plural() + " array is empty", Err: ErrNoRows}
	}
	return j.missingKeys(k, sec, ks, openLine)
}

// missingKeys is the JSON twin of a CSV header that lacks a mapped column:
// a mapped key that no object of the array carries is a typo or the wrong
// export, and loading on would manage the field as absent (parents lost,
// phones dropped) without a word.
func (j *jsonFile) missingKeys(k kind, sec *section, ks *jsonKeys, line int) *FileError {
	var missing []MissingColumn
	for f := 0; f < sec.nfields(); f++ {
		col := sec.columns[f]
		if col == "" || ks.carried[f] || sec.optional && !sec.required(field(f)) {
			continue
		}
		missing = append(missing, MissingColumn{Field: fieldsOf(k)[f].name, Column: col})
	}
	if len(missing) == 0 {
		return nil
	}
	free := make([]string, 0, len(ks.seen))
	for _, hk := range sortedKeys(ks.seen) {
		free = append(free, ks.seen[hk])
	}
	for i := range missing {
		missing[i].Suggestions = nearest.Words(missing[i].Column, free)
	}
	msg := fmt.Sprintf("no object of the %s array carries %d mapped key", k.plural(), len(missing))
	if len(missing) > 1 {
		msg += "s"
	}
	return &FileError{File: j.file, Line: line, Message: msg, Missing: missing}
}

// object fills a row from one JSON object. Values may be strings, numbers
// (kept as written: a ZIP or a phone exported as a number) or null (an
// empty cell); booleans, objects and arrays are cell faults. A key that
// matches no mapped column is ignored, as an extra CSV column is. A mapped
// key with dots reaches into nested objects (Salesforce's
// "Parent": {"Id": ...}), and a null nested object leaves every field
// below it empty.
func (j *jsonFile) object(raw []byte, ks *jsonKeys, r *rowIn) string {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if _, err := d.Token(); err != nil { // '{'
		return "invalid JSON object: " + err.Error()
	}
	seen := map[string]bool{}
	return j.members(d, "", ks, r, seen, 0)
}

// maxNesting bounds how deep dotted keys reach.
const maxNesting = 8

func (j *jsonFile) members(d *json.Decoder, prefix string, ks *jsonKeys, r *rowIn, seen map[string]bool, depth int) string {
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return "invalid JSON object: " + err.Error()
		}
		key, _ := kt.(string)
		full := prefix + key
		ks.saw(full)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return "invalid JSON object: " + err.Error()
		}
		hk := headerKey(full)
		fields := ks.byKey[hk]
		if len(fields) == 0 {
			under := ks.prefixes[hk]
			switch {
			case len(under) == 0 || len(v) == 0:
			case v[0] == '{' && depth < maxNesting:
				nd := json.NewDecoder(bytes.NewReader(v))
				nd.UseNumber()
				if _, err := nd.Token(); err != nil {
					return "invalid JSON object: " + err.Error()
				}
				if msg := j.members(nd, full+".", ks, r, seen, depth+1); msg != "" {
					return msg
				}
			case v[0] == 'n': // a null object: every field below it is empty
				for _, f := range under {
					if !r.has[f] {
						r.has[f] = true
						r.vals[f] = ""
						ks.carried[f] = true
					}
				}
			}
			continue
		}
		if seen[hk] {
			return fmt.Sprintf("the key %q is given twice", full)
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
			ks.carried[f] = true
			r.cols[f] = strings.TrimSpace(full)
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
