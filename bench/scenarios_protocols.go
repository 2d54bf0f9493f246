package main

import "syscall"

// The gateway-protocol scenarios of issue 6: gopaste's uwsgi and FastCGI
// servers behind nginx, and its scgi_proxy and uwsgi_proxy in front of
// uWSGI, each against what one would run instead.
func init() {
	scenarios = append(scenarios, protocolScenarios...)
}

var protocolScenarios = []Scenario{
	{
		Name: "uwsgi-server",
		Desc: "nginx uwsgi_pass → gopaste uwsgi server → text vs nginx proxy_pass (keepalive upstream) → net/http, same handler",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 1.0},
		A:    behind(nginxSystem("", uwsgiPass), gopasteServer("gopaste uwsgi", "uwsgi")),
		B: behind(nginxSystem(`upstream backend {
    server {{.Upstream}};
    keepalive 64;
}`, `location / {
    proxy_pass http://backend;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
}`), hello),
	},
	{
		// No goal: the same nginx uwsgi_pass (one connection per request)
		// in front of gopaste and of uWSGI, to tell the protocol's cost
		// from the server's.
		Name: "uwsgi-server-uwsgi",
		Desc: "reference: nginx uwsgi_pass → gopaste uwsgi server → text vs nginx uwsgi_pass → uWSGI (2 processes, WSGI hello)",
		Kind: Compare,
		A:    behind(nginxSystem("", uwsgiPass), gopasteServer("gopaste uwsgi", "uwsgi")),
		B:    behind(nginxSystem("", uwsgiPass), *uwsgiPeer("--socket")),
	},
	{
		// nginx keeps upstream FastCGI connections (fastcgi_keep_conn
		// with a keepalive upstream) on both sides; the scenario below
		// opens one connection per request instead.
		Name: "fastcgi-server",
		Desc: "nginx fastcgi_pass with fastcgi_keep_conn and a keepalive upstream → gopaste fastcgi server → text vs the same nginx → net/http/fcgi, same handler",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 2.0},
		A:    behind(nginxSystem(fastcgiUpstream, fastcgiKeepConn), gopasteServer("gopaste fastcgi", "fastcgi")),
		B:    behind(nginxSystem(fastcgiUpstream, fastcgiKeepConn), netFCGI),
	},
	{
		Name: "fastcgi-server-nokeep",
		Desc: "reference: as fastcgi-server but nginx opens one FastCGI connection per request (no fastcgi_keep_conn)",
		Kind: Compare,
		A: behind(nginxSystem("", `location / {
    include /etc/nginx/fastcgi_params;
    fastcgi_pass {{.Upstream}};
}`), gopasteServer("gopaste fastcgi", "fastcgi")),
		B: behind(nginxSystem("", `location / {
    include /etc/nginx/fastcgi_params;
    fastcgi_pass {{.Upstream}};
}`), netFCGI),
	},
	{
		Name: "scgi-proxy",
		Desc: "gopaste scgi_proxy → uWSGI --scgi-socket (2 processes) vs nginx scgi_pass → the same uWSGI, and nginx with one worker",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 0.9},
		Peer: uwsgiPeer("--scgi-socket"),
		A: gopasteSystem("gopaste", `[app:main]
use = scgi_proxy
backends = {{.Backend}}
`),
		B:    nginxSystem("", scgiPass),
		More: []Rival{oneWorker(nginxSystem("", scgiPass)), floor("scgi", "-backend", "{{.Backend}}")},
	},
	{
		Name: "uwsgi-proxy",
		Desc: "gopaste uwsgi_proxy → uWSGI --socket (2 processes) vs nginx uwsgi_pass → the same uWSGI, and nginx with one worker",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 0.9},
		Peer: uwsgiPeer("--socket"),
		A: gopasteSystem("gopaste", `[app:main]
use = uwsgi_proxy
backends = {{.Backend}}
`),
		B:    nginxSystem("", uwsgiPassBackend),
		More: []Rival{oneWorker(nginxSystem("", uwsgiPassBackend)), floor("uwsgi", "-backend", "{{.Backend}}")},
	},
}

const uwsgiPass = `location / {
    include /etc/nginx/uwsgi_params;
    uwsgi_pass {{.Upstream}};
}`

const scgiPass = `location / {
    include /etc/nginx/scgi_params;
    scgi_pass {{.Backend}};
}`

const uwsgiPassBackend = `location / {
    include /etc/nginx/uwsgi_params;
    uwsgi_pass {{.Backend}};
}`

const fastcgiUpstream = `upstream backend {
    server {{.Upstream}};
    keepalive 64;
}`

const fastcgiKeepConn = `location / {
    include /etc/nginx/fastcgi_params;
    fastcgi_keep_conn on;
    fastcgi_pass backend;
}`

// floor is bench/floorsrv in mode (http, scgi or uwsgi: relaying to the
// scenario's backend; file: answering with {{.Dir}}/www/FILE), the least
// a server on net/http and net does for the scenario's request.
func floor(mode string, args ...string) Rival {
	return Rival{Floor: true, System: System{
		Name:    "Go floor",
		Command: append([]string{"{{.Bin}}/floorsrv", "-addr", "127.0.0.1:{{.Port}}", "-mode", mode}, args...),
	}}
}

// netFCGI is bench/fcgisrv: net/http/fcgi with hellosrv's handler.
var netFCGI = System{Name: "net/http/fcgi", Command: []string{"{{.Bin}}/fcgisrv", "-addr", "127.0.0.1:{{.Port}}"}}

// gopasteServer is gopaste serving the text app over server (uwsgi,
// fastcgi...) rather than HTTP.
func gopasteServer(name, server string) System {
	return System{Name: name, Gopaste: textApp, Server: server}
}

// behind is front (nginx) forwarding to up, which the harness starts
// first; the pair is named after both.
func behind(front, up System) System {
	front.Name = front.Name + " → " + up.Name
	front.Upstream = &up
	return front
}

// wsgiHello is the WSGI twin of the text app: the same 14 bytes.
const wsgiHello = `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"Hello, World!\n"]
`

// uwsgiPeer is uWSGI with 2 worker processes serving wsgiHello on a
// socket of the kind flag names (--socket for uwsgi, --scgi-socket).
// uWSGI 2.0 takes SIGTERM for a reload, so the harness stops it with
// SIGINT; a worker that gets it while still starting ignores it, and
// the master waits --worker-reload-mercy (default 60s) before killing it.
func uwsgiPeer(flag string) *System {
	return &System{
		Name: "uWSGI",
		Command: []string{"uwsgi", "--plugin", "python3", "--master", "--processes", "2",
			"--worker-reload-mercy", "1",
			"--disable-logging", "--need-app", flag, "127.0.0.1:{{.Port}}", "--eval", wsgiHello},
		Needs:      []string{"uwsgi"},
		StopSignal: syscall.SIGINT,
	}
}
