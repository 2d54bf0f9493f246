package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/middleware/proxyfix"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
)

// The server sections of existing PasteDeploy files: use =
// egg:waitress#main and use = egg:gunicorn#main take those servers' keys.
// The server package registers both names (the http server); deploy
// translates their keys, because they go to four places: gopaste's
// server keys (listen, bind, host, port, timeouts), the Python sections'
// wsgi apps (threads, workers, timeout, max_requests, ...), the log
// (gunicorn's loglevel, errorlog) and the handler around the app
// (waitress's url_scheme, url_prefix, trusted_proxy; gunicorn's
// forwarded_allow_ips). A key gopaste cannot honour is an error naming
// the nearest equivalent; any other key is passed to the http server
// as gopaste's own (max_concurrency, admin, ...).

// dialectKey says what one key of a waitress or gunicorn section does.
type dialectKey struct {
	server  func(v string) ([]registry.Entry, error) // gopaste server keys it sets
	python  string                                   // the wsgi key it sets on Python sections
	handler bool                                     // applied around the app (serverWrap)
	no      string                                   // cannot be honoured: the nearest equivalent
}

type dialect struct {
	name string
	keys map[string]dialectKey
	// address reports whether the section sets the address; when it
	// does not, def is used, as the Python server's default.
	address []string
	def     []registry.Entry
}

func rename(to string) func(string) ([]registry.Entry, error) {
	return func(v string) ([]registry.Entry, error) { return []registry.Entry{{Key: to, Value: v}}, nil }
}

const tuning = "none: it tunes the Python server's own buffers and loop, which gopaste's Go server does without; remove the key"

var waitress = &dialect{
	name:    "waitress",
	address: []string{"listen", "host", "port", "unix_socket"},
	def:     []registry.Entry{{Key: "host", Value: "0.0.0.0"}, {Key: "port", Value: "8080"}},
	keys: map[string]dialectKey{
		"host":                          {server: rename("host")},
		"port":                          {server: rename("port")},
		"listen":                        {server: listenKey("listen")},
		"unix_socket":                   {server: rename("socket")},
		"unix_socket_perms":             {server: rename("socket_mode")},
		"channel_timeout":               {server: rename("idle_timeout")},
		"max_request_header_size":       {server: rename("max_header_bytes")},
		"threads":                       {python: "threads"},
		"url_scheme":                    {handler: true},
		"url_prefix":                    {handler: true},
		"trusted_proxy":                 {handler: true},
		"trusted_proxy_count":           {handler: true},
		"trusted_proxy_headers":         {handler: true},
		"clear_untrusted_proxy_headers": {handler: true},
		"log_untrusted_proxy_headers":   {no: "log_level = debug"},
		"connection_limit":              {no: "max_concurrency (requests served at once; further ones queue)"},
		"max_request_body_size":         {no: "the limit filter's max_body_bytes"},
		"expose_tracebacks":             {no: "the errors filter with debug = true"},
		"ident":                         {no: "the headers filter (Server = NAME)"},
		"backlog":                       {no: "none: Go listens with the kernel's backlog (net.core.somaxconn)"},
		"log_socket_errors":             {no: "log_level"},
		"ipv4":                          {no: "host (an IPv4 or IPv6 address)"},
		"ipv6":                          {no: "host (an IPv4 or IPv6 address)"},
		"sockets":                       {no: "host and port, or unix_socket"},
		"asyncore_loop_timeout":         {no: tuning},
		"asyncore_use_poll":             {no: tuning},
		"recv_bytes":                    {no: tuning},
		"send_bytes":                    {no: tuning},
		"outbuf_overflow":               {no: tuning},
		"outbuf_high_watermark":         {no: tuning},
		"inbuf_overflow":                {no: tuning},
		"cleanup_interval":              {no: tuning},
	},
}

