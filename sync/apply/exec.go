package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// exec makes the calls of one change and returns its result, and the error
// that ends the run when authorization was lost. Calls run under callCtx;
// ctx only says whether the run was interrupted (no retry then).
func (r *runner) exec(ctx, callCtx context.Context, c *plan.Change) (plan.Result, error) {
	switch {
	case c.Action == plan.Create:
		return r.create(ctx, callCtx, c)
	case c.Action == plan.Delete:
		return r.delete(callCtx, c)
	case c.Kind == plan.KindGroup && (c.Action == plan.Update || c.Action == plan.Adopt || c.Action == plan.Rename || c.Action == plan.Move),
		c.Kind == plan.KindUser && c.Action >= plan.Update && c.Action <= plan.Reactivate:
		return r.patch(callCtx, c)
	}
	return planError(c, fmt.Errorf("apply cannot %s a %s", c.Action, c.Kind)), nil
}

// done is the result of a change made.
func done(c *plan.Change, id int64) plan.Result {
	res := plan.ResultFor(c, plan.Outcome(c.Action.Outcome()))
	res.ObjectID = id
	return res
}

// planError is the result of a change that cannot be sent as it stands.
func planError(c *plan.Change, err error) plan.Result {
	res := plan.ResultFor(c, plan.OutcomeFailed)
	res.Message = "not sent: " + err.Error()
	return res
}

// failed is the result of a change the API did not carry out, with the
// answer's status, message and request_id when there was an answer, the
// note (when not "") before the message; and the run-ending error when
// authorization was lost.
func failed(c *plan.Change, err error, note string) (plan.Result, error) {
	res := plan.ResultFor(c, plan.OutcomeFailed)
	res.Message = err.Error()
	var ae *convirza.APIError
	var me *convirza.MalformedResponseError
	switch {
	case errors.As(err, &ae):
		res.HTTPStatus = ae.StatusCode
		res.RequestID = ae.RequestID
		if ae.Message != "" {
			res.Message = ae.Message
		}
		if errors.Is(err, convirza.ErrOutcomeUnknown) {
			res.Message = "outcome unknown: " + res.Message
		}
	case errors.As(err, &me):
		res.HTTPStatus = me.StatusCode
		res.RequestID = me.RequestID
	}
	if note != "" {
		res.Message = note + ": " + res.Message
	}
	if errors.Is(err, convirza.ErrUnauthorized) {
		return res, err
	}
	return res, nil
}

// clash reports whether a create was refused as a clash (400 or 409): the
// object may already be there.
func clash(err error) bool {
	var ae *convirza.APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusConflict || ae.StatusCode == http.StatusBadRequest)
}

// create sends a create. When its outcome is unknown, or a group create
// clashes, it looks the object up first (groups by ext id under the parent,
// users by email) and takes it when it is there; an unknown outcome that
// the look-up shows was not applied is sent once more. So nothing is made
// twice.
func (r *runner) create(ctx, callCtx context.Context, c *plan.Change) (plan.Result, error) {
	group := c.Kind == plan.KindGroup
	var gb convirza.GroupCreate
	var ub convirza.UserCreate
	var err error
	if group {
		gb, err = groupCreate(c, r)
	} else {
		ub, err = userCreate(c, r)
	}
	if err != nil {
		return planError(c, err), nil
	}
	var key string // what the look-up goes by
	if group {
		key = c.CreateKey()
	} else if ub.Username != "" {
		key = ub.Username
	} else if strings.Contains(c.Key, "@") {
		key = c.Key
	}
	parentID := gb.ParentID

	send := func() (int64, error) {
		r.writes.Add(1)
		cctx, m := r.lim.start(callCtx)
		defer m.end()
		if group {
			return r.remote.CreateGroup(cctx, gb)
		}
		return r.remote.CreateUser(cctx, ub)
	}
	find := func() (int64, bool, error) {
		r.lookups.Add(1)
		cctx, m := r.lim.start(callCtx)
		defer m.end()
		if group {
			return r.remote.FindGroup(cctx, parentID, key)
		}
		return r.remote.FindUser(cctx, key)
	}
	// settle looks up after an unknown or clashing answer. It returns the
	// result when that ends the change, and retry=true when the create is
	// known not to have been applied and may be sent again.
	settle := func(err error) (res plan.Result, fatal error, retry bool) {
		unknown := errors.Is(err, convirza.ErrOutcomeUnknown)
		if !unknown && !(group && clash(err)) || errors.Is(err, convirza.ErrUnauthorized) {
			res, fatal = failed(c, err, "")
			return res, fatal, false
		}
		if key == "" {
			res, fatal = failed(c, err, "nothing to look it up by, so not sent again")
			return res, fatal, false
		}
		id, found, lerr := find()
		switch {
		case lerr != nil:
			res, fatal = failed(c, err, "")
			res.Message += "; looking it up failed: " + lerr.Error()
			if errors.Is(lerr, convirza.ErrUnauthorized) {
				fatal = lerr
			}
			return res, fatal, false
		case found:
			res = r.made(c, id)
			if unknown {
				res.Message = "outcome was unknown; found by " + lookupWord(group)
			} else {
				res.Message = "already there; found by " + lookupWord(group)
			}
			return res, nil, false
		case !unknown:
			res, fatal = failed(c, err, "")
			return res, fatal, false
		}
		return plan.Result{}, nil, true
	}

	id, err := send()
	for sends := 1; ; sends++ {
		if err == nil {
			res := r.made(c, id)
			if sends > 1 {
				res.Message = "sent again after an unknown outcome"
			}
			return res, nil
		}
		res, fatal, retry := settle(err)
		switch {
		case !retry:
			return res, fatal
		case sends == maxCreateSends:
			res, fatal = failed(c, err, fmt.Sprintf("sent %d times, and looked up not applied each time", sends))
			return res, fatal
		case ctx.Err() != nil:
			res, _ := failed(c, err, "not applied, and not sent again because the run was interrupted")
			return res, nil
		}
		id, err = send()
	}
}

