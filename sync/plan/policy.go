package plan

// The policy is one filter over what the plan decides, in the way of
// external-dns: the match stage decides, per export row, whether it creates
// an object or modifies one, and the departed objects are removals.
// applyPolicy then keeps or drops each decision, once. Everything after it
// (where groups end up, the name and cycle checks, the schedule, the gates)
// reads those marks and never the policy.

// decision is the kind of change decided for an object.
type decision uint8

const (
	decideCreate decision = iota // a group or user that Convirza does not hold yet
	decideModify                 // update, adopt, move, rename, reactivate
	decideRemove                 // delete a group, deactivate a user
)

// permits is the policy as one table.
func (pol Policy) permits(d decision) bool {
	switch d {
	case decideCreate:
		return pol == PolicyUpsert || pol == PolicyCreateOnly || pol == PolicyMirror
	case decideModify:
		return pol == PolicyUpsert || pol == PolicyUpdateOnly || pol == PolicyMirror
	case decideRemove:
		return pol == PolicyMirror
	}
	return false
}

func (r *groupRow) decision() decision {
	if r.match == matchCreate {
		return decideCreate
	}
	return decideModify
}

func (r *userRow) decision() decision {
	if r.current == noUser {
		return decideCreate
	}
	return decideModify
}

// applyPolicy is the policy's filter: it marks each row's decision kept or
// dropped, and says whether removals are kept.
func (p *planner) applyPolicy() {
	for i := range p.groupRows {
		r := &p.groupRows[i]
		r.kept = p.policy.permits(r.decision())
	}
	for i := range p.userRows {
		r := &p.userRows[i]
		r.kept = p.policy.permits(r.decision())
	}
	p.removalsKept = p.policy.permits(decideRemove)
}
