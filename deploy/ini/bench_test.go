package ini

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkParse parses a typical PasteDeploy file and a large generated one.
// Run with: go test ./deploy/ini -run '^$' -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	typical, err := os.ReadFile("testdata/corpus/32-pastedeploy-full.ini")
	if err != nil {
		b.Fatal(err)
	}
	var large strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&large, "[app:a%d]\n# comment\nuse = egg:Paste#static\nroot = %%(here)s/a%d\nlist = one\n    two\n\n    three\n\n", i, i)
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{{"typical", typical}, {"large", []byte(large.String())}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("b.ini", bytes.NewReader(bc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValues interpolates every key of a section.
func BenchmarkValues(b *testing.B) {
	f, err := Parse("b.ini", strings.NewReader("[DEFAULT]\nroot = %(here)s/srv\nlogs = %(root)s/logs\n[app:main]\na = %(logs)s/a.log\nb = %(root)s/b\nc = plain\nd = 100%%\n"))
	if err != nil {
		b.Fatal(err)
	}
	defaults := map[string]string{"here": "/h", "__file__": "/h/b.ini"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Values("app:main", defaults); err != nil {
			b.Fatal(err)
		}
	}
}
