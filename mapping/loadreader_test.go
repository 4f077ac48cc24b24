package mapping

import (
	"io"

	"github.com/convirza-sync/convirza-sync/sync/state"
)

// loadReader loads one export from a reader, as Load does from a file, for
// the tests and fuzz targets.
func loadReader(m *Mapping, rootExtID string, k kind, format, name string, src io.ReadSeeker) (*state.DesiredState, error) {
	if m == nil {
		m = DefaultMapping()
	}
	l := newLoader(m, rootExtID)
	l.fileOrder(name)
	size, _ := src.Seek(0, io.SeekEnd)
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	errs := l.readSource(src, name, format, k, false, size)
	return l.finish(), joinFileErrors(errs)
}
