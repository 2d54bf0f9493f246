package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/deploy"
)

// gopaste import FILE prints a gopaste config equivalent to a uWSGI ini
// file ([uwsgi] section) or a gunicorn config file (gunicorn.conf.py),
// and ends it with a comment listing what has no equivalent.
//
// A gunicorn config is Python, which gunicorn executes: import does the
// same with Debian's /usr/bin/python3 (else python3 in PATH) and a small
// snippet that prints the module's settings as JSON, so computed values
// (workers = multiprocessing.cpu_count() * 2 + 1) come out as the number
// they are on this machine, with a comment saying so.

func init() {
	AddCommand("import", "print a gopaste config equivalent to a uWSGI ini or gunicorn.conf.py, and what has no equivalent", runImport)
}

func runImport(e *Env, args []string) int {
	fs := newFlags(e, "import", "FILE [APP]")
	format := fs.String("format", "", "`FORMAT` of FILE, uwsgi or gunicorn; by default a .py file is gunicorn's, anything else uWSGI's ini")
	python := fs.String("python", "", "the Python that runs a gunicorn config (default /usr/bin/python3, else python3 in PATH)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if len(pos) < 1 || len(pos) > 2 {
		fmt.Fprintln(e.Stderr, "gopaste import: FILE is required (a uWSGI ini or a gunicorn.conf.py), then optionally gunicorn's APP (module:callable)")
		return 2
	}
	path := pos[0]
	if *format == "" {
		*format = "uwsgi"
		if strings.HasSuffix(path, ".py") {
			*format = "gunicorn"
		}
	}
	var imp *imported
	switch *format {
	case "uwsgi":
		if len(pos) > 1 {
			fmt.Fprintln(e.Stderr, "gopaste import: APP is for a gunicorn config; a uWSGI ini names its module")
			return 2
		}
		imp, err = importUWSGI(path)
	case "gunicorn":
		app := ""
		if len(pos) > 1 {
			app = pos[1]
		}
		imp, err = importGunicorn(e.Context, path, app, *python)
	default:
		fmt.Fprintf(e.Stderr, "gopaste import: --format %q is not uwsgi or gunicorn\n", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste import: %v\n", err)
		return 1
	}
	imp.write(e.Stdout)
	return 0
}

// kv is one key of the config import prints, with the source line it
// comes from.
type kv struct {
	key, value, from string
}

// imported is the config import builds: the Python app, static apps
// mounted beside it, filters in front, the server, and what has no
// equivalent.
type imported struct {
	source  string // "uWSGI" or "gunicorn"
	file    string
	app     []kv
	statics [][2]string // prefix, directory
	filters [][]kv      // each: use = NAME, keys
	srv     []kv
	notes   []string // mapped with a change worth knowing
	none    []string // no equivalent
}

func (m *imported) set(to *[]kv, key, value, from string) {
	for i := range *to {
		if (*to)[i].key == key {
			(*to)[i] = kv{key, value, from}
			return
		}
	}
	*to = append(*to, kv{key, value, from})
}

func (m *imported) noEquivalent(from, format string, args ...any) {
	m.none = append(m.none, from+": "+fmt.Sprintf(format, args...))
}

func (m *imported) write(w io.Writer) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	fmt.Fprintf(b, "# gopaste config imported from %s's %s by gopaste import.\n", m.source, m.file)
	fmt.Fprintf(b, "# Serve it with: gopaste serve FILE (gopaste check FILE shows what it builds).\n")
	pyName := "main"
	site := ""
	if len(m.statics) > 0 || len(m.filters) > 0 {
		pyName = "python"
	}
	if len(m.statics) > 0 {
		site = "site"
		if len(m.filters) == 0 {
			site = "main"
		}
	}
	if len(m.filters) > 0 {
		inner := pyName
		if site != "" {
			inner = site
		}
		var names []string
		for i := range m.filters {
			names = append(names, fmt.Sprintf("filter%d", i+1))
		}
		fmt.Fprintf(b, "\n[pipeline:main]\npipeline = %s %s\n", strings.Join(names, " "), inner)
		for i, f := range m.filters {
			fmt.Fprintf(b, "\n[filter:filter%d]\n", i+1)
			writeKeys(b, f)
		}
	}
	if site != "" {
		fmt.Fprintf(b, "\n[composite:%s]\nuse = urlmap\n", site)
		for i, s := range m.statics {
			fmt.Fprintf(b, "%s = static%d\n", s[0], i+1)
		}
		fmt.Fprintf(b, "/ = %s\n", pyName)
	}
	fmt.Fprintf(b, "\n[app:%s]\nuse = wsgi\n", pyName)
	writeKeys(b, m.app)
	for i, s := range m.statics {
		fmt.Fprintf(b, "\n[app:static%d]\nuse = static\ndocument_root = %s\n", i+1, s[1])
	}
	fmt.Fprintf(b, "\n[server:main]\n")
	writeKeys(b, m.srv)
	if len(m.notes) > 0 {
		fmt.Fprintf(b, "\n# Mapped with a difference:\n")
		for _, n := range m.notes {
			fmt.Fprintf(b, "#   %s\n", n)
		}
	}
	if len(m.none) > 0 {
		fmt.Fprintf(b, "\n# No equivalent in gopaste (left out):\n")
		for _, n := range m.none {
			fmt.Fprintf(b, "#   %s\n", n)
		}
	}
}

