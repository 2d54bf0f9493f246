// Package example is one part of each kind that gopaste composes, written
// as a plug-in outside gopaste would write them, for docs/extending.md
// (which quotes these files verbatim):
//
//   - hello.go: the "hello" app;
//   - count.go: the "count" filter, whose counter outlives a reload;
//   - line.go: the "line" protocol and the "line" server section;
//   - shelf.go: the "shelf" session store, whose sessions outlive a
//     reload.
//
// Each file registers its parts from init into registry.Default, as a
// plug-in does; a binary gets them by importing this package from its
// main. The tests build testdata/example.ini with them and run requests.
// No gopaste binary imports this package.
package example
