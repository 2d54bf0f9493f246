// Package profile serves the Go runtime's profiles (the endpoints of
// net/http/pprof, which `go tool pprof` reads) under a path prefix, to
// requests that carry a key, as Paste's profile middleware served its
// profiler output.
//
// Endpoints, under Prefix (default /_profile/):
//
//	""        an HTML index of the profiles, with links carrying the key
//	cmdline   the program's command line, NUL-separated
//	profile   a CPU profile over ?seconds= (default 30, at most 300)
//	trace     an execution trace over ?seconds= (default 1, at most 300)
//	symbol    the symbol lookup protocol of pprof
//	NAME      the runtime/pprof profile NAME (heap, goroutine, allocs,
//	          block, mutex, threadcreate); ?debug=N for text, ?gc=1 to
//	          collect garbage before a heap profile
//
// The key comes in the query (?key=) or, kept out of access logs, in the
// X-Profile-Key header; it is compared in constant time. A request
// without the right key, or outside the prefix, passes to the next
// handler untouched, so the endpoints are invisible to others.
//
// This package does not import net/http/pprof, which would register its
// handlers on http.DefaultServeMux as a side effect.
package profile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPrefix is the prefix used when Options.Prefix is empty.
const DefaultPrefix = "/_profile/"

// maxSeconds bounds the duration of a CPU profile or trace.
const maxSeconds = 300

// Options configure the filter.
type Options struct {
	// Prefix is the path (inside the mount) the endpoints live under; it
	// must start and end with '/'. "" means DefaultPrefix.
	Prefix string
	// Key must be presented to reach the endpoints. Required.
	Key string
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !strings.HasPrefix(o.Prefix, "/") || !strings.HasSuffix(o.Prefix, "/") || len(o.Prefix) < 2 {
		return nil, errors.New("profile: prefix must start and end with / and not be /")
	}
	if o.Key == "" {
		return nil, errors.New("profile: no key")
	}
	want := sha256.Sum256([]byte(o.Key))
	allowed := func(r *http.Request) bool {
		k := r.Header.Get("X-Profile-Key")
		if k == "" {
			k = r.URL.Query().Get("key")
		}
		got := sha256.Sum256([]byte(k))
		return k != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name, ok := strings.CutPrefix(r.URL.Path, o.Prefix)
			if !ok || !allowed(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-store")
			serve(w, r, name)
		})
	}, nil
}

func serve(w http.ResponseWriter, r *http.Request, name string) {
	switch name {
	case "":
		index(w, r)
	case "cmdline":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, strings.Join(os.Args, "\x00"))
	case "profile":
		d, err := seconds(r, 30)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			http.Error(w, "could not start CPU profile: "+err.Error(), http.StatusInternalServerError)
			return
		}
		wait(r, d)
		pprof.StopCPUProfile()
		sendProfile(w, "profile", buf.Bytes())
	case "trace":
		d, err := seconds(r, 1)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var buf bytes.Buffer
		if err := trace.Start(&buf); err != nil {
			http.Error(w, "could not start trace: "+err.Error(), http.StatusInternalServerError)
			return
		}
		wait(r, d)
		trace.Stop()
		sendProfile(w, "trace", buf.Bytes())
	case "symbol":
		symbol(w, r)
	default:
		p := pprof.Lookup(name)
		if p == nil {
			http.Error(w, "unknown profile", http.StatusNotFound)
			return
		}
		debug, _ := strconv.Atoi(r.FormValue("debug"))
		if name == "heap" && r.FormValue("gc") != "" {
			runtime.GC()
		}
		var buf bytes.Buffer
		if err := p.WriteTo(&buf, debug); err != nil {
			http.Error(w, "could not write profile: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if debug != 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(buf.Bytes())
			return
		}
		sendProfile(w, name, buf.Bytes())
	}
}

func seconds(r *http.Request, def int) (time.Duration, error) {
	s := r.FormValue("seconds")
	if s == "" {
		return time.Duration(def) * time.Second, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n > 0 && n <= maxSeconds) {
		return 0, fmt.Errorf("seconds must be a number in (0, %d]", maxSeconds)
	}
	return time.Duration(n * float64(time.Second)), nil
}

// wait sleeps for d or until the client goes away.
func wait(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func sendProfile(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
}

// symbol answers pprof's symbol requests: addresses joined by '+', in the
// POST body or the query.
func symbol(w http.ResponseWriter, r *http.Request) {
	var in io.Reader = strings.NewReader(r.URL.RawQuery)
	if r.Method == http.MethodPost {
		in = http.MaxBytesReader(w, r.Body, 1<<20)
	}
	var buf bytes.Buffer
	buf.WriteString("num_symbols: 1\n")
	br := bufio.NewReader(in)
	for {
		word, err := br.ReadString('+')
		word = strings.TrimSuffix(word, "+")
		if pc, _ := strconv.ParseUint(word, 0, 64); pc != 0 {
			if f := runtime.FuncForPC(uintptr(pc)); f != nil {
				fmt.Fprintf(&buf, "%#x %s\n", pc, f.Name())
			}
		}
		if err != nil {
			break
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf.Bytes())
}

// indexPage is parsed on first use, not at start: every gopaste process
// links this package, most never serves the profile index.
var indexPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Profiles</title></head>
<body>
<h1>Profiles</h1>
<table>
<tr><th>Count</th><th>Profile</th></tr>
{{range .Profiles}}<tr><td>{{.Count}}</td><td><a href="{{.Name}}?debug=1{{$.Key}}">{{.Name}}</a></td></tr>
{{end}}</table>
<p><a href="cmdline{{.Q}}">cmdline</a> · <a href="profile{{.Q}}">CPU profile (30s)</a> · <a href="trace?seconds=1{{.Key}}">trace (1s)</a> · <a href="goroutine?debug=2{{.Key}}">full goroutine stacks</a></p>
<p>With go tool pprof: <code>go tool pprof 'URL_OF_THIS_PAGE/heap{{.Q}}'</code></p>
</body>
</html>
`))
})

type indexProfile struct {
	Name  string
	Count int
}

func index(w http.ResponseWriter, r *http.Request) {
	// Links carry the key only when it came in the query.
	var key, q string
	if k := r.URL.Query().Get("key"); k != "" && r.Header.Get("X-Profile-Key") == "" {
		key = "&key=" + url.QueryEscape(k)
		q = "?key=" + url.QueryEscape(k)
	}
	var ps []indexProfile
	for _, p := range pprof.Profiles() {
		ps = append(ps, indexProfile{p.Name(), p.Count()})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A write error means the client went away; nothing to tell it.
	_ = indexPage().Execute(w, struct {
		Profiles []indexProfile
		Key      template.URL
		Q        template.URL
	}{ps, template.URL(key), template.URL(q)})
}