func writeKeys(w io.Writer, keys []kv) {
	for _, k := range keys {
		fmt.Fprintf(w, "%s = %s\n", k.key, k.value)
	}
}

// address splits HOST:PORT, [V6]:PORT or :PORT (all interfaces) into
// server keys; ok is false for anything else.
func address(a string) (host, port string, ok bool) {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", "", false
	}
	if _, err := strconv.Atoi(p); err != nil {
		return "", "", false
	}
	if h == "" || h == "*" {
		h = "0.0.0.0"
	}
	return h, p, true
}

// ---- uWSGI ----

// uwsgiLine is one option of a [uwsgi] section.
type uwsgiLine struct {
	key, value string
	line       int
}

// readUWSGI reads the [uwsgi] section of an ini file as uWSGI does:
// options may repeat, "_" and "-" are the same, and %d (the file's
// directory, with a slash), %n (its name without extension), %p (its
// path) and %% are expanded.
func readUWSGI(path string) ([]uwsgiLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	magic := strings.NewReplacer("%d", filepath.Dir(abs)+"/", "%n", strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)), "%p", abs, "%%", "%")
	var out []uwsgiLine
	in, found := false, false
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			in = strings.TrimSpace(strings.Trim(line, "[]")) == "uwsgi"
			found = found || in
			continue
		case !in:
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v = line, "true" // a bare flag
		}
		out = append(out, uwsgiLine{strings.ReplaceAll(strings.TrimSpace(k), "_", "-"), magic.Replace(strings.TrimSpace(v)), i + 1})
	}
	if !found {
		return nil, fmt.Errorf("%s has no [uwsgi] section", path)
	}
	return out, nil
}

