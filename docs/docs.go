// Package docs holds gopaste's user documentation: the pages in docs/*.md,
// embedded as [Pages] so that "gopaste apps NAME" (and filters, servers)
// prints a part's keys table from the page that documents it.
//
// Its tests keep the pages true: every ```ini example is built and the
// requests it lists are run (docs_test.go), every registered part is
// documented with an example (coverage_test.go), and every part's keys
// table lists exactly the keys its factory asks for (keys_test.go).
package docs

import "embed"

// Pages are the documentation pages, docs/*.md, at the root of the FS;
// internal/partdoc finds a part's section and keys table in them.
//
//go:embed *.md
var Pages embed.FS
