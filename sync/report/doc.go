// Package report renders a plan.Plan, and apply's []plan.Result, for people
// and for spreadsheets, and never decides anything a plan did not: a text
// tree for terminals (Text), Markdown for pull requests and chat
// (Markdown), the plan file itself (JSON), CSV files (PlanCSV, ResultsCSV)
// with the header DESIGN.md fixes for results, and a self-contained HTML
// page to look at (HTML, ResultsHTML) that loads nothing from the network.
//
// Invariant: every renderer is a pure function of the value it is given onto
// an io.Writer. None computes a diff, reads the clock, the network or the
// configuration, or reorders map keys: the same Plan always renders to the
// same bytes. Reports carry plan data only, so no secret can reach them.
// Every report CSV cell is a Cell, which a spreadsheet cannot run as a
// formula (EscapeCell); export files, which are data, use plain strings.
//
// Markers in the text and Markdown reports:
//
//	marker  actions
//	+       create, and reactivate (a user comes back)
//	~       update, and rename (the name change is shown as a field)
//	→       move (the parent change is shown as a field)
//	-       delete, and deactivate (a user leaves)
//	=       adopt (an existing group gets the export's ext id)
//	!       refused: a change the policy wanted but a rule forbids
//
// Each marked line also names its action ("rename", "deactivate"), so the
// marker is a quick visual class and the word is exact.
package report