func importUWSGI(path string) (*imported, error) {
	opts, err := readUWSGI(path)
	if err != nil {
		return nil, err
	}
	m := &imported{source: "uWSGI", file: filepath.Base(path)}
	base := filepath.Base(path)
	var module, wsgiFile, callable, moduleFrom string
	serverSet := false
	for _, o := range opts {
		from := fmt.Sprintf("%s:%d", base, o.line)
		v := o.value
		switch o.key {
		case "module", "wsgi", "w":
			module, moduleFrom = v, from
		case "wsgi-file", "file":
			wsgiFile, moduleFrom = v, from
		case "callable":
			callable = v
		case "paste":
			m.set(&m.app, "paste", v, from)
		case "http", "http-socket", "https", "socket", "uwsgi-socket", "s", "fastcgi-socket", "scgi-socket", "http11-socket":
			if serverSet {
				m.noEquivalent(from, "%s = %s: a second listener; gopaste serves one address per server section", o.key, v)
				continue
			}
			serverSet = true
			proto := map[string]string{"http": "http", "http-socket": "http", "http11-socket": "http", "https": "http",
				"socket": "uwsgi", "uwsgi-socket": "uwsgi", "s": "uwsgi", "fastcgi-socket": "fastcgi", "scgi-socket": "scgi"}[o.key]
			m.set(&m.srv, "use", proto, from)
			if o.key == "https" {
				m.noEquivalent(from, "https = %s: set cert_file and key_file in [server:main] and the address here", v)
				v, _, _ = strings.Cut(v, ",")
			}
			if host, port, ok := address(v); ok {
				m.set(&m.srv, "host", host, from)
				m.set(&m.srv, "port", port, from)
			} else {
				m.set(&m.srv, "socket", v, from)
			}
			if o.key == "http" {
				m.notes = append(m.notes, from+": http: uWSGI's http router process in front of the workers is gopaste's own http server")
			}
		case "chmod-socket":
			m.set(&m.srv, "socket_mode", "0"+strings.TrimLeft(v, "0"), from)
		case "processes", "workers", "p":
			m.set(&m.app, "workers", v, from)
		case "threads":
			m.set(&m.app, "threads", v, from)
		case "harakiri":
			m.set(&m.app, "hard_timeout", v, from)
		case "max-requests":
			m.set(&m.app, "max_requests", v, from)
		case "reload-on-rss", "evil-reload-on-rss":
			m.set(&m.app, "memory_limit", v+"M", from)
		case "chdir":
			m.set(&m.app, "chdir", v, from)
		case "virtualenv", "venv", "home", "pyhome", "H":
			m.set(&m.app, "virtualenv", v, from)
		case "pythonpath", "python-path", "pp":
			prev := ""
			for _, k := range m.app {
				if k.key == "pythonpath" {
					prev = k.value + " "
				}
			}
			m.set(&m.app, "pythonpath", prev+v, from)
		case "env":
			if k, val, ok := strings.Cut(v, "="); ok {
				m.app = append(m.app, kv{"env " + k, val, from})
			} else {
				m.noEquivalent(from, "env = %s: not NAME=VALUE", v)
			}
		case "uid":
			m.set(&m.app, "user", v, from)
		case "gid":
			m.set(&m.app, "group", v, from)
		case "lazy-apps":
			m.notes = append(m.notes, from+": lazy-apps: workers import the app themselves, gopaste's default (preload = true imports once, then forks)")
		case "post-buffering":
			m.set(&m.app, "max_body_spool", v, from)
		case "worker-reload-mercy", "reload-mercy":
			m.set(&m.app, "graceful_timeout", v, from)
		case "static-map":
			if prefix, dir, ok := strings.Cut(v, "="); ok {
				m.statics = append(m.statics, [2]string{prefix, dir})
			} else {
				m.noEquivalent(from, "static-map = %s: not /PREFIX=DIR", v)
			}
		case "touch-reload":
			m.set(&m.srv, "reload_file", v, from)
		case "logto", "daemonize", "logto2":
			m.set(&m.srv, "log_file", v, from)
			if o.key == "daemonize" {
				m.noEquivalent(from, "daemonize = %s: gopaste serve stays in the foreground (run it under systemd); its log goes to log_file", v)
			}
		case "master", "vacuum", "die-on-term", "enable-threads", "strict", "need-app", "single-interpreter", "plugins", "plugin", "harakiri-verbose", "thunder-lock", "manage-script-name", "auto-procname", "py-tracebacker", "memory-report":
			m.notes = append(m.notes, from+": "+o.key+": nothing to set ("+uwsgiNothing[o.key]+")")
		default:
			m.noEquivalent(from, "%s = %s%s", o.key, v, uwsgiNearest(o.key))
		}
	}
	switch {
	case module != "":
		if callable != "" && !strings.Contains(module, ":") {
			module += ":" + callable
		}
		m.app = append([]kv{{"module", module, moduleFrom}}, m.app...)
	case wsgiFile != "":
		name := strings.TrimSuffix(filepath.Base(wsgiFile), ".py")
		if callable == "" {
			callable = "application"
		}
		m.app = append([]kv{{"module", name + ":" + callable, moduleFrom}}, m.app...)
		if dir := filepath.Dir(wsgiFile); dir != "." {
			if i := indexKV(m.app, "pythonpath"); i >= 0 {
				m.app[i].value = dir + " " + m.app[i].value
			} else {
				m.set(&m.app, "pythonpath", dir, moduleFrom)
			}
		}
		m.notes = append(m.notes, moduleFrom+": wsgi-file: the file is imported as module "+name+" from its directory")
	case indexKV(m.app, "paste") < 0:
		m.app = append([]kv{{"module", "CHANGE_ME:application", ""}}, m.app...)
		m.none = append(m.none, base+": no module, wsgi-file or paste: set module = package.module:callable")
	}
	if !serverSet {
		m.srv = append(m.srv, kv{"use", "http", ""}, kv{"host", "127.0.0.1", ""}, kv{"port", "8080", ""})
		m.none = append(m.none, base+": no http, http-socket or socket: [server:main] serves http on 127.0.0.1:8080")
	}
	return m, nil
}

