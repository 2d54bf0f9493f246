// Package tmpl holds gopaste's html/template helpers: a [Set] of pages
// sharing layouts and partials, read from an [fs.FS] (an embed.FS in a
// binary, os.DirFS(dir) during development, re-read on each render when
// Debug is on), and [Builder], Quixote's htmltext for Go: markup composed
// in Go code, where everything appended is escaped unless it is already
// safe ([template.HTML]).
//
// The safe type is html/template's own [template.HTML], so what a
// Builder makes goes into a template unescaped and what a template gets
// from anywhere else is escaped by html/template's contextual escaping:
// text, attributes, URLs (a javascript: URL becomes "#ZgotmplZ") and
// scripts (values become JavaScript literals).
//
// The package is not called template because the files that use it
// import html/template too (for template.HTML, template.FuncMap); the
// name tmpl spares them a rename.
package tmpl
