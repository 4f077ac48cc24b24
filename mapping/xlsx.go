package mapping

import "io"

func (l *loader) readXLSX(src io.ReadSeeker, file string, k kind) *FileError {
	return &FileError{File: file, Message: "xlsx: not yet"}
}
