// Package convirzatest is the sandbox, an in-memory Convirza Platform API v3
// server shaped like net/http/httptest that tests, `convirza-sync demo` and
// `convirza-sync sandbox` use as a stand-in for Convirza, and it never
// accepts what the real API refuses.
//
// Invariant: the sandbox refuses what the real API refuses. It is never a mock
// that agrees with everything: every write goes through the rules of
// the API contract (convirza-api.md) and the wire agreement (scope, sibling-name
// uniqueness, parent checks, soft deletes, paging limits, unknown fields), and
// the seeding helpers (AddGroup, AddUser) go through the same validation. All
// state sits behind one mutex, which is never held while sleeping for latency,
// so the sandbox is safe under heavy concurrent use. No secret (password,
// token, refresh token) is kept in the call log.
//
// # Hosts
//
// One listener serves both hosts: the API base is URL+"/v3" and the auth base
// is URL itself (POST {URL}/oauth/token, GET {URL}/v3/groups/list, ...).
//
// # Endpoints
//
// Every answer is the envelope {"code", "message", "data", "request_id",
// "timestamp"} (errors may add "errors": [{"field", "message"}]) with a fresh
// UUID request_id, also sent as the X-Request-Id header.
//
//	POST /oauth/token          {"email","password"}: any valid email, password "sandbox"
//	POST /oauth/refresh-token  {"refresh_token"}: single use; the old pair dies
//	POST /oauth/revoke-token   {"token","token_type":"access"|"refresh"}: 200 even when unknown
//	GET  /v3/groups/list       immediate children; org_unit_id, status, group_name, limit 1..200, offset
//	GET  /v3/groups/tree       active=true (default) | false; flat dotted codes, or nested (Shapes)
//	GET  /v3/groups/org-list/  the unit, then every non-deleted descendant, pre-order
//	GET|PATCH|DELETE /v3/groups/{id}, POST /v3/groups
//	GET  /v3/users/list        every user of the subtree; name, email, role_id, user_status, sort_by, sort_order
//	GET|PATCH|DELETE /v3/users/{id}, POST /v3/users
//	GET  /v3/industry
//	GET  /v3/auth/profile      the authenticated user: user_id, email, role (as Dialect.Roles spells it), role_id, org_unit_id
//	GET  /v3/groups            "List Groups", only with Dialect.ListGroups: every group of the hierarchy, paged
//
// Listings sort groups by id and users by the asked key with ties broken by
// ct_user_id (in the same direction). Empty optional fields are JSON null.
// Creates answer 200 with {"orgUnitId": N} or {"userId": N}. Refusals: 400
// for a bad body or rule, 401 for a missing or dead token and for anything
// outside the caller's subtree, 404 for an unknown id (and for deleting what
// is already deleted), 405 for a wrong method, 409 for a sibling-name or
// username clash, 413 for a body over MaxBodyBytes, 429 for the login limit
// and the rate limit (Retry-After in seconds; the rate limit also sends
// X-RateLimit-Limit = the burst, X-RateLimit-Remaining, and X-RateLimit-Reset
// = the Unix second at which the bucket is full again).
//
// The caller's own user cannot deactivate, demote or delete itself (400).
//
// # The state file
//
// LoadState, SaveState and NewFromState use the state.json format of
// package statefile, which `convirza-sync export` also writes. Ids of new
// objects continue after the largest id in the file.
//
// # Dialects
//
// Where the API's behaviour is not documented and readings differ, the
// sandbox can play each of them, so a client is tested against all. Each
// dialect is one field of Options; the zero value is the reading the
// project codes against.
//
//   - Options.DeleteSemantics: DeleteRefuse (the default) answers 400 to the
//     delete of a group that still has a child group that is not deleted or
//     an active user. DeleteCascade is the older (v2) backend: the delete
//     soft-deletes the group, its direct child groups and every user of
//     those groups, and refuses only the top group (and the caller's own
//     group). `convirza-sync sandbox --delete-cascade` serves it.
//
// # Differences from the real API that a client may notice
//
// The sandbox answers unknown ids with 404 and ids outside the caller's scope
// with 401, as the docs say. Faults (rate limit, FailRate, ambiguous creates)
// apply to /v3 calls only; latency applies to every call. The login limit
// applies to POST /oauth/token only.
package convirzatest
