// Package plan calculates the changes that make Convirza match an export.
//
// Invariant: Calculate is a pure function. It does no I/O, reads no clock,
// logs nothing and returns its changes in a deterministic order; map order
// never leaks into a Plan.
package plan
