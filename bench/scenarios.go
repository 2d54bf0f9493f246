package main

import "time"

// scenarios is every scenario the harness knows, in the order it runs and
// reports them. A later issue adds its own by appending an entry: a
// gopaste config for A (without the server section, which the harness
// writes) and, for B, the plain net/http hello world (hello), nginx with a
// config snippet (nginxSystem), or any command (System.Command).
//
// Templates see {{.Dir}} (a temp dir holding the scenario's files under
// www/), {{.Port}} (the system's port) and {{.Backend}} (the address of
// the Go backend when the scenario has one).
var scenarios = []Scenario{
	{
		Name: "hello",
		Desc: "gopaste serve, text app on the http server, vs a 10-line net/http server",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 0.95},
		A:    gopasteSystem("gopaste", textApp),
		B:    hello,
	},
	{
		// No goal: the ceiling for the nginx comparisons below, since
		// gopaste cannot answer faster than net/http answers a constant.
		Name: "hello-nginx",
		Desc: "reference: gopaste text app vs nginx answering the same 14 bytes with return 200",
		Kind: Compare,
		A:    gopasteSystem("gopaste", textApp),
		B: nginxSystem("", `location / {
    default_type "text/plain; charset=utf-8";
    return 200 "Hello, World!\n";
}`),
	},
	{
		Name:    "filters",
		Desc:    "text behind requestid, accesslog (to a file), errors and compress vs bare text, both gopaste",
		Kind:    Compare,
		Goal:    Goal{MinRPSRatio: 0.90},
		Headers: []string{"Accept-Encoding: gzip"},
		A: gopasteSystem("gopaste+filters", `[pipeline:main]
pipeline = requestid accesslog errors compress hello

[filter:requestid]
use = requestid

[filter:accesslog]
use = accesslog
file = {{.Dir}}/access.log

[filter:errors]
use = errors

[filter:compress]
use = compress

[app:hello]
use = text
`),
		B: gopasteSystem("gopaste", textApp),
	},
	{
		Name:  "static-small",
		Desc:  "a 1 KiB file: gopaste static app vs nginx",
		Kind:  Compare,
		Goal:  Goal{MinRPSRatio: 1.0, MaxP99Ratio: 1.0},
		Path:  "/small.txt",
		Files: map[string]int{"small.txt": 1 << 10},
		A:     gopasteSystem("gopaste", staticApp),
		B:     nginxSystem("", "root {{.Dir}}/www;"),
	},
	{
		Name:  "static-large",
		Desc:  "a 1 MiB file: gopaste static app vs nginx",
		Kind:  Compare,
		Goal:  Goal{MinRPSRatio: 1.0, MaxP99Ratio: 1.0},
		Path:  "/large.txt",
		Files: map[string]int{"large.txt": 1 << 20},
		A:     gopasteSystem("gopaste", staticApp),
		B:     nginxSystem("", "root {{.Dir}}/www;"),
	},
	{
		Name:    "proxy-http",
		Desc:    "reverse proxy to a Go backend: gopaste http_proxy vs nginx proxy_pass with a keepalive upstream",
		Kind:    Compare,
		Goal:    Goal{MinRPSRatio: 1.0},
		Backend: true,
		A: gopasteSystem("gopaste", `[app:main]
use = http_proxy
backends = {{.Backend}}
`),
		B: nginxSystem(`upstream backend {
    server {{.Backend}};
    keepalive 64;
}`, `location / {
    proxy_pass http://backend;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
}`),
	},
	{
		Name: "idle-memory",
		Desc: "gopaste serve with no config (the embedded demo): RSS after start and after 100k requests; net/http hello for reference",
		Kind: Memory,
		Goal: Goal{MaxIdleRSS: 15 << 20},
		A:    System{Name: "gopaste demo", Demo: true},
		B:    hello,
	},
	{
		Name: "startup",
		Desc: "time from exec to the first 200 (text app); net/http hello for reference",
		Kind: Startup,
		Goal: Goal{MaxStartup: 50 * time.Millisecond},
		A:    gopasteSystem("gopaste", textApp),
		B:    hello,
	},
}

const textApp = `[app:main]
use = text
`

const staticApp = `[app:main]
use = static
document_root = {{.Dir}}/www
`

// hello is bench/hellosrv: net/http answering "Hello, World!\n".
var hello = System{Name: "net/http", Hello: true}

// gopasteSystem runs "gopaste serve" on config (the harness adds the
// [server:main] section).
func gopasteSystem(name, config string) System {
	return System{Name: name, Gopaste: config}
}

// nginxSystem runs nginx with httpSnippet in its http block and
// serverSnippet in the server block that listens on the system's port.
func nginxSystem(httpSnippet, serverSnippet string) System {
	return System{Name: "nginx", Nginx: &Nginx{HTTP: httpSnippet, Server: serverSnippet}, Needs: []string{"nginx"}}
}
