package tmpl

// This file is the htmltext side: markup built in Go.

import (
	"fmt"
	"html"
	"html/template"
	"net/url"
	"strings"
)

// Escape returns v as markup: v itself when it is a [template.HTML] or
// a *[Builder]'s markup, otherwise its text (fmt.Sprint) with <, >, &, '
// and " escaped, safe in element content and in quoted attribute values.
func Escape(v any) template.HTML {
	switch v := v.(type) {
	case template.HTML:
		return v
	case *Builder:
		return v.HTML()
	case string:
		return template.HTML(html.EscapeString(v))
	}
	return template.HTML(html.EscapeString(fmt.Sprint(v)))
}

// Format is htmltext's % operator: format, which is trusted markup (a
// constant in the program, never user input), with each verb filled by
// the matching argument escaped as [Escape] escapes it. An argument is
// inserted as text, so use %s (or %v, %d) only.
func Format(format string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = string(Escape(a))
	}
	return template.HTML(fmt.Sprintf(format, esc...))
}

// URL returns u when it is safe in an href or src attribute: a relative
// URL or one whose scheme is http, https or mailto. Anything else
// (javascript:, data:, vbscript:, a URL that does not parse) becomes
// "#ZgotmplZ", as html/template does. Pass the result through [Escape]
// or [Format] to put it in an attribute.
func URL(u string) string {
	s := strings.TrimSpace(u)
	if i := strings.IndexAny(s, ":/?#"); i >= 0 && s[i] == ':' {
		switch strings.ToLower(s[:i]) {
		case "http", "https", "mailto":
		default:
			return "#ZgotmplZ"
		}
	}
	if _, err := url.Parse(s); err != nil {
		return "#ZgotmplZ"
	}
	return u
}

// Builder accumulates markup as Quixote's htmltext does: [Builder.Add]
// escapes every value that is not already [template.HTML]. The zero
// value is empty and ready to use. A Builder is not safe for concurrent
// use.
type Builder struct {
	b strings.Builder
}

// Add appends each value, escaped unless it is [template.HTML].
func (b *Builder) Add(vs ...any) *Builder {
	for _, v := range vs {
		b.b.WriteString(string(Escape(v)))
	}
	return b
}

// Addf appends [Format](format, args...): format is trusted markup, the
// arguments are escaped.
func (b *Builder) Addf(format string, args ...any) *Builder {
	b.b.WriteString(string(Format(format, args...)))
	return b
}

// HTML returns the markup built so far.
func (b *Builder) HTML() template.HTML { return template.HTML(b.b.String()) }

// String returns the markup built so far as a string.
func (b *Builder) String() string { return b.b.String() }

// Join returns the items escaped and joined by sep, itself escaped
// unless it is [template.HTML].
func Join[T any](items []T, sep any) template.HTML {
	var b Builder
	for i, it := range items {
		if i > 0 {
			b.Add(sep)
		}
		b.Add(it)
	}
	return b.HTML()
}
