package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

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
		Desc: "gopaste serve, text app on the http server, vs a 10-line net/http server, and the same with gopaste's default timeouts",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 0.95},
		A:    gopasteSystem("gopaste", textApp),
		B:    hello,
		More: []Rival{{System: helloTimeouts}},
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
		Desc:  "a 1 KiB file: gopaste static app vs nginx, Caddy file_server and nginx with one worker",
		Kind:  Compare,
		Goal:  Goal{MinRPSRatio: 0.9, MaxP99Ratio: 1.5},
		Path:  "/small.txt",
		Files: map[string]int{"small.txt": 1 << 10},
		A:     gopasteSystem("gopaste", staticApp),
		B:     nginxSystem("", nginxStatic),
		More:  []Rival{caddy(caddyStatic, 1.5), oneWorker(nginxSystem("", nginxStatic)), floor("file", "-file", "{{.Dir}}/www/small.txt")},
	},
	{
		Name:  "static-large",
		Desc:  "a 1 MiB file: gopaste static app vs nginx, Caddy file_server and nginx with one worker",
		Kind:  Compare,
		Goal:  Goal{MinRPSRatio: 1.0},
		Path:  "/large.txt",
		Files: map[string]int{"large.txt": 1 << 20},
		A:     gopasteSystem("gopaste", staticApp),
		B:     nginxSystem("", nginxStatic),
		More:  []Rival{caddy(caddyStatic, 1.5), oneWorker(nginxSystem("", nginxStatic))},
	},
	{
		Name:    "proxy-http",
		Desc:    "reverse proxy to a Go backend: gopaste http_proxy vs nginx proxy_pass with a keepalive upstream, Caddy reverse_proxy and nginx with one worker",
		Kind:    Compare,
		Goal:    Goal{MinRPSRatio: 0.8},
		Backend: true,
		A: gopasteSystem("gopaste", `[app:main]
use = http_proxy
backends = {{.Backend}}
`),
		B:    nginxSystem(nginxUpstream, nginxProxy),
		More: []Rival{caddy("reverse_proxy {{.Backend}}", 1.5), oneWorker(nginxSystem(nginxUpstream, nginxProxy)), floor("http", "-backend", "{{.Backend}}")},
	},
	{
		// Each system has its own PHP-FPM pool of 4 workers, the same
		// config: a kept FastCGI connection pins a PHP-FPM worker, so
		// gopaste's pool (max_conns = 4, kept between requests) would
		// starve the others out of a shared one. nginx and Caddy open a
		// connection per request, as their stock configs do (nginx's
		// keepalive upstream, per worker process, could starve the pool
		// the same way). CPU per request includes the system's pool.
		Name:    "php",
		Desc:    "a PHP hello through FastCGI to a php-fpm pool of 4 workers: gopaste fastcgi_proxy vs nginx fastcgi_pass, Caddy php_fastcgi and nginx with one worker",
		Kind:    Compare,
		Goal:    Goal{MinRPSRatio: 1.0},
		Path:    "/hello.php",
		Scripts: map[string]string{"hello.php": "<?php echo \"Hello, World!\\n\";\n"},
		A: onPHP(gopasteSystem("gopaste", `[app:main]
use = fastcgi_proxy
backends = {{.Upstream}}
max_conns = 4
document_root = {{.Dir}}/www
split_path = .php
`)),
		B: onPHP(nginxSystem("", nginxPHP)),
		More: []Rival{
			onPHPRival(caddy("root * {{.Dir}}/www\nphp_fastcgi {{.Upstream}}", 1.5)),
			onPHPRival(oneWorker(nginxSystem("", nginxPHP))),
		},
	},
	{
		Name: "idle-memory",
		Desc: "gopaste serve with no config (the embedded demo): RSS after start and after 100k requests; net/http hello and Caddy answering a constant for reference",
		Kind: Memory,
		Goal: Goal{MaxIdleRSS: 15 << 20},
		A:    System{Name: "gopaste demo", Demo: true},
		B:    hello,
		More: []Rival{caddy(`respond "Hello, World!"`, 0)},
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

const nginxStatic = "root {{.Dir}}/www;"

const nginxUpstream = `upstream backend {
    server {{.Backend}};
    keepalive 64;
}`

const nginxProxy = `location / {
    proxy_pass http://backend;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
}`

const nginxPHP = `root {{.Dir}}/www;
location ~ \\.php$ {
    include /etc/nginx/fastcgi_params;
    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    fastcgi_pass {{.Upstream}};
}`

const caddyStatic = `root * {{.Dir}}/www
file_server`

// hello is bench/hellosrv: net/http answering "Hello, World!\n".
var hello = System{Name: "net/http", Hello: true}

// helloTimeouts is hello with the header and idle timeouts gopaste serve
// has by default: a reference line, since every request then arms and
// clears a read deadline that the bare server never does.
var helloTimeouts = System{Name: "net/http + timeouts", Command: []string{"{{.Bin}}/hellosrv", "-addr", "127.0.0.1:{{.Port}}", "-timeouts"}}

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

// oneWorker is an nginx system with worker_processes 1 instead of auto,
// as a reference line without a goal.
func oneWorker(sys System) Rival {
	n := *sys.Nginx
	n.Workers = 1
	sys.Nginx = &n
	sys.Name += " (1 worker)"
	return Rival{System: sys}
}

// caddy is Caddy (Debian's caddy package) with siteSnippet in the site
// block that listens on the system's port, as a rival that A should
// beat by minRatio in req/s. The admin endpoint, automatic HTTPS and
// access logs are off; its storage is in the scenario's dir. (Caddy
// 2.6 has no persist_config; with the admin endpoint off it saves no
// config.)
func caddy(siteSnippet string, minRatio float64) Rival {
	return Rival{
		System: System{
			Name:    "Caddy",
			Command: []string{"caddy", "run", "--adapter", "caddyfile", "--config", "{{.Config}}"},
			Config: `{
	admin off
	auto_https off
	storage file_system {{.Dir}}/caddy-data
}

http://127.0.0.1:{{.Port}} {
` + indent(siteSnippet, "\t") + `
}
`,
			// Where Caddy would save its config (autosave.json) and data.
			Env:   []string{"XDG_CONFIG_HOME={{.Dir}}/caddy-config", "XDG_DATA_HOME={{.Dir}}/caddy-data"},
			Needs: []string{"caddy"},
		},
		Goal: Goal{MinRPSRatio: minRatio},
	}
}

// onPHP gives sys its own PHP-FPM pool of 4 workers as its Upstream.
func onPHP(sys System) System {
	sys.Upstream = phpFPM(4)
	return sys
}

func onPHPRival(r Rival) Rival {
	r.System = onPHP(r.System)
	return r
}

// phpFPM is PHP-FPM in the foreground with one static pool of n workers
// and Debian's php.ini (OPcache on). As root it needs -R and a pool
// user.
func phpFPM(n int) *System {
	conf := `[global]
pid = {{.Dir}}/php-fpm.pid
error_log = {{.Dir}}/php-fpm.log
daemonize = no

[bench]
listen = 127.0.0.1:{{.Port}}
listen.backlog = 4096
pm = static
pm.max_children = ` + strconv.Itoa(n) + "\n"
	argv := []string{"php-fpm8.2", "-F", "-y", "{{.Config}}", "-p", "{{.Dir}}"}
	if os.Geteuid() == 0 {
		conf += "user = root\ngroup = root\n"
		argv = append(argv, "-R")
	}
	return &System{Name: "php-fpm", Command: argv, Config: conf, Needs: []string{"php-fpm8.2"}, StopSignal: syscall.SIGQUIT}
}
