// Package examples embeds the example data that ships inside the binary,
// and never changes it: a half-set-up Convirza account for the sandbox, and the Salesforce-style
// export and mapping that `convirza-sync demo` syncs into it. Embedding it
// lets the demo run from any directory and inside the container image.
//
// Invariant: the files here are the examples users read; the package only
// exposes them, it never changes them.
package examples

import "embed"

// The embedded files, by name.
const (
	SandboxState = "sandbox-state.json"      // a half-set-up account, in the sandbox's state.json format
	Groups       = "salesforce-accounts.csv" // a Salesforce Account export
	Users        = "salesforce-users.csv"    // a Salesforce user report
	Mapping      = "salesforce-mapping.yaml" // the mapping of both onto Convirza's fields
)

// FS holds the example files.
//
//go:embed sandbox-state.json salesforce-accounts.csv salesforce-users.csv salesforce-mapping.yaml
var FS embed.FS
