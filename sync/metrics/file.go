package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// WriteFile writes r's metrics to path in the Prometheus text format, with
// the label command on every metric. The write is atomic: a temporary file
// in the same directory is written, synced and renamed over path, so a
// reader (the node exporter's textfile collector, say) never sees half a
// file. A new file is made 0644 less the umask (it holds counts, no
// personal data, and a collector often reads it as another user); an
// existing file keeps its mode.
//
// A failed run has no last success of its own, but when path holds an
// earlier run's convirza_sync_last_success_timestamp_seconds for the same
// command, that value is kept: "time since the last success" alerts must
// survive a failed night. (A Pushgateway does the same; see Push.)
func WriteFile(path string, r Run) error {
	o := options{commandAsLabel: true}
	if !r.Success {
		o.lastSuccess = previousLastSuccess(path, r.Command)
	}
	reg, err := build(r, o)
	if err != nil {
		return fmt.Errorf("write metrics file %s: %w", path, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("write metrics file %s: gather: %w", path, err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return fmt.Errorf("write metrics file %s: encode %s: %w", path, mf.GetName(), err)
		}
	}
	if err := writeAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write metrics file %s: %w", path, err)
	}
	return nil
}

// writeAtomic replaces path with data through a synced temporary file in
// the same directory. The temporary name does not end in .prom, so a
// textfile collector skips it.
func writeAtomic(path string, data []byte) (err error) {
	tmp, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-", 0o644)
	if err != nil {
		return fmt.Errorf("create a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if st, serr := os.Stat(path); serr == nil && st.Mode().IsRegular() {
		if err := tmp.Chmod(st.Mode().Perm()); err != nil {
			return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp.Name(), err)
	}
	return nil
}

// createTemp is os.CreateTemp with a mode of its own, which the umask
// narrows (os.CreateTemp always makes 0600).
func createTemp(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no unused temporary name in %s", dir)
}

// previousLastSuccess is the last-success timestamp that path holds for
// command, or nil when there is none. A missing or unreadable file holds
// none: it is about to be replaced anyway.
func previousLastSuccess(path, command string) *float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	mf := mfs[nameLastSuccess]
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		got := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == commandLabel {
				got = l.GetValue()
			}
		}
		if got == command && m.GetGauge() != nil {
			v := m.GetGauge().GetValue()
			return &v
		}
	}
	return nil
}
