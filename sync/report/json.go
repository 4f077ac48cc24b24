package report

import (
	"fmt"
	"io"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// JSON writes the plan in the plan file format (plan.Plan.Marshal), which is
// also the JSON report: indented, versioned ("version": 1) and read back by
// plan.Unmarshal. SCHEMA.md in this directory documents it.
func JSON(w io.Writer, p *plan.Plan) error {
	if p == nil {
		return fmt.Errorf("write json report: no plan")
	}
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("write json report: encode plan: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
