// Package convirza is the client for the Convirza Platform API v3, and never
// decides what to write or lets a credential into a log, error or URL it
// shows. It has the shape of go-github: a Client with one service per resource (Groups, Users,
// Industries), calls of the form (ctx, args...) (*T, *Response, error), typed
// errors (*APIError, *RateLimitError, *MalformedResponseError, and the
// sentinels ErrUnauthorized and ErrOutcomeUnknown), and paging iterators.
//
// Invariants:
//
//   - Every /v3 request, pages and retries included, waits on one shared
//     token bucket (golang.org/x/time/rate). A 429 slows the whole client down
//     (the rate is halved, then recovers additively) and no request leaves
//     before the instant a Retry-After (else an X-RateLimit-Reset) named. A
//     429 was not applied, so it is retried, POST included, on a budget of
//     its own (a total wait, Options.MaxRateLimitWait), not MaxRetries'.
//     No server-named wait lasts longer than MaxRateLimitWait: a 5xx asking
//     for more waits that long, and a 429 asking for more than its call has
//     left fails that call without closing the gate for the others.
//   - Memory is bounded whatever the server sends: a body of 64 MiB, a
//     listing page of 64 KiB + 16 KiB per row asked for, a string of 8 KiB,
//     a listing of Options.MaxListingRows rows, and Options.MaxFetchBytes of
//     listing pages per FetchState.
//   - A POST whose outcome is unknown (sent, then no answer, a reset, a
//     timeout, or a 500/502/503/504) is never retried: the error wraps
//     ErrOutcomeUnknown so the caller can look again first. GET, PATCH and
//     DELETE are retried with capped exponential backoff and full jitter.
//   - A 401 is answered by exactly one refresh (or a fresh login), shared by
//     every call that saw it on the same token. A call that gets 401 again
//     after renewing is ErrUnauthorized (bad credentials or outside the
//     caller's scope), unless the token refused was newer than the one it
//     renewed from and other requests carried it too (it may have been used
//     up meanwhile): then it renews again, at most 3 times in all. The client
//     never loops on 401.
//   - No secret (access token, refresh token, password) appears in any error,
//     log line or URL: tokens travel only in the Authorization header and in
//     the JSON bodies of the auth calls.
//   - No redirect is followed, on /v3 or on the auth host (CheckRedirect):
//     a redirect could carry the bearer token or the login's password to
//     another host, or in clear text from https to http on the same one. A
//     3xx with a Location is a *RedirectError (errors.Is ErrRedirect) that
//     says where it pointed, redacted.
//   - Decoding is tolerant (the robustness principle of convirza-api.md):
//     numbers may arrive as strings, timestamps as org_unit_* or group_*,
//     details as data or data.group, roles in any spelling. Unknown fields are
//     ignored. A response that cannot mean anything (not JSON, an HTML page, an
//     envelope without data) is a *MalformedResponseError, never a panic and
//     never a silent zero value.
//
// This package reads no flags and no environment: everything comes in
// through Options.
package convirza
