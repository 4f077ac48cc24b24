// Package plan calculates the changes that make Convirza match an export,
// and never does I/O.
//
// Invariant: Calculate is a pure function. It does no I/O, reads no clock,
// logs nothing and returns its changes in a deterministic order; map order
// never leaks into a Plan.
//
// How Calculate decides, in the order it works:
//
//   - Only the root's subtree is read. Deleted groups are ignored (their
//     names are free); groups and users outside the root are never touched.
//   - A row matches the current group with its org_unit_ext_id. Without one,
//     a group of the same name (ignoring case and surrounding space) and no
//     ext id under the row's resolved parent is adopted (Adopt: a PATCH of
//     the ext id, and of any other field that differs, the name's case
//     included). Otherwise the row is a create.
//   - The planner never guesses. Two current groups with one ext id, an
//     inactive group the export wants, two rows wanting one name under one
//     parent, a name held by a group that stays, an unknown industry: each
//     is a row in Plan.Invalid, and so are the rows below it and the users in
//     it. Any invalid row turns deletes and deactivations off.
//   - Diffs cover only the fields a row carries, compared normalized; a
//     PATCH holds exactly the changed fields. A parent change is a Move, a
//     name change a Rename, the other fields an Update: separate changes of
//     one group, each after the previous one.
//   - Changes are ordered by simulating them: a create waits for its parent,
//     a move never goes below its own descendant, no step holds two siblings
//     of one name, a delete waits until its group is empty (leaf first, after
//     its users are deactivated or moved out). Swaps and cycles of names are
//     broken with a temporary name derived from the key ("Boston (renaming
//     1a2b)"), shown as its own Rename with a Reason. Change.After records
//     every dependency, so any order that honours After is as safe as the
//     plan's order.
//   - Users are planned only when the export manages them. A deactivated user
//     who is back is one Reactivate PATCH: user_status plus any other change.
//     The caller's own user is never deactivated, demoted or moved: those
//     changes go to Plan.Refused.
//   - Policies filter before ordering, so that a create never waits for a
//     delete the policy drops. Mirror deletes owned groups (ext id set, under
//     the root) that left the export; a delete that would leave something
//     behind (active users that are not managed, a group without an ext id,
//     the caller) is refused, and so are its ancestors' deletes.
//   - Gates: max-deletes and max-changes count distinct objects, a deleted
//     (or, for max-changes, moved) group with its whole current subtree and
//     the users in it; a percentage applies from MinPercentBase owned
//     objects. Gate.Allowed is -1 when a gate does not apply. max-invalid and
//     an empty export in mirror mode are not passed by Force.
//   - Values compare by one set of rules (sameValue, over normalize's rules
//     of equality), phones in Plan.PhoneRegion, so that the planner, the
//     stale check (CheckStale) and the undo plan (Undo) agree on what
//     "unchanged" means. CheckStale and Undo are pure plan-to-plan
//     functions too; apply only writes.
//
// The code follows four stages, each in Calculate's order: index (the
// current state as tables, indexed by the types of ids.go), match (each row
// to its object, or a create), decide (the policy's one filter, policy.go,
// then the end state and its checks) and schedule (the ordered changes).
//
// It must never write, read the network or a file, or import mapping.
package plan
