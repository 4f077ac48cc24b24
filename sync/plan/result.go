package plan

import "github.com/convirza-sync/convirza-sync/sync/state"

// Outcome is how a change ended, in the words of the results CSV.
type Outcome string

// The outcomes of DESIGN.md's results CSV. The done outcomes are
// Action.Outcome() of the change's action.
const (
	OutcomePlanned     Outcome = "planned"
	OutcomeCreated     Outcome = "created"
	OutcomeUpdated     Outcome = "updated"
	OutcomeAdopted     Outcome = "adopted"
	OutcomeMoved       Outcome = "moved"
	OutcomeRenamed     Outcome = "renamed"
	OutcomeDeleted     Outcome = "deleted"
	OutcomeDeactivated Outcome = "deactivated"
	OutcomeReactivated Outcome = "reactivated"
	OutcomeFailed      Outcome = "failed"
	OutcomeBlocked     Outcome = "blocked" // a change it depends on failed
	OutcomeRefused     Outcome = "refused" // apply's check right before the write said no
	OutcomeSkipped     Outcome = "skipped" // interrupted, or an invalid row let pass
)

// Done reports whether the outcome means the write was made.
func (o Outcome) Done() bool {
	switch o {
	case OutcomePlanned, OutcomeFailed, OutcomeBlocked, OutcomeRefused, OutcomeSkipped, "":
		return false
	}
	return true
}

// Result is one row of the results CSV: the fate of one change, or of one
// invalid row that was skipped (Change 0, Action NoOp).
type Result struct {
	Change     int     `json:"change,omitempty"` // Change.ID
	Line       int     `json:"line,omitempty"`
	Kind       Kind    `json:"kind"`
	Key        string  `json:"key"`
	Action     Action  `json:"action"`
	Outcome    Outcome `json:"outcome"`
	ObjectID   int64   `json:"convirza_id,omitempty"`
	HTTPStatus int     `json:"http_status,omitempty"`
	Message    string  `json:"message,omitempty"`
	RequestID  string  `json:"request_id,omitempty"`
}

// ResultFor starts the result row of a change, with the given outcome.
func ResultFor(c *Change, o Outcome) Result {
	r := Result{Change: c.ID, Kind: c.Kind, Key: c.Key, Action: c.Action, Outcome: o, ObjectID: c.ObjectID}
	if c.Source != nil {
		r.Line = c.Source.Line
	}
	return r
}

// PlannedResults is the results file of a dry run: every change "planned",
// and every invalid row that was let pass "skipped".
func PlannedResults(p *Plan) []Result {
	out := make([]Result, 0, len(p.Changes)+len(p.Invalid))
	for i := range p.Changes {
		out = append(out, ResultFor(&p.Changes[i], OutcomePlanned))
	}
	return append(out, SkippedResults(p)...)
}

// BlockedResults is the results file of a run that a gate stopped before
// any write: every change "blocked", with why, and every invalid row
// "skipped".
func BlockedResults(p *Plan, why string) []Result {
	out := make([]Result, 0, len(p.Changes)+len(p.Invalid))
	for i := range p.Changes {
		r := ResultFor(&p.Changes[i], OutcomeBlocked)
		r.Message = why
		out = append(out, r)
	}
	return append(out, SkippedResults(p)...)
}

// SkippedResults is one "skipped" row per invalid export row of the plan:
// a row with several problems is one row, its messages joined.
func SkippedResults(p *Plan) []Result {
	out := make([]Result, 0, len(p.Invalid))
	at := make(map[state.Source]int, len(p.Invalid))
	for _, pr := range p.Invalid {
		if i, ok := at[pr.Source]; ok && pr.Source.Line > 0 {
			out[i].Message += "; " + pr.Error()
			continue
		}
		at[pr.Source] = len(out)
		out = append(out, Result{Line: pr.Source.Line, Kind: Kind(pr.Kind), Key: pr.Key, Outcome: OutcomeSkipped, Message: pr.Error()})
	}
	return out
}
