package mapping

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Text encodings of an export. UTF-8 (with or without a byte-order mark)
// and UTF-16 with a byte-order mark are recognised by themselves; the
// others must be named (--encoding, or encoding: in the mapping).
const (
	EncUTF8        = "utf-8"
	EncUTF16LE     = "utf-16le"
	EncUTF16BE     = "utf-16be"
	EncWindows1252 = "windows-1252"
	EncISO88591    = "iso-8859-1"
)

// Encodings lists the names --encoding takes.
var Encodings = []string{EncUTF8, EncUTF16LE, EncUTF16BE, EncWindows1252, EncISO88591}

// ParseEncoding reads an encoding name in its usual spellings ("UTF8",
// "cp1252", "latin1"...); "" is auto.
func ParseEncoding(s string) (string, error) {
	k := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(strings.TrimSpace(s)))
	switch k {
	case "", "auto":
		return "", nil
	case "utf-8", "utf8":
		return EncUTF8, nil
	case "utf-16le", "utf16le", "utf-16-le", "unicode":
		return EncUTF16LE, nil
	case "utf-16be", "utf16be", "utf-16-be":
		return EncUTF16BE, nil
	case "windows-1252", "cp1252", "win-1252", "windows1252", "ansi":
		return EncWindows1252, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-latin-1":
		return EncISO88591, nil
	}
	return "", fmt.Errorf("unknown encoding %q (use %s)", s, strings.Join(Encodings, ", "))
}

// Delimiters are the CSV separators detected from the header line.
var Delimiters = []rune{',', ';', '\t', '|'}

// ParseDelimiter reads a delimiter: one character, or a name (comma,
// semicolon, tab, pipe, \t); "" is auto.
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	case "tab", `\t`:
		return '\t', nil
	case "pipe":
		return '|', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError || r == 0xFEFF {
		return 0, fmt.Errorf("unknown delimiter %q (use one character such as , ; | or tab)", s)
	}
	return r, nil
}

func delimName(r rune) string {
	switch r {
	case '\t':
		return "tab"
	case ',':
		return "','"
	}
	return fmt.Sprintf("'%c'", r)
}

func delimFlag(r rune) string {
	if r == '\t' {
		return "tab"
	}
	return fmt.Sprintf("'%c'", r)
}

// sniff is what the first bytes of a file say about it.
type sniff struct {
	enc   string // the encoding to read it in ("" for UTF-8 as is)
	skip  int64  // bytes of byte-order mark to skip (UTF-8)
	xlsx  bool   // a zip archive: an Excel workbook
	fault string // a file-level error, when the encoding cannot work
}

// sniffHead looks at the first bytes of a file. forced is the encoding
// the user named, or "".
func sniffHead(head []byte, forced string) sniff {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return sniff{xlsx: true}
	case bytes.HasPrefix(head, utf8BOM):
		if forced == "" || forced == EncUTF8 {
			return sniff{skip: 3}
		}
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		if forced == "" {
			return sniff{enc: EncUTF16LE}
		}
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		if forced == "" {
			return sniff{enc: EncUTF16BE}
		}
	}
	if forced == EncUTF8 {
		return sniff{}
	}
	if forced != "" {
		return sniff{enc: forced}
	}
	if enc := utf16NoBOM(head); enc != "" {
		return sniff{fault: fmt.Sprintf("the file looks like %s text without a byte-order mark; pass --encoding %s (or encoding: %s in the mapping)", strings.ToUpper(enc), enc, enc)}
	}
	return sniff{}
}

// utf16NoBOM guesses UTF-16 from NUL bytes in every other position.
func utf16NoBOM(head []byte) string {
	if len(head) < 8 {
		return ""
	}
	n := min(len(head), 512) &^ 1
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	switch {
	case odd*10 > n/2*8 && even == 0:
		return EncUTF16LE
	case even*10 > n/2*8 && odd == 0:
		return EncUTF16BE
	}
	return ""
}

func decoderFor(enc string) *encoding.Decoder {
	switch enc {
	case EncUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
	case EncUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()
	case EncWindows1252:
		return charmap.Windows1252.NewDecoder()
	case EncISO88591:
		return charmap.ISO8859_1.NewDecoder()
	}
	return nil
}

// decodedSource reads a file in another encoding as UTF-8, and seeks in
// the UTF-8 text: a seek backwards decodes again from the start (the CSV
// reader only seeks back to resync after a malformed record, which is
// rare).
type decodedSource struct {
	raw io.ReadSeeker
	enc string
	r   io.Reader
	pos int64 // offset in the decoded text
}

