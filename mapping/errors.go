package mapping

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoRows is wrapped by the error of an export that has no rows: an empty
// file, a header alone, or an empty JSON array. It is always an error, even
// with --force.
var ErrNoRows = errors.New("the export has no rows")

// FileError is a failure of a whole file (an export or the mapping): the
// loader could not read it, or not use it. Load and LoadMapping return one
// or more of them (joined with errors.Join when there are several); use
// errors.As, or range over Unwrap() []error, to list them.
type FileError struct {
	File string `json:"file"`
	// Line is the physical, 1-based line the failure is at, or 0 when it is
	// about the whole file.
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	// Missing lists the mapped columns the header lacks.
	Missing []MissingColumn `json:"missing,omitempty"`
	// Err is the cause, when there is one (a *fs.PathError, ErrNoRows).
	Err error `json:"-"`
}

// MissingColumn is a mapped column that the header lacks.
type MissingColumn struct {
	Field  string `json:"field"`  // the Convirza field
	Column string `json:"column"` // the CRM header the mapping names
	// Suggestions are header cells that look like Column.
	Suggestions []string `json:"suggestions,omitempty"`
}

func (m MissingColumn) String() string {
	s := fmt.Sprintf("%q (%s)", m.Column, m.Field)
	if len(m.Suggestions) > 0 {
		q := make([]string, len(m.Suggestions))
		for i, c := range m.Suggestions {
			q[i] = fmt.Sprintf("%q", c)
		}
		s += "; did you mean " + strings.Join(q, " or ") + "?"
	}
	return s
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		} else {
			b.WriteString("line ")
		}
		fmt.Fprintf(&b, "%d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	for i, m := range e.Missing {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

func joinFileErrors(errs []*FileError) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	es := make([]error, len(errs))
	for i, e := range errs {
		es[i] = e
	}
	return errors.Join(es...)
}
