// Package mapping turns a CRM export (CSV or JSON) and its mapping file
// into a state.DesiredState, and never reaches the network or writes a
// file. The groups and users the export asks for come out normalized, with
// every faulty row set aside as a state.Problem that names its file,
// physical line, column and key.
//
// Invariants:
//   - No network and no writes: mapping only reads the files it is given.
//   - One pass finds every problem. A row fault never stops the load; it
//     lands in DesiredState.Invalid and its row is left out of Groups or
//     Users. Load returns an error only for a failure of a whole file (it
//     cannot be read, the mapping is wrong, the header lacks a mapped
//     column, the export has no rows).
//   - Only the columns the export carries are managed: a field the export
//     does not carry stays nil, and an empty cell stays nil too unless the
//     mapping says "empty: clear" for that field.
//   - Memory is bounded by the rows kept: files are streamed, never read
//     whole.
package mapping
