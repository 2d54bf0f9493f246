package tmpl_test

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/tmpl"
)

// xss are values an attacker controls, each trying a context.
var xss = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)`,
	`javascript:alert(1)`,
	` JaVaScRiPt:alert(1)`,
	`</script><script>alert(1)</script>`,
	`&lt;already escaped&gt;`,
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want template.HTML
	}{
		{`<b>"x" & 'y'</b>`, `&lt;b&gt;&#34;x&#34; &amp; &#39;y&#39;&lt;/b&gt;`},
		{template.HTML(`<b>ok</b>`), `<b>ok</b>`},
		{42, `42`},
		{template.URL(`javascript:x<`), `javascript:x&lt;`},
		{new(tmpl.Builder).Add(template.HTML("<i>"), "<", template.HTML("</i>")), `<i>&lt;</i>`},
	} {
		if got := tmpl.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestBuilderXSS: nothing an attacker sends as text or as an attribute
// value comes out as markup.
func TestBuilderXSS(t *testing.T) {
	for _, v := range xss {
		var b tmpl.Builder
		b.Addf(`<p title="%s">`, v).Add(v).Add(template.HTML("</p>"))
		got := b.String()
		body := strings.TrimSuffix(strings.TrimPrefix(got, `<p title="`), "</p>")
		attr, text, ok := strings.Cut(body, `">`)
		if !ok || attr != text || strings.ContainsAny(text, `<>"'`) {
			t.Errorf("%q: markup characters escaped the value: %s", v, got)
		}
		if !strings.HasPrefix(got, `<p title="`) || !strings.HasSuffix(got, "</p>") {
			t.Errorf("%q: trusted markup lost: %s", v, got)
		}
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"/a?b=c":               "/a?b=c",
		"https://example.com/": "https://example.com/",
		"mailto:a@example.com": "mailto:a@example.com",
		"x/y:z":                "x/y:z",
		"javascript:alert(1)":  "#ZgotmplZ",
		" JaVaScRiPt:alert(1)": "#ZgotmplZ",
		"data:text/html,<b>":   "#ZgotmplZ",
		"vbscript:msgbox":      "#ZgotmplZ",
		"http://[::1":          "#ZgotmplZ",
	} {
		if got := tmpl.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	got := tmpl.Format(`<a href="%s">%s</a>`, tmpl.URL(`javascript:alert("x")`), `<x>`)
	if got != `<a href="#ZgotmplZ">&lt;x&gt;</a>` {
		t.Errorf("Format = %s", got)
	}
}

func TestJoin(t *testing.T) {
	if got := tmpl.Join([]string{"<a>", "b"}, template.HTML("<br>")); got != "&lt;a&gt;<br>b" {
		t.Errorf("Join = %q", got)
	}
	if got := tmpl.Join([]int{1, 2}, "<"); got != "1&lt;2" {
		t.Errorf("Join = %q", got)
	}
}

// TestBuilderInTemplate: a Builder's markup goes into a template as it
// is; a plain string carrying the same markup is escaped.
func TestBuilderInTemplate(t *testing.T) {
	tp := template.Must(template.New("").Parse(`{{.Safe}}|{{.Raw}}`))
	var b tmpl.Builder
	b.Addf("<em>%s</em>", "<x>")
	var out bytes.Buffer
	if err := tp.Execute(&out, map[string]any{"Safe": b.HTML(), "Raw": b.String()}); err != nil {
		t.Fatal(err)
	}
	if want := `<em>&lt;x&gt;</em>|&lt;em&gt;&amp;lt;x&amp;gt;&lt;/em&gt;`; out.String() != want {
		t.Errorf("got %s, want %s", out.String(), want)
	}
}
