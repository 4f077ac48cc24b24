package apply

import (
	"time"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func fc(field, before, after string) plan.FieldChange {
	return plan.FieldChange{Field: field, Before: before, After: after}
}