var uwsgiNothing = map[string]string{
	"master":             "gopaste itself supervises the workers",
	"vacuum":             "gopaste removes the sockets it made",
	"die-on-term":        "SIGTERM stops gopaste gracefully; SIGHUP reloads",
	"enable-threads":     "Python threads always work in gopaste's workers",
	"strict":             "gopaste rejects unknown keys always",
	"need-app":           "a worker that cannot import the app stops gopaste's start with its traceback",
	"single-interpreter": "each worker runs one interpreter",
	"plugins":            "gopaste needs no plugins",
	"plugin":             "gopaste needs no plugins",
	"harakiri-verbose":   "hard_timeout logs the request and the Python stack",
	"thunder-lock":       "each worker has its own socket",
	"manage-script-name": "SCRIPT_NAME comes from the mount (urlmap) and the uwsgi server",
	"auto-procname":      "workers are named in the log by pid",
	"py-tracebacker":     "hard_timeout (stack_signal) writes every thread's traceback to the log",
	"memory-report":      "the admin listener shows each worker's memory",
}

func uwsgiNearest(key string) string {
	near := map[string]string{
		"listen":              "the kernel's backlog (net.core.somaxconn)",
		"buffer-size":         "max_header_bytes in [server:main] (gopaste's uwsgi server takes 64 KiB headers)",
		"limit-as":            "memory_limit (resident memory)",
		"max-worker-lifetime": "max_requests",
		"cheaper":             "workers (a fixed number)",
		"py-autoreload":       "gopaste serve --reload",
		"pidfile":             "gopaste serve --pidfile PATH",
		"stats":               "the admin key of [server:main] (status page, JSON, /metrics)",
		"mount":               "a urlmap composite mounting wsgi apps",
		"socket-timeout":      "read_timeout and write_timeout in [server:main]",
		"http-timeout":        "read_timeout and write_timeout in [server:main]",
		"offload-threads":     "none needed: gopaste's server sends the replies",
		"log-format":          "the accesslog filter (common, combined, json)",
		"disable-logging":     "none needed: gopaste logs no request unless an accesslog filter is used",
		"route":               "the rewrite and redirect filters",
		"check-static":        "a cascade of a static app and the wsgi app",
	}
	if n, ok := near[key]; ok {
		return "; nearest: " + n
	}
	return ""
}

func indexKV(kvs []kv, key string) int {
	for i, k := range kvs {
		if k.key == key {
			return i
		}
	}
	return -1
}

// ---- gunicorn ----

// gunicornSnippet executes a gunicorn config file, as gunicorn does, and
// prints its names as JSON: {"name": {"value": V}} for a value JSON can
// carry, {"repr": R} for another, {"callable": true} for a function
// (gunicorn's server hooks).
const gunicornSnippet = `
import json, sys, types
path = sys.argv[1]
ns = {"__file__": path, "__name__": "__config__"}
with open(path) as f:
    exec(compile(f.read(), path, "exec"), ns)
out = []
for k, v in ns.items():
    if k.startswith("_") or isinstance(v, types.ModuleType):
        continue
    if callable(v):
        out.append([k, {"callable": True}])
        continue
    try:
        json.dumps(v)
        out.append([k, {"value": v}])
    except (TypeError, ValueError):
        out.append([k, {"repr": repr(v)}])
json.dump(out, sys.stdout)
`

type pyValue struct {
	Value    any    `json:"value"`
	Repr     string `json:"repr"`
	Callable bool   `json:"callable"`
}

func findPython(python string) (string, error) {
	if python != "" {
		return python, nil
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3", nil
	}
	return exec.LookPath("python3")
}

// gunicornHooks are gunicorn's server hooks: Python functions it calls.
var gunicornHooks = map[string]bool{"on_starting": true, "on_reload": true, "when_ready": true, "pre_fork": true, "post_fork": true,
	"post_worker_init": true, "worker_int": true, "worker_abort": true, "pre_exec": true, "pre_request": true, "post_request": true,
	"child_exit": true, "worker_exit": true, "nworkers_changed": true, "on_exit": true, "ssl_context": true}

