package tmpl_test

import (
	"fmt"
	"html/template"
	"os"
	"testing/fstest"

	"github.com/gopaste/gopaste/tmpl"
)

// A Builder composes markup in Go the way Quixote's htmltext does:
// values are escaped, markup marked safe is not.
func ExampleBuilder() {
	user := `<script>alert("hi")</script>`
	var b tmpl.Builder
	b.Add(template.HTML("<ul>"))
	for _, item := range []string{"tea & cake", user} {
		b.Addf("<li>%s</li>", item)
	}
	b.Add(template.HTML("</ul>"))
	fmt.Println(b.HTML())
	// Output:
	// <ul><li>tea &amp; cake</li><li>&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt;</li></ul>
}

// A Set renders pages through a shared layout; files come from an
// embed.FS in a binary (here an fstest.MapFS).
func ExampleSet() {
	files := fstest.MapFS{
		"layouts/base.html": {Data: []byte(`{{define "layout"}}<h1>{{block "title" .}}{{end}}</h1>{{block "content" .}}{{end}}{{end}}`)},
		"pages/hello.html":  {Data: []byte(`{{define "title"}}Hello{{end}}{{define "content"}}<p>Hi, {{.}}!</p>{{end}}`)},
	}
	s, err := tmpl.New(tmpl.Options{FS: files})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Render(os.Stdout, "hello", "<b>Bob</b>"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// <h1>Hello</h1><p>Hi, &lt;b&gt;Bob&lt;/b&gt;!</p>
}