// maxCreateSends bounds how often one create is sent. A create is sent
// again only after a look-up showed that the last send was not applied,
// so each send is safe; the bound keeps a failing server from holding the
// change forever (at a 10% share of 5xx answers, a create fails 1 time in
// 1,000 instead of 1 in 100 with two sends).
const maxCreateSends = 3

func lookupWord(group bool) string {
	if group {
		return "ext id"
	}
	return "email"
}

// made records a created object's id for the changes that name it.
func (r *runner) made(c *plan.Change, id int64) plan.Result {
	if k := c.CreateKey(); k != "" {
		r.mu.Lock()
		if c.Kind == plan.KindGroup {
			r.groupIDs[k] = id
		} else {
			r.userIDs[k] = id
		}
		r.mu.Unlock()
	}
	return done(c, id)
}

// patch sends exactly the change's fields. A deactivation or reactivation
// also sets user_status, unless its fields already do.
func (r *runner) patch(callCtx context.Context, c *plan.Change) (plan.Result, error) {
	id, err := objectID(c, r)
	if err != nil {
		return planError(c, err), nil
	}
	var gb convirza.GroupPatch
	var ub convirza.UserPatch
	if c.Kind == plan.KindGroup {
		gb, err = groupPatch(c, r)
	} else {
		ub, err = userPatch(c, r)
	}
	if err != nil {
		return planError(c, err), nil
	}
	r.writes.Add(1)
	cctx, m := r.lim.start(callCtx)
	if c.Kind == plan.KindGroup {
		err = r.remote.PatchGroup(cctx, id, gb)
	} else {
		err = r.remote.PatchUser(cctx, id, ub)
	}
	m.end()
	if err != nil {
		return failed(c, err, "")
	}
	if c.Action == plan.Deactivate {
		r.gone(c.Kind, id)
	}
	return done(c, id), nil
}

// delete deletes a group or a user (a soft delete). A group is first
// checked (see holds): its delete is refused while it holds anything this
// run did not delete or deactivate.
func (r *runner) delete(callCtx context.Context, c *plan.Change) (plan.Result, error) {
	id, err := objectID(c, r)
	if err != nil {
		return planError(c, err), nil
	}
	if c.Kind == plan.KindGroup {
		if res, fatal, stop := r.holds(callCtx, c, id); stop {
			return res, fatal
		}
	}
	r.writes.Add(1)
	cctx, m := r.lim.start(callCtx)
	if c.Kind == plan.KindGroup {
		err = r.remote.DeleteGroup(cctx, id)
	} else {
		err = r.remote.DeleteUser(cctx, id)
	}
	m.end()
	if err != nil {
		return failed(c, err, "")
	}
	r.gone(c.Kind, id)
	return done(c, id), nil
}

// holdLimit is the page size of the reads that check a group before its
// delete: enough to name what it holds, one call each.
const holdLimit = 20

// holds re-reads, right before a group's DELETE, the group's child groups
// that are not deleted and the active users of its subtree. Some API
// versions delete a group's children and users along with it instead of
// refusing, so the delete is refused (stop, with the result) when any of
// them is not one this run deleted or deactivated: a user added since the
// plan was made, a child nobody owns. A failed read fails the change, and
// nothing is deleted.
func (r *runner) holds(callCtx context.Context, c *plan.Change, id int64) (res plan.Result, fatal error, stop bool) {
	r.checks.Add(1)
	cctx, m := r.lim.start(callCtx)
	h, err := r.remote.Holdings(cctx, id, holdLimit)
	m.end()
	if err != nil {
		res, fatal = failed(c, err, "not deleted: reading what the group still holds failed")
		return res, fatal, true
	}
	var groups, users []string
	leftG, leftU := h.GroupsTotal, h.UsersTotal
	r.mu.RLock()
	for _, g := range h.Groups {
		if r.goneGroups[g.ID] {
			leftG--
			continue
		}
		label := fmt.Sprintf("%d", g.ID)
		switch {
		case g.ExtID != "":
			label = g.ExtID + " (" + label + ")"
		case g.Label != "":
			label = fmt.Sprintf("%q (%d, no ext id)", g.Label, g.ID)
		}
		groups = append(groups, label)
	}
	for _, u := range h.Users {
		if r.goneUsers[u.ID] {
			leftU--
			continue
		}
		users = append(users, fmt.Sprintf("%s (%d)", u.Label, u.ID))
	}
	r.mu.RUnlock()
	if leftG <= 0 && leftU <= 0 {
		return plan.Result{}, nil, false
	}
	var parts []string
	if leftG > 0 {
		parts = append(parts, heldList(leftG, "child group", "child groups", groups))
	}
	if leftU > 0 {
		parts = append(parts, heldList(leftU, "active user", "active users", users))
	}
	res = plan.ResultFor(c, plan.OutcomeRefused)
	res.Message = "not deleted: the group still holds " + strings.Join(parts, " and ") +
		" that this run did not delete or deactivate, and a delete could take them with it"
	return res, nil, true
}

// heldList renders "2 active users: a@x (1), b@x (2)", naming at most 3.
func heldList(n int, one, many string, names []string) string {
	word := many
	if n == 1 {
		word = one
	}
	s := fmt.Sprintf("%d %s", n, word)
	switch {
	case len(names) == 0:
	case len(names) > 3:
		s += ": " + strings.Join(names[:3], ", ") + ", …"
	default:
		s += ": " + strings.Join(names, ", ")
		if len(names) < n {
			s += ", …"
		}
	}
	return s
}
