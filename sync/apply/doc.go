// Package apply carries out a plan.Plan against Convirza, the only code of
// convirza-sync that writes, and never writes what the plan does not hold.
//
// Invariant: Apply makes no write unless it was given a plan that is of this
// build's version, passed its safety gates and forms an acyclic dependency
// graph; every change of the plan then ends as exactly one plan.Result, a
// change starts only after every change it depends on was done, and a group
// create whose outcome is unknown is looked up before it is ever sent again,
// so no group is made twice. Per-change failures are data (results), not
// errors; only a lost authorization and a cancelled context end a run early,
// and then Apply returns the results and an error.
//
// Undo and CheckStale are pure functions: no I/O, no clock.
package apply
