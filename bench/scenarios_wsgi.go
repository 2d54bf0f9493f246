package main

import (
	"runtime"
	"strconv"
	"syscall"
)

// The WSGI scenarios of issue 11: the same application served by
// gopaste's wsgi app (2 workers), gunicorn (sync, and gthread with 4
// threads), uWSGI with --http-keepalive and nginx uwsgi_pass → uWSGI,
// each with 2 worker processes. The goals: gopaste at least 1.5× gunicorn
// sync and 1.1× uWSGI, with a p99 no worse.
func init() {
	scenarios = append(scenarios, wsgiScenarios...)
}

var wsgiScenarios = []Scenario{
	wsgiScenario("wsgi-hello", "the WSGI hello app (14 bytes, with its Content-Length)",
		map[string]string{"hello.py": wsgiHelloLength}, "hello:application", "hello.py", "application"),
	wsgiScenario("wsgi-flask", "a Flask page rendering a Jinja template",
		map[string]string{"app.py": flaskApp, "page.html": flaskPage}, "app:app", "app.py", "app"),
}

// wsgiHelloLength is wsgiHello with its Content-Length, as Flask and
// most frameworks send one. Without it uWSGI's --http-keepalive cannot
// keep a connection (it closes after every reply; its
// --http-auto-chunked, which would chunk instead, waits 40 ms per reply
// on the delayed ACK here) and gunicorn gthread chunks the reply, so
// the rivals would not run as the baselines ran them.
const wsgiHelloLength = `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "14")])
    return [b"Hello, World!\n"]
`

// flaskApp renders page.html, beside it, for every request.
const flaskApp = `from flask import Flask, render_template

app = Flask(__name__, template_folder=".")


@app.route("/")
def index():
    return render_template("page.html", name="World", items=range(10))
`

const flaskPage = `<!doctype html>
<title>Hello, {{ name }}</title>
<h1>Hello, {{ name }}!</h1>
<ul>
{% for i in items %}  <li>item {{ i }}</li>
{% endfor %}</ul>
`

// wsgiScenario compares gopaste's wsgi app with the Python servers on
// the application in scripts (written to {{.Dir}}/www): module is its
// gopaste and gunicorn name, file and callable uWSGI's.
func wsgiScenario(name, what string, scripts map[string]string, module, file, callable string) Scenario {
	uwsgiGoal := Goal{MinRPSRatio: 1.1, MaxP99Ratio: 1.0}
	return Scenario{
		Name: name,
		Desc: what + ": gopaste wsgi (2 workers) vs gunicorn sync (-w 2), gunicorn gthread (-w 2, 4 threads), " +
			"uWSGI --http-keepalive (2 processes) and nginx uwsgi_pass → uWSGI (2 processes); gopaste with GOMAXPROCS = CPUs as a reference line",
		Kind:    Compare,
		Goal:    Goal{MinRPSRatio: 1.5, MaxP99Ratio: 1.0},
		Scripts: scripts,
		A: gopasteSystem("gopaste wsgi", `[app:main]
use = wsgi
module = `+module+`
workers = 2
chdir = {{.Dir}}/www
`),
		B: gunicorn("gunicorn sync", module),
		More: []Rival{
			// A reference line without a goal: the same gopaste with
			// a P per CPU, as before it halved them for its workers.
			{System: everyCPU(gopasteSystem("gopaste wsgi", `[app:main]
use = wsgi
module = `+module+`
workers = 2
chdir = {{.Dir}}/www
`))},
			{System: gunicorn("gunicorn gthread", module, "--worker-class", "gthread", "--threads", "4")},
			{System: uwsgiApp("--http", file, callable, "--http-keepalive"), Goal: uwsgiGoal},
			{System: behind(nginxSystem("", uwsgiPass), uwsgiApp("--socket", file, callable)), Goal: uwsgiGoal},
		},
	}
}

// everyCPU is a gopaste system run with GOMAXPROCS set to the number of
// CPUs: the Go runtime's own default, which "gopaste serve" halves while
// it runs local workers (docs/process.md, "CPUs").
func everyCPU(sys System) System {
	n := strconv.Itoa(runtime.NumCPU())
	sys.Name += " (GOMAXPROCS=" + n + ")"
	sys.Env = append(sys.Env, "GOMAXPROCS="+n)
	return sys
}

// gunicorn is Debian's gunicorn with 2 workers serving module from
// {{.Dir}}/www, without an access log (its default).
func gunicorn(name, module string, extra ...string) System {
	cmd := []string{"gunicorn", "--workers", "2", "--bind", "127.0.0.1:{{.Port}}", "--chdir", "{{.Dir}}/www"}
	return System{Name: name, Command: append(append(cmd, extra...), module), Needs: []string{"gunicorn"}}
}

// uwsgiApp is uWSGI with 2 processes serving callable of file (in
// {{.Dir}}/www) on a socket of the kind flag names (--http, which needs
// the http plugin, or --socket for uwsgi); see uwsgiPeer for the stop
// signal.
func uwsgiApp(flag, file, callable string, extra ...string) System {
	cmd := []string{"uwsgi", "--plugin", "http,python3", "--master", "--processes", "2",
		"--worker-reload-mercy", "1", "--disable-logging", "--need-app", flag, "127.0.0.1:{{.Port}}",
		"--chdir", "{{.Dir}}/www", "--wsgi-file", "{{.Dir}}/www/" + file, "--callable", callable}
	return System{
		Name:       "uWSGI " + flag,
		Command:    append(cmd, extra...),
		Needs:      []string{"uwsgi"},
		StopSignal: syscall.SIGINT,
	}
}
