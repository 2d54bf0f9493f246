package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The session scenarios of issue 5. For each store, at 1, 16 and 64
// connections, session_info behind the session filter (load, count the
// visit, save: one store round trip each way per request) against
// bench/rawstore, which does the same round trip directly with the
// store's driver; and, as the baseline without any session, the filter on
// the memory store against the bare text app.
//
// Sessions: wrk's Lua cannot tell its connections apart, so sessionScript
// makes each wrk thread collect as many session cookies as it has
// connections and send them round robin: about one session per
// connection. The filter runs with lock = none (its default), so two
// requests that meet on one session are not serialised. rawstore gives
// each connection a key of its own.
//
// Redis keys and PostgreSQL tables carry a namespace unique to the run
// (sessionNS); rawstore, stopped after the filter, deletes them.
func init() {
	benchTools = append(benchTools, "rawstore")
	for _, c := range sessionConns {
		scenarios = append(scenarios, sessionScenarios(c)...)
		for _, st := range append([]string{"bare"}, sessionStores...) {
			wrkLoads[sessionName(st, c)] = wrkLoad{Connections: c, Script: sessionScript(c)}
		}
	}
}

var (
	sessionConns  = []int{1, 16, 64}
	sessionStores = []string{"memory", "file", "sqlite", "redis", "postgres"}
	// sessionNS makes the Redis keys and PostgreSQL tables of one run its
	// own: two runs at once, or a run's leftovers, never mix.
	sessionNS = fmt.Sprintf("gpbench_%d_%d", os.Getpid(), time.Now().Unix()%100000)
)

const (
	sessionRedisURL = "redis://127.0.0.1:6379/0"
	sessionDSN      = "postgres://postgres@127.0.0.1:5432/test"
)

func sessionName(store string, conns int) string {
	return fmt.Sprintf("session-%s-c%d", store, conns)
}

func sessionScenarios(c int) []Scenario {
	out := []Scenario{{
		Name: sessionName("bare", c),
		Desc: fmt.Sprintf("session_info behind the session filter (memory store) vs the bare text app, %d connection(s): what the filter costs", c),
		Kind: Compare,
		A:    gopasteSystem("session filter", sessionFilterConfig("memory", c)),
		B:    gopasteSystem("text (no filter)", textApp),
	}}
	for _, st := range sessionStores {
		out = append(out, Scenario{
			Name: sessionName(st, c),
			Desc: fmt.Sprintf("session_info behind the session filter, %s store, vs the raw %s round trip with its driver (bench/rawstore), %d connection(s)", st, st, c),
			Kind: Compare,
			// The goal is filter ≤ 1.2× the raw round trip in
			// latency; in throughput that is A/B ≥ 1/1.2.
			Goal: Goal{MinRPSRatio: 0.83},
			A:    gopasteSystem("session filter", sessionFilterConfig(st, c)),
			B:    rawStoreSystem(st, c),
		})
	}
	return out
}

// sessionKeys are the store's keys in the filter's config: everything
// outside the temp dir carries the run's namespace.
func sessionFilterConfig(store string, c int) string {
	ns := fmt.Sprintf("%s_c%d", sessionNS, c)
	var keys string
	switch store {
	case "file":
		keys = "path = {{.Dir}}/filter-sessions\n"
	case "sqlite":
		keys = "path = {{.Dir}}/filter-sessions.db\n"
	case "redis":
		keys = fmt.Sprintf("url = %s\nprefix = %s:filter:\n", sessionRedisURL, ns)
	case "postgres":
		keys = fmt.Sprintf("dsn = %s\ntable = %s_filter\n", sessionDSN, ns)
	}
	return fmt.Sprintf(`[pipeline:main]
pipeline = session info

[filter:session]
use = session
store = %s
%slock = none

[app:info]
use = session_info
`, store, keys)
}

// rawStoreSystem is bench/rawstore on store; for Redis and PostgreSQL it
// removes the run's keys or tables, the filter's too, when it stops.
func rawStoreSystem(store string, c int) System {
	ns := fmt.Sprintf("%s_c%d", sessionNS, c)
	argv := []string{"{{.Bin}}/rawstore", "-addr", "127.0.0.1:{{.Port}}", "-store", store}
	switch store {
	case "file":
		argv = append(argv, "-path", "{{.Dir}}/raw-sessions")
	case "sqlite":
		argv = append(argv, "-path", "{{.Dir}}/raw-sessions.db")
	case "redis":
		argv = append(argv, "-url", sessionRedisURL, "-prefix", ns+":raw:", "-cleanup-prefix", ns+":")
	case "postgres":
		argv = append(argv, "-dsn", sessionDSN, "-table", ns+"_raw",
			"-drop-tables", strings.Join([]string{ns + "_raw", ns + "_filter", ns + "_filter_locks"}, ","))
	}
	return System{Name: "raw " + store, Command: argv}
}

// sessionScript is a wrk script that keeps about one session per
// connection: a thread sends requests without a cookie until it has seen
// as many distinct session cookies as it has connections, then sends
// them round robin. Requests to rawstore never get a cookie and go out
// plain; the script's cost is the same on both sides.
func sessionScript(conns int) string {
	threads := min(2, conns)
	perThread := (conns + threads - 1) / threads
	return fmt.Sprintf(`-- about one session per connection (%d per thread)
local want = %d
local seen = {}
local reqs = {}
local i = 0
local plain

function init(args)
   plain = wrk.format()
end

function request()
   if #reqs < want then
      return plain
   end
   i = i %% #reqs + 1
   return reqs[i]
end

function response(status, headers, body)
   if #reqs >= want then
      return
   end
   local v = headers["Set-Cookie"] or headers["set-cookie"]
   local tok = v and string.match(v, "^session=([^;]+)")
   if not tok or seen[tok] then
      return
   end
   seen[tok] = true
   local h = {}
   for k, x in pairs(wrk.headers) do
      h[k] = x
   end
   h["Cookie"] = "session=" .. tok
   reqs[#reqs + 1] = wrk.format(nil, nil, h)
end
`, perThread, perThread)
}

// wrkLoad is a scenario's own wrk settings where -connections and
// Scenario.Headers do not say enough; wrkLoads holds them by scenario name.
type wrkLoad struct {
	Connections int    // wrk -c; 0 means -connections
	Script      string // a wrk Lua script, passed with -s; "" means none
}

var wrkLoads = map[string]wrkLoad{}

// loadFor returns sc's wrk connections and extra wrk arguments, writing
// its script (if any) into dir.
func loadFor(sc Scenario, o Options, dir string) (int, []string, error) {
	l := wrkLoads[sc.Name]
	conns := o.Connections
	if l.Connections > 0 {
		conns = l.Connections
	}
	if l.Script == "" {
		return conns, nil, nil
	}
	path := filepath.Join(dir, "wrk-script.lua")
	if err := os.WriteFile(path, []byte(l.Script), 0o644); err != nil {
		return 0, nil, err
	}
	return conns, []string{"-s", path}, nil
}

// wrkCommandText is the wrk command line of r's load runs as the docs show
// it: without the URL and headers, with the scenario's script named.
func wrkCommandText(r Result) string {
	var extra []string
	if wrkLoads[r.Scenario].Script != "" {
		extra = []string{"-s", r.Scenario + ".lua"}
	}
	args := wrkArgs("", r.Connections, r.Duration, nil, extra...)
	return "wrk " + strings.Join(args[:len(args)-1], " ")
}