var gunicorn = &dialect{
	name:    "gunicorn",
	address: []string{"bind", "host", "port"},
	def:     []registry.Entry{{Key: "host", Value: "127.0.0.1"}, {Key: "port", Value: "8000"}},
	keys: map[string]dialectKey{
		"bind":                     {server: listenKey("bind")},
		"host":                     {server: rename("host")},
		"port":                     {server: rename("port")},
		"graceful_timeout":         {server: rename("graceful_timeout"), python: "graceful_timeout"},
		"keepalive":                {server: rename("idle_timeout")},
		"certfile":                 {server: rename("cert_file")},
		"keyfile":                  {server: rename("key_file")},
		"loglevel":                 {server: logLevelKey},
		"errorlog":                 {server: errorLogKey},
		"workers":                  {python: "workers"},
		"threads":                  {python: "threads"},
		"timeout":                  {python: "hard_timeout"}, // gunicorn kills a silent worker
		"max_requests":             {python: "max_requests"},
		"max_requests_jitter":      {python: "max_requests_jitter"},
		"preload_app":              {python: "preload"},
		"pythonpath":               {python: "pythonpath"},
		"chdir":                    {python: "chdir"},
		"worker_class":             {server: workerClass},
		"forwarded_allow_ips":      {handler: true},
		"secure_scheme_headers":    {no: "forwarded_allow_ips (X-Forwarded-Proto and Forwarded from those proxies set the scheme)"},
		"proxy_allow_ips":          {no: "none: gopaste does not speak the PROXY protocol; forwarded_allow_ips believes X-Forwarded-For"},
		"proxy_protocol":           {no: "none: gopaste does not speak the PROXY protocol; forwarded_allow_ips believes X-Forwarded-For"},
		"limit_request_line":       {no: "max_header_bytes (the whole request head)"},
		"limit_request_fields":     {no: "max_header_bytes (the whole request head)"},
		"limit_request_field_size": {no: "max_header_bytes (the whole request head)"},
		"worker_connections":       {no: "max_concurrency"},
		"backlog":                  {no: "none: Go listens with the kernel's backlog (net.core.somaxconn)"},
		"accesslog":                {no: "the accesslog filter (egg:Paste#translogger) around the app"},
		"access_log_format":        {no: "the accesslog filter's format (common, combined, json)"},
		"capture_output":           {no: "none needed: the workers' output goes to gopaste's log"},
		"daemon":                   {no: "none: gopaste serve stays in the foreground; run it under systemd"},
		"pidfile":                  {no: "gopaste serve --pidfile PATH"},
		"reload":                   {no: "gopaste serve --reload"},
		"user":                     {python: "user"},
		"group":                    {python: "group"},
		"umask":                    {no: "socket_mode for a unix socket"},
		"proc_name":                {no: "none"},
		"raw_env":                  {python: "env"}, // NAME=VALUE ...: an env NAME key each
		"worker_tmp_dir":           {no: "none needed: gopaste watches its workers itself"},
		"spew":                     {no: "none"},
		"check_config":             {no: "gopaste check CONFIG"},
		"print_config":             {no: "gopaste check CONFIG"},
		"statsd_host":              {no: "the admin key (Prometheus /metrics)"},
		"statsd_prefix":            {no: "the admin key (Prometheus /metrics)"},
		"sendfile":                 {no: "none needed: wsgi.file_wrapper uses os.sendfile"},
		"reuse_port":               {no: "none: each server section has its own listener"},
		"tmp_upload_dir":           {no: "max_body_spool of the wsgi app"},
		"logconfig":                {no: "Python's logging sections in this file ([loggers], ...), or logging_config of a wsgi app"},
		"logconfig_dict":           {no: "Python's logging sections in this file ([loggers], ...), or logging_config of a wsgi app"},
		"syslog":                   {no: "log_file, or gopaste's standard error to journald"},
		"reload_engine":            {no: "gopaste serve --reload"},
		"reload_extra_files":       {no: "gopaste serve --reload (it watches the app's .py files)"},
		"initgroups":               {no: "none"},
		"ssl_version":              {no: "none: gopaste negotiates TLS 1.2 and 1.3"},
		"ciphers":                  {no: "none: Go's TLS cipher suites"},
		"ca_certs":                 {no: "none"},
		"cert_reqs":                {no: "none"},
		"do_handshake_on_connect":  {no: "none"},
		"suppress_ragged_eofs":     {no: "none"},
		"strip_header_spaces":      {no: "none: gopaste rejects malformed headers"},
	},
}

