// Package apply carries out a plan.Plan against Convirza, the only code of
// convirza-sync that writes, and never writes what the plan does not hold.
//
// Invariant: Apply makes no write unless it was given a plan that is of this
// build's version, passed its safety gates and forms an acyclic dependency
// graph; every change of the plan then ends as exactly one plan.Result, a
// change starts only after every change it depends on was done, and a group
// create whose outcome is unknown is looked up before it is ever sent again,
// so no group is made twice. Right before a group's DELETE, Apply re-reads
// the group's child groups and active users, and refuses the delete
// (outcome refused) when any of them is not one the run deleted or
// deactivated: an API may delete what a group holds along with it rather
// than refuse. Request bodies are the client's typed bodies, built once
// from the change; a field the API cannot clear is never sent as a clear.
// Per-change failures are data (results), not
// errors; only a lost authorization and a cancelled context end a run early,
// and then Apply returns the results and an error.
//
// What is not a write lives in plan: the stale check (plan.CheckStale) and
// the undo plan (plan.Undo) are pure plan-to-plan functions.
package apply
