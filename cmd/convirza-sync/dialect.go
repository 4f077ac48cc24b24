package main

import (
	"flag"

	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// dialectFlags are the sandbox's readings of the API's open points, each one
// documented in the README's "API assumptions" table.
func dialectFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.treeForm, "tree", "flat", "how /groups/tree answers: flat (dotted codes) or nested (children)")
	fs.IntVar(&c.maxPageSize, "max-page-size", 200, "the most rows a listing page holds, whatever limit was asked (1 to 200)")
	fs.StringVar(&c.roles, "roles", "names", `how roles are spelled in answers: names ("Standard User"), short ("Standard") or ids (2)`)
	fs.StringVar(&c.groupDetail, "group-detail", "bare", "how GET /groups/{id} answers: bare (data is the group) or wrapped (data.group)")
	fs.StringVar(&c.expiresIn, "expires-in", "time", "how expires_in is written: time (ISO-8601, as documented) or seconds")
	fs.BoolVar(&c.listGroups, "list-groups", false, `serve "List Groups" as GET /v3/groups (the whole hierarchy, paged)`)
}

// sandboxDialect reads the dialect flags into opts.
func sandboxDialect(c *config, opts *convirzatest.Options) error {
	switch c.treeForm {
	case "flat":
	case "nested":
		opts.Shapes.NestedTree = true
	default:
		return usagef("%s: want flat or nested, got %q", c.ref("tree"), c.treeForm)
	}
	switch c.groupDetail {
	case "bare":
	case "wrapped":
		opts.Shapes.WrappedGroupDetail = true
	default:
		return usagef("%s: want bare or wrapped, got %q", c.ref("group-detail"), c.groupDetail)
	}
	switch c.expiresIn {
	case "time":
	case "seconds":
		opts.Dialect.ExpiresInSeconds = true
	default:
		return usagef("%s: want time or seconds, got %q", c.ref("expires-in"), c.expiresIn)
	}
	if c.maxPageSize < 1 || c.maxPageSize > 200 {
		return usagef("%s: want 1 to 200, got %d", c.ref("max-page-size"), c.maxPageSize)
	}
	if c.maxPageSize < 200 {
		opts.Dialect.MaxPageSize = c.maxPageSize
	}
	r, err := convirzatest.ParseRoleSpelling(c.roles)
	if err != nil {
		return usagef("%s: %v", c.ref("roles"), err)
	}
	opts.Dialect.Roles = r
	opts.Dialect.ListGroups = c.listGroups
	return nil
}
