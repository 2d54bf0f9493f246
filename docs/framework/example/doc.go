// Package example is a small site built with gopaste's framework
// pieces, for docs/framework.md (which quotes these files verbatim): a
// traversal tree (traverse), a guestbook form with an upload (form),
// pages rendered through a layout (tmpl), an admin directory behind a
// login. Its tests drive it with gopastetest.
package example
