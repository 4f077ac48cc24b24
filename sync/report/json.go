package report

import (
	"fmt"
	"io"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// JSON writes the plan in the plan file format (plan.Plan.Encode), which is
// also the JSON report: indented, versioned ("version": 1) and read back by
// plan.Unmarshal. SCHEMA.md in this directory documents it. It is written
// as a stream, change by change: its memory does not grow with the plan.
func JSON(w io.Writer, p *plan.Plan) error {
	if p == nil {
		return fmt.Errorf("write json report: no plan")
	}
	if err := p.Encode(w); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