var dialects = map[string]*dialect{"waitress": waitress, "gunicorn": gunicorn}

// listenKey reads waitress's listen or gunicorn's bind: one address,
// HOST:PORT, [V6]:PORT, *:PORT, :PORT, or (bind) unix:PATH.
func listenKey(key string) func(string) ([]registry.Entry, error) {
	return func(v string) ([]registry.Entry, error) {
		addrs := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
		if len(addrs) != 1 {
			return nil, fmt.Errorf("%d addresses; gopaste listens on one address per server (host = :: takes IPv6 and IPv4)", len(addrs))
		}
		a := addrs[0]
		if p, ok := strings.CutPrefix(a, "unix:"); ok && key == "bind" {
			return []registry.Entry{{Key: "socket", Value: p}}, nil
		}
		if strings.HasPrefix(a, "fd://") {
			return nil, fmt.Errorf("%q: gopaste opens its own socket (host and port, or socket)", a)
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			if key == "bind" && !strings.Contains(a, ":") {
				host, port = a, "8000"
			} else {
				return nil, fmt.Errorf("%q is not HOST:PORT", a)
			}
		}
		if host == "*" || host == "" {
			host = "0.0.0.0"
		}
		if _, err := strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("%q: port %q is not a number", a, port)
		}
		return []registry.Entry{{Key: "host", Value: host}, {Key: "port", Value: port}}, nil
	}
}

func logLevelKey(v string) ([]registry.Entry, error) {
	m := map[string]string{"debug": "debug", "info": "info", "warning": "warn", "warn": "warn", "error": "error", "critical": "error"}
	l, ok := m[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return nil, fmt.Errorf("%q is not one of debug, info, warning, error, critical", v)
	}
	return []registry.Entry{{Key: "log_level", Value: l}}, nil
}

func errorLogKey(v string) ([]registry.Entry, error) {
	if v = strings.TrimSpace(v); v == "-" || v == "" {
		return nil, nil // standard error, gopaste's default
	}
	return []registry.Entry{{Key: "log_file", Value: v}}, nil
}

func workerClass(v string) ([]registry.Entry, error) {
	switch strings.TrimSpace(v) {
	case "sync", "gthread", "gunicorn.workers.sync.SyncWorker", "gunicorn.workers.gthread.ThreadWorker":
		return nil, nil // threads says how many threads a worker runs
	}
	return nil, fmt.Errorf("gopaste cannot honour worker_class %q: its Python workers are threaded; the nearest is threads (sync is threads = 1)", v)
}

// serverLocal translates the local keys of server node n when its part
// is waitress or gunicorn; ok is false for other servers.
func (l *loader) serverLocal(n *Node) (local []registry.Entry, ok bool) {
	d := dialects[n.Part]
	if d == nil {
		return nil, false
	}
	addressSet := false
	for _, e := range n.Local {
		if strings.HasPrefix(e.Origin, "--") {
			local = setEntry(local, e) // gopaste serve --host, --port
			continue
		}
		if slices.Contains(d.address, e.Key) || e.Key == "socket" {
			addressSet = true
		}
		k, known := d.keys[e.Key]
		switch {
		case !known:
			local = append(local, e) // gopaste's own key (or an unknown one the server reports)
		case k.no != "":
			l.errorf(e.Origin, n.Section, "key %q: gopaste cannot honour %s's %s; the nearest equivalent is %s", e.Key, d.name, e.Key, k.no)
		case k.server != nil:
			es, err := k.server(e.Value)
			if err != nil {
				l.errorf(e.Origin, n.Section, "key %q: %v", e.Key, err)
				continue
			}
			for _, x := range es {
				x.Origin = e.Origin
				local = setEntry(local, x)
			}
		}
	}
	set := func(k string) bool {
		i := indexOf(n.Local, k)
		return i >= 0 && !strings.HasPrefix(n.Local[i].Origin, "--")
	}
	if d.name == "waitress" && set("listen") && (set("host") || set("port")) {
		// As waitress: listen replaces host and port.
		l.errorf(n.Local[indexOf(n.Local, "listen")].Origin, n.Section, "key \"listen\": host or port may not be set with listen, as in waitress")
	}
	if !addressSet {
		for _, x := range d.def {
			if indexOf(local, x.Key) < 0 { // not given by --host, --port
				x.Origin = d.name + "'s default"
				local = append(local, x)
			}
		}
	}
	return local, true
}

