package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/plan"
	"github.com/convirza-sync/convirza-sync/sync/state"
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
	b, err := body(c, r)
	if err != nil {
		return planError(c, err), nil
	}
	group := c.Kind == plan.KindGroup
	var key string // what the look-up goes by
	if group {
		key = createKey(c)
	} else if f, ok := c.Field(plan.FieldUsername); ok && f.After != "" {
		key = f.After
	} else if strings.Contains(c.Key, "@") {
		key = c.Key
	}
	parentID, _ := b[plan.FieldParent].(int64)

	send := func() (int64, error) {
		r.writes.Add(1)
		cctx, m := r.lim.start(callCtx)
		defer m.end()
		if group {
			return r.remote.CreateGroup(cctx, b)
		}
		return r.remote.CreateUser(cctx, b)
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
	if err == nil {
		return r.made(c, id), nil
	}
	res, fatal, retry := settle(err)
	if !retry {
		return res, fatal
	}
	if ctx.Err() != nil {
		res, _ := failed(c, err, "not applied, and not sent again because the run was interrupted")
		return res, nil
	}
	id, err = send()
	if err == nil {
		res := r.made(c, id)
		res.Message = "sent again after an unknown outcome"
		return res, nil
	}
	res, fatal, retry = settle(err)
	if retry {
		res, fatal = failed(c, err, "sent twice, and not applied either time")
	}
	return res, fatal
}

func lookupWord(group bool) string {
	if group {
		return "ext id"
	}
	return "email"
}

// made records a created object's id for the changes that name it.
func (r *runner) made(c *plan.Change, id int64) plan.Result {
	if k := createKey(c); k != "" {
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
	b, err := body(c, r)
	if err != nil {
		return planError(c, err), nil
	}
	if _, ok := b[plan.FieldUserStatus]; !ok {
		switch c.Action {
		case plan.Deactivate:
			b[plan.FieldUserStatus] = string(state.StatusInactive)
		case plan.Reactivate:
			b[plan.FieldUserStatus] = string(state.StatusActive)
		}
	}
	if len(b) == 0 {
		return planError(c, errors.New("the change has no field to send")), nil
	}
	r.writes.Add(1)
	cctx, m := r.lim.start(callCtx)
	if c.Kind == plan.KindGroup {
		err = r.remote.PatchGroup(cctx, id, b)
	} else {
		err = r.remote.PatchUser(cctx, id, b)
	}
	m.end()
	if err != nil {
		return failed(c, err, "")
	}
	return done(c, id), nil
}

// delete deletes a group or a user (a soft delete).
func (r *runner) delete(callCtx context.Context, c *plan.Change) (plan.Result, error) {
	id, err := objectID(c, r)
	if err != nil {
		return planError(c, err), nil
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
	return done(c, id), nil
}
