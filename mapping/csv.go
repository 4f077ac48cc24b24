package mapping

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// Exports are read with encoding/csv, not gocsv (which writes the report
// and export files), for three things gocsv's decoders cannot give: the
// file streams row by row under a csv.Reader this package owns (no
// package-level reader, no goroutine per row); a malformed row becomes a
// row problem and the read goes on past it, where gocsv stops the whole
// file; and every problem names its physical line (FieldPos), where gocsv
// counts records. Its struct tags would not help either: the columns are
// only known at run time, from the mapping. A line that is one whole
// record (its quoted cells, if any, closed on it) is split by csvSource
// itself (nextFast), exactly as encoding/csv would split it (a
// differential test and fuzz target hold it to that); the first other line
// hands the rest of the file to encoding/csv.

// csvSource reads CSV records with their physical lines, and reads past a
// malformed record instead of stopping.
type csvSource struct {
	src      io.ReadSeeker // the file, or its text decoded to UTF-8
	r        *csv.Reader
	guard    *recordGuard
	comma    rune
	base     int64 // absolute offset where r started
	lineBase int   // physical lines before base
	lastLine int   // the line of the last record read
	// checkUTF8 says the text is read as is, so that bytes that are not
	// UTF-8 are the file's fault (a decoded text is UTF-8 by making).
	checkUTF8 bool
	// fast, until it is nil, reads the lines itself (see nextFast);
	// fastOff and fastLine are the offset and the physical lines it has
	// consumed; fastRec, fastBuf and fastEnds are what it reuses.
	fast     *bufio.Reader
	fastOff  int64
	fastLine int
	fastRec  []string
	fastBuf  []byte
	fastEnds []int
	chunk    strings.Builder // where text copies records
	// valid says the last record is UTF-8 as a whole (nextFast checks
	// the record at once, rather than cutRow each cell)
	valid bool
	br    *bufio.Reader // the buffered text under r
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// newCSVSource sniffs the file's encoding (a byte-order mark, or the
// encoding given) and its delimiter (from the header line, unless comma is
// given).
func newCSVSource(src io.ReadSeeker, enc string, comma rune) (*csvSource, string, error) {
	var head [512]byte
	n, err := io.ReadFull(src, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	sn := sniffHead(head[:n], enc)
	if sn.fault != "" {
		return nil, sn.fault, nil
	}
	if sn.xlsx {
		return nil, "the file is an Excel workbook (a zip archive), not CSV: name it .xlsx, or pass --input-format xlsx", nil
	}
	c := &csvSource{src: src, comma: comma, checkUTF8: sn.enc == ""}
	if sn.enc != "" {
		if c.src, err = newDecodedSource(src, sn.enc); err != nil {
			return nil, "", err
		}
	}
	if err := c.restart(sn.skip, 0); err != nil {
		return nil, "", err
	}
	if c.comma < utf8.RuneSelf {
		c.fast, c.fastOff = c.br, c.base
	}
	return c, "", nil
}

func (c *csvSource) restart(base int64, lineBase int) error {
	if _, err := c.src.Seek(base, io.SeekStart); err != nil {
		return fmt.Errorf("seek to byte %d: %w", base, err)
	}
	br := bufio.NewReaderSize(c.src, 64<<10)
	c.br = br
	if c.comma == 0 {
		c.comma = detectDelimiter(firstLine(br))
	}
	c.guard = &recordGuard{r: br, limit: maxRecordBytes}
	c.r = csv.NewReader(c.guard)
	c.r.Comma = c.comma
	c.r.FieldsPerRecord = -1 // ragged rows are a row problem, checked by the loader
	c.r.ReuseRecord = true
	c.base, c.lineBase = base, lineBase
	return nil
}

// tooLongError is a record over maxRecordBytes; after is the line of the
// record before it.
type tooLongError struct{ after int }

func (e *tooLongError) Error() string { return e.fileError("").Message }
func (e *tooLongError) Unwrap() error { return errRecordTooLong }

func (e *tooLongError) fileError(file string) *FileError {
	return &FileError{File: file, Line: e.after + 1, Message: fmt.Sprintf(
		"the record that starts on line %d is longer than %s: a quote that is never closed, or a file that is not CSV (nothing after it was read)",
		e.after+1, sizeText(maxRecordBytes)), Err: errRecordTooLong}
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// offset is the absolute byte offset the reader has consumed.
func (c *csvSource) offset() int64 {
	if c.fast != nil {
		return c.fastOff
	}
	return c.base + c.r.InputOffset()
}

// badRecord is a record the csv parser refused.
type badRecord struct {
	partial []string // the fields before the fault
	line    int      // the physical line the record starts on
	errLine int      // the physical line of the fault
	errCol  int      // its 1-based byte column
	err     error    // csv.ErrQuote, csv.ErrBareQuote
}

// next returns the next record and the physical line it starts on, or a
// bad record, or io.EOF. A record's fields share one string; the record
// slice is reused by the next call.
func (c *csvSource) next() (rec []string, line int, bad *badRecord, err error) {
	if c.fast != nil {
		rec, line, ok, err := c.nextFast()
		if ok {
			return rec, line, nil, err
		}
		c.fast = nil
		if err := c.restart(c.fastOff, c.fastLine); err != nil {
			return nil, 0, nil, err
		}
	}
	c.valid = false
	pre := c.offset()
	c.guard.start = c.guard.off
	rec, err = c.r.Read()
	if err == nil {
		l, _ := c.r.FieldPos(0)
		c.lastLine = c.lineBase + l
		return rec, c.lastLine, nil, nil
	}
	if err == io.EOF {
		return nil, 0, nil, io.EOF
	}
	if errors.Is(err, errRecordTooLong) {
		return nil, 0, nil, &tooLongError{after: c.lastLine}
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil, 0, nil, err
	}
	c.lastLine = c.lineBase + pe.StartLine
	bad = &badRecord{
		partial: rec,
		line:    c.lineBase + pe.StartLine,
		errLine: c.lineBase + pe.Line,
		errCol:  pe.Column,
		err:     pe.Err,
	}
	if pe.Line > pe.StartLine {
		// The fault is past the record's first line: a quote opened there
		// swallowed the lines after it. Read again from the line after the
		// record's first line, so that those rows are not lost.
		if err := c.resync(pre, bad.line); err != nil {
			return nil, 0, nil, err
		}
	}
	return nil, 0, bad, nil
}

// nextFast reads the next record while every line so far has been one
// record: a line with no carriage return but before its newline, whose
// quoted cells (if any) open and close on it, is split on the delimiter
// here, as encoding/csv would split it (an empty line is skipped, "\r\n"
// ends a line as "\n" does, and so does a "\r" at the end of the file;
// a quoted cell loses its quotes, and "" in it is one quote), at a third
// of its cost. Salesforce's Data Loader quotes every cell, and Excel quotes
// an address with a comma in it, so quoted lines are common. ok is false at
// the first other line (a quoted cell that goes on past the line, a quote
// that encoding/csv would refuse, a line longer than the buffer, or a read
// error): the caller then hands that line and the rest of the file to
// encoding/csv, from the offset where this one stopped.
func (c *csvSource) nextFast() (rec []string, line int, ok bool, err error) {
	for {
		b, rerr := c.fast.ReadSlice('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, 0, false, nil
		}
		if len(b) == 0 {
			return nil, 0, true, io.EOF
		}
		body := b
		if body[len(body)-1] == '\n' {
			body = body[:len(body)-1]
		}
		if n := len(body); n > 0 && body[n-1] == '\r' {
			body = body[:n-1]
		}
		if int64(len(b)) > maxRecordBytes || bytes.IndexByte(body, '\r') >= 0 {
			return nil, 0, false, nil
		}
		// A line with a quote is split into a scratch buffer first (its
		// cells lose their quotes); either way the record's text is then
		// copied once into the source's chunk, as encoding/csv keeps a
		// record in one string.
		quoted := bytes.IndexByte(body, '"') >= 0
		if quoted {
			var ok bool
			if c.fastBuf, c.fastEnds, ok = splitLine(body, byte(c.comma), c.fastBuf[:0], c.fastEnds[:0]); !ok {
				return nil, 0, false, nil
			}
		}
		c.fastOff += int64(len(b))
		c.fastLine++
		if len(body) == 0 {
			continue // csv skips empty lines
		}
		rec = c.fastRec[:0]
		if quoted {
			c.valid = c.checkUTF8 && utf8.Valid(c.fastBuf)
			s := c.text(c.fastBuf)
			at := 0
			for _, e := range c.fastEnds {
				rec = append(rec, s[at:e])
				at = e
			}
		} else {
			// The cells are the line's bytes between its delimiters.
			c.valid = c.checkUTF8 && utf8.Valid(body)
			s := c.text(body)
			comma := byte(c.comma)
			for {
				i := strings.IndexByte(s, comma)
				if i < 0 {
					break
				}
				rec = append(rec, s[:i])
				s = s[i+1:]
			}
			rec = append(rec, s)
		}
		c.fastRec = rec
		c.lastLine = c.fastLine
		return rec, c.fastLine, true, nil
	}
}

// splitLine appends the cells of one line (without its newline) to buf,
// and the end of each in buf to ends. ok is false when the line is not a
// whole record as encoding/csv reads it: a quoted cell not closed on it,
// text after a closing quote, or a quote inside an unquoted cell.
func splitLine(body []byte, comma byte, buf []byte, ends []int) ([]byte, []int, bool) {
	for {
		if len(body) > 0 && body[0] == '"' {
			body = body[1:]
			for {
				i := bytes.IndexByte(body, '"')
				if i < 0 {
					return buf, ends, false // the cell goes on past the line
				}
				buf = append(buf, body[:i]...)
				body = body[i+1:]
				if len(body) == 0 || body[0] != '"' {
					break
				}
				buf = append(buf, '"') // "" is one quote
				body = body[1:]
			}
			ends = append(ends, len(buf))
			switch {
			case len(body) == 0:
				return buf, ends, true
			case body[0] != comma:
				return buf, ends, false // text after the closing quote
			}
			body = body[1:]
			continue
		}
		cell := body
		i := bytes.IndexByte(body, comma)
		if i >= 0 {
			cell = body[:i]
		}
		if bytes.IndexByte(cell, '"') >= 0 {
			return buf, ends, false // a bare quote
		}
		buf = append(buf, cell...)
		ends = append(ends, len(buf))
		if i < 0 {
			return buf, ends, true
		}
		body = body[i+1:]
	}
}

// textChunk is the size of the chunks text copies records into.
const textChunk = 64 << 10

// text returns b as a string, copied into the current chunk of the
// source's text: a chunk holds hundreds of records, so that they cost
// one allocation, not one each (nor the rounding up of each to a size
// class). A strings.Builder never changes the bytes it has handed out;
// a record that does not fit starts a new chunk.
func (c *csvSource) text(b []byte) string {
	if len(b) > textChunk/4 {
		return string(b)
	}
	if c.chunk.Cap()-c.chunk.Len() < len(b) {
		c.chunk = strings.Builder{}
		c.chunk.Grow(textChunk)
	}
	at := c.chunk.Len()
	c.chunk.Write(b)
	return c.chunk.String()[at:]
}

// resync restarts the reader on the line after startLine. pre is the
// offset where the failed read began: only empty lines (which csv skips)
// lie between it and startLine.
func (c *csvSource) resync(pre int64, startLine int) error {
	if _, err := c.src.Seek(pre, io.SeekStart); err != nil {
		return fmt.Errorf("seek to byte %d: %w", pre, err)
	}
	br := bufio.NewReader(c.src)
	off := pre
	for {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			off += int64(len(line))
			line, err = br.ReadSlice('\n')
		}
		off += int64(len(line))
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if empty := len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0; !empty || err != nil {
			break // the record's first line, now skipped
		}
	}
	return c.restart(off, startLine)
}

// readCSV reads one CSV export of the given kind.
//
// It runs in two stages: a goroutine parses records and cuts each into the
// mapped cells (rowIn), in batches, while the caller converts and checks
// them. The stages share nothing but the batches they pass; every problem
// is recorded by the caller, in file order. On two cores the parsing
// overlaps the conversion; on one it costs a channel send per 512 rows.
func (l *loader) readCSV(src io.ReadSeeker, file string, k kind, size int64) *FileError {
	cs, fault, err := newCSVSource(src, l.enc, l.comma)
	if err != nil {
		return &FileError{File: file, Message: "read the " + k.plural() + " export", Err: err}
	}
	if fault != "" {
		return &FileError{File: file, Message: fault}
	}
	sec := l.m.section(k, false)
	var header []string
	headerLine := 0
	for header == nil {
		rec, line, bad, err := cs.next()
		switch {
		case err == io.EOF:
			return &FileError{File: file, Message: "the export has no rows: the file is empty", Err: ErrNoRows}
		case err != nil:
			return readFault(file, k, err)
		case bad != nil:
			return &FileError{File: file, Line: bad.line, Message: "the header cannot be parsed: " + describeCSVFault(bad)}
		}
		header, headerLine = append([]string(nil), rec...), line
	}
	if cs.checkUTF8 {
		for _, h := range header {
			if !utf8.ValidString(h) {
				return notUTF8(file, headerLine, "", h)
			}
		}
	}
	lay, fe := resolveHeader(sec, header, file, headerLine, cs.comma)
	if fe != nil {
		return fe
	}
	l.noteColumns(k, file, lay.cols)
	headerEnd := cs.offset()

	// A fixed set of batches goes round: the reader takes an empty one
	// from free (waiting for it when all are out), and the caller gives
	// each back once converted.
	batches := make(chan *csvBatch, csvBatches)
	free := make(chan *csvBatch, csvBatches+1)
	for range csvBatches + 1 {
		free <- &csvBatch{items: make([]csvItem, 0, csvBatchSize)}
	}
	stop := make(chan struct{})
	go cutRecords(cs, lay, header, file, batches, free, stop)
	defer func() {
		close(stop)
		for range batches { // let the reader finish if we stop early
		}
	}()

	rows, reserved := 0, false
	var ioErr *FileError
	for b := range batches {
		for i := range b.items {
			it := &b.items[i]
			switch it.kind {
			case itemRow:
				rows++
				l.row(k, &it.row, sec)
			case itemBlank:
				l.add(state.SeverityWarning, k, file, it.row.line, "", "", "empty row skipped")
			case itemRagged:
				rows++
				l.add(state.SeverityError, k, file, it.row.line, it.col, it.key, it.msg)
			case itemBad:
				rows++
				l.add(state.SeverityError, k, file, it.row.line, it.col, it.key, it.msg)
			}
			*it = csvItem{} // the batch is reused: drop what it holds
		}
		if !reserved && rows >= 256 && size > 0 {
			reserved = true
			if per := (b.offset - headerEnd) / int64(rows); per > 0 {
				l.reserve(k, int(min((size-headerEnd)/per*21/20+16, 1<<26)), lay)
			}
		}
		if b.err != nil {
			ioErr = b.err
		}
		b.items, b.err = b.items[:0], nil
		free <- b // never blocks: free holds every batch
	}
	if ioErr != nil {
		return ioErr
	}
	if rows == 0 {
		return &FileError{File: file, Line: headerLine, Message: "the export has no rows: the file holds a header alone", Err: ErrNoRows}
	}
	return nil
}

// A csvItem is one record, cut: a row to convert, or a record that is
// already known to be a problem.
type csvItem struct {
	kind          uint8
	row           rowIn
	col, key, msg string
}

const (
	itemRow uint8 = iota
	itemBlank
	itemRagged
	itemBad
)

type csvBatch struct {
	items  []csvItem
	offset int64      // the input offset after the batch
	err    *FileError // a read failure that ended the file
}

const (
	csvBatchSize = 512
	csvBatches   = 2 // batches in flight; one more is being filled
)

// cutRecords is the first stage of readCSV: it parses the records and
// cuts them into batches of items, until the end of the input.
func cutRecords(cs *csvSource, lay *layout, header []string, file string, out chan<- *csvBatch, free chan *csvBatch, stop <-chan struct{}) {
	defer close(out)
	k := lay.sec.kind
	n := lay.sec.nfields()
	b := <-free
	send := func() bool {
		b.offset = cs.offset()
		select {
		case out <- b:
		case <-stop:
			return false
		}
		select {
		case b = <-free:
			return true
		case <-stop:
			return false
		}
	}
loop:
	for {
		rec, line, bad, err := cs.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.err = readFault(file, k, err)
			break
		}
		b.items = append(b.items, csvItem{})
		it := &b.items[len(b.items)-1]
		it.row.file, it.row.cols = file, &lay.cols
		switch {
		case bad != nil:
			it.kind, it.row.line = itemBad, bad.line
			if i := lay.index[keyField(k)]; i >= 0 && i < len(bad.partial) {
				it.key = strings.TrimSpace(bad.partial[i])
			}
			it.col = cellName(header, len(bad.partial)) // the cell after the ones parsed
			it.msg = describeCSVFault(bad)
		case len(rec) != lay.width:
			it.kind, it.row.line = itemRagged, line
			if i := lay.index[keyField(k)]; i >= 0 && i < len(rec) {
				it.key = strings.TrimSpace(rec[i])
			}
			if len(rec) < lay.width {
				it.col = cellName(header, len(rec))
			}
			it.msg = fmt.Sprintf("expected %d fields, got %d", lay.width, len(rec))
		default:
			it.row.line = line
			if bad := cutRow(&it.row, rec, lay, n, cs.checkUTF8 && !cs.valid); bad >= 0 {
				b.items = b.items[:len(b.items)-1]
				b.err = notUTF8(file, line, lay.cols[bad], rec[lay.index[bad]])
				break loop
			}
			if it.row.mask == 0 && it.row.blank(n) {
				it.kind = itemBlank
			} else {
				it.row.clean(fieldsOf(k))
			}
		}
		if len(b.items) == csvBatchSize && !send() {
			return
		}
	}
	if len(b.items) > 0 || b.err != nil {
		send()
	}
}

// readFault is the file error of a read that failed.
func readFault(file string, k kind, err error) *FileError {
	var tl *tooLongError
	if errors.As(err, &tl) {
		return tl.fileError(file)
	}
	return &FileError{File: file, Message: "read the " + k.plural() + " export", Err: err}
}

// cutRow fills a row with its mapped cells. With checkUTF8, it returns
// the first field whose cell is not UTF-8 (the file is in another
// encoding), or -1.
func cutRow(r *rowIn, rec []string, lay *layout, n int, checkUTF8 bool) int {
	kept, total := 0, 0
	for f := 0; f < n; f++ {
		i := lay.index[f]
		if i < 0 {
			continue
		}
		v := rec[i]
		r.has[f] = true
		if checkUTF8 && !utf8.ValidString(v) {
			return f
		}
		r.vals[f] = v
		kept += len(v)
	}
	for _, v := range rec {
		total += len(v)
	}
	if total > 2*kept+64 {
		// Most of the record is in columns the mapping ignores: copy the
		// cells kept, so that the record's string can be freed.
		packCells(r, n, kept)
	}
	return -1
}

func keyField(k kind) field {
	if k == kindUsers {
		return uEmail
	}
	return gExtID
}

func cellName(header []string, i int) string {
	if i < 0 || i >= len(header) {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
}

func describeCSVFault(b *badRecord) string {
	what := "a stray quote"
	switch {
	case errors.Is(b.err, csv.ErrBareQuote):
		what = `a quote (") inside an unquoted cell; quote the cell and double the quote ("")`
	case errors.Is(b.err, csv.ErrQuote) && b.errLine > b.line:
		what = fmt.Sprintf("a quoted cell opened on line %d is not closed properly (the fault shows on line %d); the lines in between were read again as rows", b.line, b.errLine)
	case errors.Is(b.err, csv.ErrQuote):
		what = `text after a closing quote, or a quote that is never closed; double a quote inside a quoted cell ("")`
	}
	return fmt.Sprintf("bad quoting at line %d, byte %d: %s", b.errLine, b.errCol, what)
}

// packCells copies the kept cells into one new string.
func packCells(r *rowIn, n, kept int) {
	var sb strings.Builder
	sb.Grow(kept)
	for f := 0; f < n; f++ {
		if r.has[f] {
			sb.WriteString(r.vals[f])
		}
	}
	s := sb.String()
	at := 0
	for f := 0; f < n; f++ {
		if r.has[f] {
			m := len(r.vals[f])
			r.vals[f] = s[at : at+m]
			at += m
		}
	}
}

// noteColumns remembers the column names used by the checks across rows.
func (l *loader) noteColumns(k kind, file string, cols [maxFields]string) {
	if k == kindUsers {
		l.u.seen = true
		set := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		set(&l.u.emailCol, cols[uEmail])
		set(&l.u.extCol, cols[uExtID])
		set(&l.u.groupCol, cols[uGroupExtID])
		return
	}
	l.g.seen = true
	l.g.file = file
	if l.g.extCol == "" {
		l.g.extCol = cols[gExtID]
	}
	if l.g.parentCol == "" {
		l.g.parentCol = cols[gParentExtID]
	}
	if l.g.parentNameCol == "" {
		l.g.parentNameCol = cols[gParentName]
	}
	if l.g.nameCol == "" {
		l.g.nameCol = cols[gName]
	}
}

// reserve sizes the result for about n more rows, from the size of the
// file: besides saving the copies of a growing slice, this keeps the
// garbage collector from running over and over as the result grows (its
// next cycle is due when the heap doubles).
func (l *loader) reserve(k kind, n int, lay *layout) {
	fields := []field{gAddress, gZip, gPhone} // cities, states and industries are interned
	if k == kindUsers {
		l.u.reserve(n)
		fields = []field{uFirstName, uLastName, uGroupExtID, uExtID}
	} else {
		l.g.reserve(n)
	}
	ptrs := 0
	for _, f := range fields {
		if lay.index[f] >= 0 {
			ptrs++
		}
	}
	l.slab.reserve(n * ptrs)
}

func (l *loader) row(k kind, r *rowIn, sec *section) {
	if k == kindUsers {
		l.userRow(r, sec)
	} else {
		l.groupRow(r, sec)
	}
}
