// Package mapping turns a CRM export (CSV, JSON or XLSX) and its mapping
// file into a state.DesiredState, and never reaches the network or writes a
// file. The groups and users the export asks for come out normalized, with
// every faulty row set aside as a state.Problem that names its file,
// physical line (or sheet cell), column and key.
//
// Invariants:
//   - No network and no writes: mapping only reads the files it is given
//     (init's draft is returned as bytes; cmd writes it).
//   - One pass finds every problem. A row fault never stops the load; it
//     lands in DesiredState.Invalid and its row is left out of Groups or
//     Users. Load returns an error only for a failure of a whole file (it
//     cannot be read, the mapping is wrong, the header lacks a mapped
//     column, a JSON export carries no mapped key, the text is not in the
//     encoding read, a record is over the size bound, the export has no
//     rows).
//   - Only the columns the export carries are managed: a field the export
//     does not carry stays nil, and an empty cell stays nil too unless the
//     mapping says "empty: clear" for that field.
//   - Memory is bounded by the rows kept: CSV and JSON files are streamed,
//     never read whole, and one CSV record is at most 8 MiB. (An XLSX
//     workbook is a zip archive: excelize holds it while it is read.)
//
// # What is handled
//
// This is the list the README points to. Formats:
//   - CSV, by extension .csv, .tsv, .txt or .tab. The delimiter is detected
//     from the header line among , ; tab and | (--delimiter or delimiter:
//     forces one); a header that still reads as one cell names the
//     delimiter it seems to use.
//   - Encodings: UTF-8 with or without a byte-order mark, UTF-16 LE or BE
//     with a byte-order mark, read with no flag; windows-1252, ISO-8859-1
//     and UTF-16 without a mark by --encoding (env CONVIRZA_SYNC_ENCODING,
//     or encoding: in the mapping). Bytes that are not UTF-8 are one
//     file-level error naming the likely encoding, the flag, and Excel's
//     "CSV UTF-8" save option.
//   - XLSX (by extension .xlsx/.xlsm, or by its first bytes whatever its
//     name), read with excelize: the first sheet, or --sheet NAME (sheet:
//     in the mapping). Cells read as Excel shows them (number formats
//     applied: ZIP 02134 keeps its zero, ids and phones stored as numbers
//     have no 1E+8). Positions read file.xlsx:Sheet1!A7. An old .xls is
//     refused with the way out.
//   - JSON: an array of row objects; a combined {"groups": [...], "users":
//     [...]} file with canonical keys; Salesforce's REST/Bulk query result
//     {"totalSize", "done", "records": [...]} with "attributes" ignored (a
//     page with "done": false is refused: it is not the whole export).
//     Dotted keys (Parent.Id, Owner.Email, BillingAddress.city) reach into
//     nested objects; a null nested object leaves its fields empty. A
//     mapped key that no object carries is a file-level error, as a
//     missing CSV column is.
//
// Cells (cell.go, crm.go):
//   - Null markers NULL, null, N/A, #N/A and "-" are empty cells; Excel
//     error values (#REF!, #VALUE!...) are row errors.
//   - In id-like fields (ext ids, ZIP, phone, industry_id): one leading
//     apostrophe is dropped; scientific notation is an error; Salesforce's
//     null ids 000000000000000 and 000000000000000AAA are empty.
//   - Ext ids in several spellings are one record: a Salesforce id's 15-
//     and 18-character forms, a GUID with or without braces, in any case.
//   - US rows: state names become USPS codes, 4-digit ZIPs are padded
//     (with a warning). A row with no country whose province and postal
//     code are both Canadian is taken as Canadian (its phone read in CA);
//     any other non-US state or ZIP on a row with no country says to map
//     the country column.
//   - Roles: admin, standard, readonly in their usual spellings; users.roles
//     maps CRM words ("System Administrator: admin"). An unknown role names
//     the nearest Convirza role and the mapping lines that would map it.
//
// Drafting a mapping (draft.go, `convirza-sync init`): columns are
// recognised by the names Salesforce (API names and report labels),
// HubSpot, Dynamics 365 (Web API and form labels) and Zoho give them; a
// parent given by name maps to parent_name; unknown role words get a
// roles: entry to check; the columns left unmapped are listed.
//
// Bounds: a mapping file is at most 1 MiB and expands to at most 100,000
// values through its aliases; an XLSX workbook unzips to at most 4 GiB.
package mapping