// assignRe, quotedRe and literalWords are compiled on first use, not at
// start: every gopaste process links this package, most never imports a
// config.
var assignRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=`)
})

func importGunicorn(ctx context.Context, path, app, python string) (*imported, error) {
	py, err := findPython(python)
	if err != nil {
		return nil, fmt.Errorf("a gunicorn config is Python, run to read it: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", gunicornSnippet, path)
	cmd.Dir = filepath.Dir(path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running %s with %s: %v\n%s", path, py, err, strings.TrimSpace(stderr.String()))
	}
	var pairs [][2]json.RawMessage
	if err := json.Unmarshal(out, &pairs); err != nil {
		return nil, fmt.Errorf("reading %s's settings: %v", path, err)
	}
	// Where each name is assigned, for the comments.
	lines := map[string]int{}
	literal := map[string]bool{}
	if src, err := os.ReadFile(path); err == nil {
		for i, l := range strings.Split(string(src), "\n") {
			if m := assignRe().FindStringSubmatch(l); m != nil {
				if _, seen := lines[m[1]]; !seen {
					lines[m[1]] = i + 1
				}
				rhs := strings.TrimSpace(l[len(m[0]):])
				literal[m[1]] = isLiteral(rhs)
			} else if strings.HasPrefix(l, "def ") {
				name := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(l, "def "), "(", 2)[0])
				lines[name] = i + 1
			}
		}
	}
	base := filepath.Base(path)
	m := &imported{source: "gunicorn", file: base}
	var appFrom string
	for _, p := range pairs {
		var name string
		var v pyValue
		json.Unmarshal(p[0], &name)
		json.Unmarshal(p[1], &v)
		from := base
		if n, ok := lines[name]; ok {
			from = fmt.Sprintf("%s:%d", base, n)
		}
		if v.Callable {
			if gunicornHooks[name] {
				m.noEquivalent(from, "%s: a gunicorn server hook (Python code around gunicorn's own workers)", name)
			}
			continue
		}
		if v.Repr != "" {
			if gunicornKnown(name) {
				m.noEquivalent(from, "%s = %s: not a plain value", name, v.Repr)
			}
			continue
		}
		val := pyString(v.Value)
		if gunicornKnown(name) && !literal[name] && lines[name] > 0 {
			m.notes = append(m.notes, fmt.Sprintf("%s: %s: computed by the file; %s here", from, name, val))
		}
		if name == "wsgi_app" {
			app, appFrom = val, from
			continue
		}
		gunicornSetting(m, name, v.Value, val, from)
	}
	switch {
	case app != "":
		if strings.Contains(app, "(") {
			m.notes = append(m.notes, appFrom+": a factory call: module = pkg.mod:name() calls it without arguments")
		}
		m.app = append([]kv{{"module", app, appFrom}}, m.app...)
	case indexKV(m.app, "paste") < 0:
		m.app = append([]kv{{"module", "CHANGE_ME:application", ""}}, m.app...)
		m.none = append(m.none, base+": gunicorn takes the app on its command line: set module = package.module:callable (or give it: gopaste import "+base+" APP)")
	}
	if indexKV(m.srv, "use") < 0 {
		m.srv = append([]kv{{"use", "http", ""}, {"host", "127.0.0.1", ""}, {"port", "8000", ""}}, m.srv...)
		m.notes = append(m.notes, base+": no bind: gunicorn's default, 127.0.0.1:8000")
	}
	return m, nil
}

// isLiteral reports whether a Python right-hand side is a plain literal
// (a number, a string, True/False/None, or a list of such).
func isLiteral(rhs string) bool {
	rhs = strings.TrimSpace(strings.SplitN(rhs, "#", 2)[0])
	if rhs == "" {
		return false
	}
	switch rhs {
	case "True", "False", "None":
		return true
	}
	if _, err := strconv.ParseFloat(rhs, 64); err == nil {
		return true
	}
	if (rhs[0] == '"' || rhs[0] == '\'') && strings.Count(rhs, string(rhs[0])) == 2 && rhs[len(rhs)-1] == rhs[0] {
		return true
	}
	if rhs[0] == '[' || rhs[0] == '(' {
		rest := quotedRe().ReplaceAllString(rhs, "")
		return strings.Trim(rest, "[](), \t0123456789.") == "" || literalWords().MatchString(rest)
	}
	return false
}

var (
	quotedRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`"[^"]*"|'[^']*'`)
	})
	literalWords = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[\[\](),\s0-9.]*((True|False|None)[\[\](),\s0-9.]*)*$`)
	})
)

// pyString writes a JSON-decoded Python value as an ini value: lists
// space separated, booleans true/false.
func pyString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, pyString(e))
		}
		return strings.Join(s, " ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var s []string
		for _, k := range keys {
			s = append(s, k+"="+pyString(x[k]))
		}
		return strings.Join(s, " ")
	}
	return fmt.Sprint(v)
}

// gunicornSetting maps one setting of a gunicorn config. The settings
// gunicorn also takes in a PasteDeploy server section mean what they
// mean there (deploy.LookupServerKey); a config file adds the app, the
// access log and the trusted proxies, which become filters here.
func gunicornSetting(m *imported, name string, raw any, val, from string) {
	switch name {
	case "paste":
		m.set(&m.app, "paste", val, from)
		return
	case "bind":
		binds := strings.Fields(val)
		if s, ok := raw.(string); ok {
			binds = []string{s}
		}
		for i, b := range binds {
			if i > 0 {
				m.noEquivalent(from, "bind %s: a second listener; gopaste serves one address per server section", b)
				continue
			}
			sk, _, err := deploy.LookupServerKey("gunicorn", "bind", b)
			if err != nil {
				m.noEquivalent(from, "bind = %s: %v", b, err)
				continue
			}
			m.set(&m.srv, "use", "http", from)
			for _, e := range sk.Server {
				m.set(&m.srv, e.Key, e.Value, from)
			}
		}
		return
	case "accesslog":
		if val == "" {
			return
		}
		file := val
		if file == "-" {
			file = "stdout"
		}
		m.filters = append(m.filters, []kv{{"use", "accesslog", from}, {"format", "combined", from}, {"file", file, from}})
		m.notes = append(m.notes, from+": accesslog: lines in Apache's combined format (gunicorn's default access_log_format is close to it)")
		return
	case "forwarded_allow_ips":
		ips := strings.Join(strings.Split(val, ","), " ")
		if strings.Contains(ips, "*") {
			m.noEquivalent(from, "forwarded_allow_ips = %s: * trusts every client; name the proxies (a proxyfix filter's trusted_proxies)", val)
			return
		}
		// First, so that the access log shows the client's address.
		m.filters = append([][]kv{{{"use", "proxyfix", from}, {"trusted_proxies", ips, from}}}, m.filters...)
		return
	}
	sk, ok, err := deploy.LookupServerKey("gunicorn", name, val)
	switch {
	case !ok:
		return // a helper name of the file, not a setting
	case err != nil:
		m.noEquivalent(from, "%s = %s: %v", name, val, err)
		return
	case sk.Nearest != "":
		if raw == nil || raw == false || raw == "" || raw == "-" {
			return // off, as gunicorn's default
		}
		m.noEquivalent(from, "%s = %s; nearest: %s", name, val, sk.Nearest)
		return
	}
	switch sk.Python {
	case "":
	case "env":
		list, _ := raw.([]any)
		if s, ok := raw.(string); ok {
			list = []any{s}
		}
		for _, e := range list {
			k, v, _ := strings.Cut(pyString(e), "=")
			m.app = append(m.app, kv{"env " + k, v, from})
		}
	case "pythonpath":
		m.set(&m.app, "pythonpath", strings.Join(strings.Split(val, ","), " "), from)
	default:
		m.set(&m.app, sk.Python, val, from)
	}
	for _, e := range sk.Server {
		m.set(&m.srv, e.Key, e.Value, from)
	}
}

// gunicornKnown reports whether name is a gunicorn setting import maps
// or reports.
func gunicornKnown(name string) bool {
	switch name {
	case "wsgi_app", "paste", "bind", "accesslog", "forwarded_allow_ips":
		return true
	}
	_, ok, _ := deploy.LookupServerKey("gunicorn", name, "")
	return ok
}
