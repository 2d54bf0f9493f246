package errorpage

import (
	"bufio"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/redact"
	"github.com/gopaste/gopaste/mount"
)

// report is everything known about one failure.
type report struct {
	ID       string
	Time     time.Time
	Panic    bool
	Value    any    // the panic value or reported error
	Title    string // "panic: ..." or "error: ..."
	Chain    []string
	Stack    []frame
	Request  requestInfo
	Config   []configGroup
	rendered bool
}

type frame struct {
	Func   string
	File   string
	Line   int
	App    bool // the application's code, not Go's or a module's
	Source []sourceLine
}

type sourceLine struct {
	N       int
	Text    string
	Current bool
}

type requestInfo struct {
	Method, URL, Path, Proto, Host, RemoteAddr string
	Header                                     []kv
	Form                                       []kv
	Cookies                                    []kv
}

type kv struct{ Key, Value string }

type configGroup struct {
	Name string
	Keys []kv
}

func (h *handler) newReport(r *http.Request, v any, isPanic bool, pcs []uintptr) *report {
	rep := &report{ID: requestID(r), Time: h.o.Now(), Panic: isPanic, Value: v}
	// The message may carry a secret (a DSN, "password=..."): it is
	// masked the way config values are.
	if isPanic {
		rep.Title = "panic: " + redact.Text(fmt.Sprint(v))
	} else {
		rep.Title = "error: " + redact.Text(fmt.Sprint(v))
	}
	if err, ok := v.(error); ok {
		for e := err; e != nil; {
			rep.Chain = append(rep.Chain, redact.Text(fmt.Sprintf("%T: %v", e, e)))
			u, ok := e.(interface{ Unwrap() error })
			if !ok {
				break
			}
			e = u.Unwrap()
		}
	}
	rep.Stack = frames(pcs, h.o.Debug, h.o.Context)
	rep.Request = describe(r)
	if h.o.Config != nil {
		groups := h.o.Config(r)
		names := make([]string, 0, len(groups))
		for n := range groups {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rep.Config = append(rep.Config, configGroup{Name: n, Keys: masked(groups[n])})
		}
	}
	return rep
}

// callers returns the stack of the calling goroutine, skipping skip frames.
func callers(skip int) []uintptr {
	pcs := make([]uintptr, 64)
	return pcs[:runtime.Callers(skip, pcs)]
}

var goroot = filepath.ToSlash(runtime.GOROOT())

// frames resolves pcs; with source set it reads a few lines around each
// application frame.
func frames(pcs []uintptr, source bool, ctx int) []frame {
	var out []frame
	fs := runtime.CallersFrames(pcs)
	for {
		f, more := fs.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			fr := frame{Func: f.Function, File: f.File, Line: f.Line, App: isApp(f)}
			if source && fr.App {
				fr.Source = readSource(f.File, f.Line, ctx)
			}
			out = append(out, fr)
		}
		if !more {
			break
		}
	}
	return out
}

func isApp(f runtime.Frame) bool {
	file := filepath.ToSlash(f.File)
	if goroot != "" && strings.HasPrefix(file, goroot+"/") {
		return false
	}
	if strings.Contains(file, "/pkg/mod/") ||
		strings.HasPrefix(f.Function, "github.com/gopaste/gopaste/middleware/errorpage.") && !strings.HasSuffix(file, "_test.go") {
		return false
	}
	return true
}

// readSource returns lines line-ctx..line+ctx of file, nil when it cannot
// be read (a binary built elsewhere).
func readSource(file string, line, ctx int) []sourceLine {
	fh, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []sourceLine
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan() && n <= line+ctx; n++ {
		if n >= line-ctx {
			out = append(out, sourceLine{N: n, Text: sc.Text(), Current: n == line})
		}
	}
	return out
}

func describe(r *http.Request) requestInfo {
	ri := requestInfo{
		Method: r.Method, Path: mount.OriginalPath(r), Proto: r.Proto,
		Host: r.Host, RemoteAddr: r.RemoteAddr,
	}
	u := *r.URL
	u.Path, u.RawPath = ri.Path, ""
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	ri.URL = u.RequestURI()
	ri.Header = masked(flatten(r.Header))
	// The body is not read here: it may be large, or half consumed.
	// The form shows what the handler parsed, or the query.
	form := r.Form
	if form == nil {
		form = r.URL.Query()
	}
	ri.Form = masked(flatten(form))
	cs := map[string]string{}
	for _, c := range r.Cookies() {
		cs[c.Name] = c.Value
	}
	ri.Cookies = masked(cs)
	return ri
}