func newDecodedSource(raw io.ReadSeeker, enc string) (*decodedSource, error) {
	d := &decodedSource{raw: raw, enc: enc}
	return d, d.rewind()
}

func (d *decodedSource) rewind() error {
	if _, err := d.raw.Seek(0, io.SeekStart); err != nil {
		return err
	}
	d.r = transform.NewReader(d.raw, decoderFor(d.enc))
	d.pos = 0
	return nil
}

func (d *decodedSource) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.pos += int64(n)
	return n, err
}

func (d *decodedSource) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += d.pos
	case io.SeekStart:
	default:
		return 0, errors.New("seek from the end of decoded text")
	}
	if off < d.pos {
		if err := d.rewind(); err != nil {
			return 0, err
		}
	}
	if _, err := io.CopyN(io.Discard, d, off-d.pos); err != nil {
		return d.pos, err
	}
	return d.pos, nil
}

// detectDelimiter picks the separator of a header line among Delimiters:
// the one that occurs most outside quotes (a comma on a tie, or when none
// occurs: a file of one column).
func detectDelimiter(line []byte) rune {
	var counts [4]int
	quoted := false
	for _, c := range line {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		for i, d := range Delimiters {
			if rune(c) == d {
				counts[i]++
			}
		}
	}
	best := 0
	for i := range counts {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return Delimiters[best]
}

// firstLine returns the first line of what br holds, without consuming it
// (at most its buffer).
func firstLine(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// seemsDelimited says which other separator a one-cell header seems to
// use, or 0.
func seemsDelimited(cell string, used rune) rune {
	d := detectDelimiter([]byte(cell))
	if d != used && strings.ContainsRune(cell, d) {
		return d
	}
	return 0
}

// guessEncoding names the encoding that bytes which are not UTF-8 are
// likely in. Excel's plain "CSV" on Windows writes windows-1252, which is
// also a superset of ISO-8859-1 for the letters in use.
func guessEncoding(s string) string {
	if utf16NoBOM([]byte(s)) != "" {
		return "UTF-16"
	}
	return EncWindows1252
}

// notUTF8 is the one file-level error for bytes that are not UTF-8.
func notUTF8(file string, line int, column, cell string) *FileError {
	bad := cell
	for i := 0; i < len(cell); {
		r, n := utf8.DecodeRuneInString(cell[i:])
		if r == utf8.RuneError && n <= 1 {
			bad = fmt.Sprintf("byte 0x%02X", cell[i])
			break
		}
		i += n
	}
	where := ""
	if column != "" {
		where = fmt.Sprintf(" in column %q", column)
	}
	guess := guessEncoding(cell)
	return &FileError{File: file, Line: line, Message: fmt.Sprintf(
		"the file is not UTF-8 (%s%s); it looks like %s, which Excel's plain \"CSV (Comma delimited)\" writes: pass --encoding %s (or encoding: %s in the mapping), or save it from Excel as \"CSV UTF-8 (Comma delimited)\"",
		bad, where, guess, EncWindows1252, EncWindows1252)}
}

// maxRecordBytes bounds one CSV record (a line, or the lines of one quoted
// cell): a file with no newline, or a quote never closed, must not grow the
// reader's buffer to the size of the file. Tests lower it.
var maxRecordBytes int64 = 8 << 20

// errRecordTooLong is the read error of a record over maxRecordBytes.
var errRecordTooLong = errors.New("record too long")

// recordGuard fails a read once the record being read is over
// maxRecordBytes. The CSV source marks where each record starts.
type recordGuard struct {
	r     io.Reader
	off   int64 // bytes read
	start int64 // where the record being read starts
	limit int64
}

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.off-g.start > g.limit {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	g.off += int64(n)
	return n, err
}

// textReader returns src as UTF-8 text, for JSON: a byte-order mark (or
// the encoding given) decides. bom is the bytes of a UTF-8 mark skipped.
func textReader(src io.Reader, enc string) (r io.Reader, bom int64, fault string) {
	br := bufio.NewReaderSize(src, 64<<10)
	head, _ := br.Peek(512)
	sn := sniffHead(head, enc)
	switch {
	case sn.fault != "":
		return nil, 0, sn.fault
	case sn.enc != "":
		return bufio.NewReaderSize(transform.NewReader(br, decoderFor(sn.enc)), 64<<10), 0, ""
	}
	br.Discard(int(sn.skip))
	return br, sn.skip, ""
}
