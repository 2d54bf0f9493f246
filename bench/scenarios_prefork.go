package main

import "time"

// The scenarios of issue 10: the prefork server against the threaded
// one, the process app in front of Go uwsgi workers against nginx in
// front of the same workers, reloads under load (threaded and prefork),
// and the memory of a prefork master and its workers.
func init() {
	scenarios = append(scenarios, preforkScenarios...)
}

var preforkScenarios = []Scenario{
	{
		// No goal: what forking costs or gains on the cheapest app.
		Name: "prefork-hello",
		Desc: "text app on the http server: concurrency = prefork with 2 workers vs threaded (one process), both gopaste",
		Kind: Compare,
		A:    prefork(gopasteSystem("gopaste prefork", textApp)),
		B:    gopasteSystem("gopaste threaded", textApp),
	},
	{
		Name: "process-uwsgi",
		Desc: "gopaste process app (2 workers, protocol = uwsgi, loopback TCP) → bench/uwsgiworker vs nginx uwsgi_pass → 2 instances of the same worker on loopback ports",
		Kind: Compare,
		Goal: Goal{MinRPSRatio: 1.0, MaxP99Ratio: 1.0},
		A: gopasteSystem("gopaste process", `[app:main]
use = process
workers = 2
protocol = uwsgi
listen = tcp
concurrency = 256
command = {{.Bin}}/uwsgiworker
`),
		B: behind(nginxSystem(`upstream workers {
{{range .Upstreams}}    server {{.}};
{{end}}}`, `location / {
    include /etc/nginx/uwsgi_params;
    uwsgi_pass workers;
}`), uwsgiWorkers(2)),
	},
	{
		// B is the same server without reloads: the p99 ratio is what
		// reloading costs the requests in flight.
		Name: "reload-under-load",
		Desc: "gopaste text app under wrk with a SIGHUP (and a changed body) every second vs the same without reloads: failed requests and p99",
		Kind: Compare,
		Goal: Goal{NoFailures: true},
		A:    reloading(gopasteSystem("gopaste reloading", reloadApp), time.Second),
		B:    gopasteSystem("gopaste", reloadApp),
	},
	{
		// The same measure under prefork: a reload there starts new
		// worker processes and retires the old ones (docs/deploy.md),
		// which must cost the requests no more than twice the p99 of
		// the same prefork server without reloads (issue 10).
		Name: "reload-under-load-prefork",
		Desc: "gopaste text app, concurrency = prefork with 2 workers, under wrk with a SIGHUP (and a changed body) every second vs the same prefork server without reloads: failed requests and p99",
		Kind: Compare,
		Goal: Goal{NoFailures: true, MaxP99Ratio: 2.0},
		A:    reloading(prefork(gopasteSystem("gopaste prefork reloading", reloadApp)), time.Second),
		B:    prefork(gopasteSystem("gopaste prefork", reloadApp)),
	},
	{
		Name: "prefork-memory",
		Desc: "RSS of a prefork master and of each of its 2 workers (text app), after start and after 100k requests; the threaded server for reference",
		Kind: Memory,
		A:    prefork(gopasteSystem("gopaste prefork", textApp)),
		B:    gopasteSystem("gopaste threaded", textApp),
	},
}

// reloadApp is the text app whose body changes at each reload.
const reloadApp = `[app:main]
use = text
body = Hello, World! {{.Gen}}
`

// prefork runs sys's server with 2 prefork workers.
func prefork(sys System) System {
	sys.ServerKeys = "concurrency = prefork\nworkers = 2\n"
	return sys
}

// reloading makes the harness reload sys every interval under load.
func reloading(sys System, every time.Duration) System {
	sys.Reload = every
	return sys
}

// uwsgiWorkers is n instances of bench/uwsgiworker, each on its own
// loopback port.
func uwsgiWorkers(n int) System {
	return System{Name: "uwsgiworker", Command: []string{"{{.Bin}}/uwsgiworker", "-addr", "127.0.0.1:{{.Port}}"}, Instances: n}
}