func flatten[M ~map[string][]string](m M) map[string]string {
	out := make(map[string]string, len(m))
	for k, vs := range m {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// Mask replaces secret values.
const Mask = redact.Mask

// Secret reports whether a key with this name probably holds a secret
// (see package internal/redact, which the env app shares).
func Secret(key string) bool { return redact.SecretKey(key) }

func masked(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, redact.Value(k, v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Text renders the report for logs and mail: no cookies, no
// Authorization, secrets masked.
func (rep *report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nrequest id: %s\ntime: %s\n", rep.Title, rep.ID, rep.Time.UTC().Format(time.RFC3339))
	for _, c := range rep.Chain {
		fmt.Fprintf(&b, "  caused by %s\n", c)
	}
	b.WriteString("\nstack:\n")
	for _, f := range rep.Stack {
		fmt.Fprintf(&b, "  %s\n      %s:%d\n", f.Func, f.File, f.Line)
	}
	ri := rep.Request
	fmt.Fprintf(&b, "\nrequest: %s %s %s\nhost: %s\nremote: %s\n", ri.Method, ri.URL, ri.Proto, ri.Host, ri.RemoteAddr)
	for _, h := range ri.Header {
		if strings.EqualFold(h.Key, "Cookie") || strings.EqualFold(h.Key, "Authorization") {
			continue
		}
		fmt.Fprintf(&b, "  %s: %s\n", h.Key, h.Value)
	}
	if len(ri.Form) > 0 {
		b.WriteString("form:\n")
		for _, f := range ri.Form {
			fmt.Fprintf(&b, "  %s = %s\n", f.Key, f.Value)
		}
	}
	for _, g := range rep.Config {
		fmt.Fprintf(&b, "\nconfig %s:\n", g.Name)
		for _, k := range g.Keys {
			fmt.Fprintf(&b, "  %s = %s\n", k.Key, k.Value)
		}
	}
	return b.String()
}

// plainPage and debugPage are parsed on first use, not at start: every
// gopaste process links this package, most never renders an error page.
var plainPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("plain").Parse(`<!DOCTYPE html>
<html><head><title>{{.Status}} {{.StatusText}}</title></head>
<body><h1>{{.Status}} {{.StatusText}}</h1>
<p>Something went wrong on our side. The error has been logged; if you report it, please quote request id <code>{{.RequestID}}</code>.</p>
</body></html>
`))
})

var debugPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("debug").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:sans-serif;margin:1em 2em;color:#222}
h1{font-size:1.4em;color:#a00;white-space:pre-wrap}
h2{font-size:1.1em;border-bottom:1px solid #ccc;margin-top:1.5em}
.frame{margin:.6em 0}.lib{color:#888}
.func{font-family:monospace;font-weight:bold}.file{font-family:monospace;font-size:.9em}
pre{background:#f6f6f6;padding:.4em;margin:.2em 0;overflow:auto}
.cur{background:#fdd;display:block}
table{border-collapse:collapse}td{border:1px solid #ddd;padding:2px 6px;font-family:monospace;vertical-align:top}
</style></head><body>
<h1>{{.Title}}</h1>
<p>request id <code>{{.ID}}</code> at {{.Time.UTC.Format "2006-01-02 15:04:05Z"}}</p>
{{with .Chain}}<ul>{{range .}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<h2>Stack</h2>
{{range .Stack}}<div class="frame{{if not .App}} lib{{end}}"><div class="func">{{.Func}}</div><div class="file">{{.File}}:{{.Line}}</div>
{{- with .Source}}<pre>{{range .}}<span{{if .Current}} class="cur"{{end}}>{{printf "%5d" .N}}  {{.Text}}</span>
{{end}}</pre>{{end}}</div>
{{end}}
<h2>Request</h2>
<table>
<tr><td>method</td><td>{{.Request.Method}}</td></tr>
<tr><td>url</td><td>{{.Request.URL}}</td></tr>
<tr><td>proto</td><td>{{.Request.Proto}}</td></tr>
<tr><td>host</td><td>{{.Request.Host}}</td></tr>
<tr><td>remote</td><td>{{.Request.RemoteAddr}}</td></tr>
</table>
<h2>Headers</h2><table>{{range .Request.Header}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
<h2>Form</h2><table>{{range .Request.Form}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{else}}<tr><td>(none)</td></tr>{{end}}</table>
<h2>Cookies</h2><table>{{range .Request.Cookies}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{else}}<tr><td>(none)</td></tr>{{end}}</table>
{{range .Config}}<h2>Config: {{.Name}}</h2><table>{{range .Keys}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
{{end}}</body></html>
`))
})