// serverWrap builds the handler keys of a waitress or gunicorn server
// node: what deploy applies around the app. It returns nil when there
// is nothing to apply.
func (l *loader) serverWrap(n *Node) func(http.Handler) http.Handler {
	d := dialects[n.Part]
	if d == nil {
		return nil
	}
	get := func(k string) (registry.Entry, bool) {
		if i := indexOf(n.Local, k); i >= 0 {
			return n.Local[i], true
		}
		return registry.Entry{}, false
	}
	bad := func(e registry.Entry, format string, args ...any) {
		l.errorf(e.Origin, n.Section, "key %q: %s", e.Key, fmt.Sprintf(format, args...))
	}
	var wraps []func(http.Handler) http.Handler
	var trusted []netip.Prefix
	trust := func(e registry.Entry) {
		for _, s := range strings.FieldsFunc(e.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			if s == "*" {
				bad(e, "* trusts every client to say who it is; name the proxies' addresses (the proxyfix filter's trusted_proxies is the same)")
				return
			}
			if s == "localhost" {
				trusted = append(trusted, netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"))
				continue
			}
			p, err := proxyfix.ParsePrefix(s)
			if err != nil {
				bad(e, "%q is not an address or CIDR network", s)
				return
			}
			trusted = append(trusted, p)
		}
	}
	if e, ok := get("trusted_proxy"); ok {
		trust(e)
	}
	if e, ok := get("forwarded_allow_ips"); ok {
		trust(e)
	}
	if e, ok := get("trusted_proxy_count"); ok && strings.TrimSpace(e.Value) != "1" {
		bad(e, "gopaste cannot honour a count other than 1; the nearest equivalent is to list every proxy in trusted_proxy (the proxyfix filter skips all trusted hops)")
	}
	if e, ok := get("trusted_proxy_headers"); ok {
		for _, h := range strings.FieldsFunc(strings.ToLower(e.Value), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			switch h {
			case "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded":
			default:
				bad(e, "gopaste cannot honour %s; the nearest equivalent is the proxyfix filter, which believes Forwarded and X-Forwarded-For/-Host/-Proto", h)
			}
		}
	}
	if e, ok := get("clear_untrusted_proxy_headers"); ok {
		if _, err := registry.ParseBool(e.Value); err != nil {
			bad(e, "%v", err)
		}
	}
	if len(trusted) > 0 {
		f, err := proxyfix.New(proxyfix.Options{TrustedProxies: trusted})
		if err == nil {
			wraps = append(wraps, f)
		}
	}
	if e, ok := get("url_scheme"); ok {
		switch strings.TrimSpace(e.Value) {
		case "http":
		case "https":
			wraps = append(wraps, httpsScheme)
		default:
			bad(e, "%q is not http or https", e.Value)
		}
	}
	if e, ok := get("url_prefix"); ok {
		p := "/" + strings.Trim(strings.TrimSpace(e.Value), "/")
		if p != "/" {
			wraps = append(wraps, urlPrefix(p))
		}
	}
	if len(wraps) == 0 {
		return nil
	}
	return func(h http.Handler) http.Handler {
		inner := h
		for i := len(wraps) - 1; i >= 0; i-- {
			h = wraps[i](h)
		}
		return &serverWrapped{Handler: h, inner: inner}
	}
}

// httpsScheme is waitress's url_scheme = https: every request is taken
// as made over HTTPS (HTTPS=on, wsgi.url_scheme https).
func httpsScheme(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			r2 := *r
			r2.TLS = &tls.ConnectionState{}
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// urlPrefix is waitress's url_prefix: a request under prefix reaches the
// app with prefix moved to SCRIPT_NAME.
func urlPrefix(prefix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == prefix || strings.HasPrefix(r.URL.Path, prefix+"/") {
				r = mount.Shift(r, prefix)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// serverWrapped keeps the app's ConnContext through the server's
// handler keys.
type serverWrapped struct {
	http.Handler
	inner http.Handler
}

func (s *serverWrapped) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := s.inner.(interface {
		ConnContext(context.Context, net.Conn) context.Context
	}); ok {
		return cc.ConnContext(ctx, c)
	}
	return ctx
}

// pyServerNode is the waitress or gunicorn server section whose Python
// keys apply to the Python sections: the one Load serves (main for
// Check), resolved once without recording its errors (its own build
// records them).
func (l *loader) pyServerNode() *Node {
	if l.pySrvDone || l.top == nil {
		return l.pySrv
	}
	l.pySrvDone = true
	name := l.srvName
	if name == "" {
		name = "main"
	}
	saved := append([]error(nil), l.errs...)
	n, _ := l.get(typeServer, name, l.top, globalEntries(l.opts.Global), keyRef{})
	l.errs = saved
	if n != nil && dialects[n.Part] != nil {
		l.pySrv = n
	}
	return l.pySrv
}

// pythonServerKeys are the wsgi keys the server section gives the Python
// sections.
func (l *loader) pythonServerKeys() []registry.Entry {
	n := l.pyServerNode()
	if n == nil {
		return nil
	}
	d := dialects[n.Part]
	var es []registry.Entry
	for _, e := range n.Local {
		k, ok := d.keys[e.Key]
		if !ok || k.python == "" {
			continue
		}
		origin := fmt.Sprintf("%s ([%s] %s)", e.Origin, n.Section, e.Key)
		if k.python == "env" {
			for _, v := range strings.Fields(e.Value) {
				name, val, _ := strings.Cut(v, "=")
				es = setEntry(es, registry.Entry{Key: "env " + name, Value: val, Origin: origin})
			}
			continue
		}
		es = setEntry(es, registry.Entry{Key: k.python, Value: e.Value, Origin: origin})
	}
	return es
}

// warnPythonKeysUnused warns when the served server section sets keys
// for Python and no section of the file runs in Python.
func (l *loader) warnPythonKeysUnused() {
	n := l.pyServerNode()
	if n == nil || l.pyBuilt {
		return
	}
	d := dialects[n.Part]
	for _, e := range n.Local {
		if k, ok := d.keys[e.Key]; ok && k.python != "" {
			l.warn(Warning{Origin: e.Origin, Section: n.Section, Key: e.Key,
				Msg: fmt.Sprintf("sets %s for the sections Python serves, and no section of this file runs in Python (Go parts need no worker pool; max_concurrency bounds requests served at once)", k.python)})
		}
	}
}

// askDialect makes the keys of server part's dialect known to c, so
// that an unknown key's did-you-mean names them too.
func askDialect(c *registry.Config, part string) {
	d := dialects[part]
	keys := make([]string, 0, len(d.keys))
	for k := range d.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.Has(k)
	}
}

// ServerKey is what one key of a waitress or gunicorn server section
// becomes in gopaste. gopaste import maps gunicorn's settings with it,
// so that a setting means the same in a PasteDeploy file and in a
// gunicorn.conf.py.
type ServerKey struct {
	Server  []registry.Entry // the gopaste server keys it sets
	Python  string           // the wsgi key it sets on the Python apps ("env": an env NAME key per NAME=VALUE)
	Handler bool             // applied around the app (proxies, scheme, prefix)
	Nearest string           // set when gopaste cannot honour it: the nearest equivalent
}

// LookupServerKey says what key = value of a server section using
// server ("waitress" or "gunicorn") becomes; ok is false for a key that
// server does not have. err is a value gopaste cannot take.
func LookupServerKey(server, key, value string) (sk ServerKey, ok bool, err error) {
	d := dialects[server]
	if d == nil {
		return sk, false, nil
	}
	k, ok := d.keys[key]
	if !ok {
		return sk, false, nil
	}
	sk = ServerKey{Python: k.python, Handler: k.handler, Nearest: k.no}
	if k.server != nil {
		sk.Server, err = k.server(value)
	}
	return sk, true, err
}
