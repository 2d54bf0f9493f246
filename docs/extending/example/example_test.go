package example

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/gopastetest"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
	"github.com/gopaste/gopaste/server"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/storetest"
)

const config = "testdata/example.ini"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestReloadKeepsState builds the config twice with one pool, as "gopaste
// serve" does on a reload, and swaps the handler the way it does: the
// count filter's counter and the shelf's sessions carry over.
func TestReloadKeepsState(t *testing.T) {
	pool := new(registry.Pool)
	opts := deploy.Options{Pool: pool, Logger: quiet}
	old, err := deploy.Load(config, "main", "main", opts)
	if err != nil {
		t.Fatal(err)
	}
	swap := server.NewSwap(old.Handler)
	app := gopastetest.New(t, swap)
	app.Lint = true
	res := app.Get("/ann").MustStatus(200).MustContain("Hello, ann! visit 1\n")
	if got := res.Header.Get("X-Request-Number"); got != "1" {
		t.Errorf("X-Request-Number = %q, want 1", got)
	}
	app.Get("/ann").MustContain("visit 2")

	next, err := deploy.Load(config, "main", "main", opts)
	if err != nil {
		t.Fatal(err)
	}
	<-swap.Store(next.Handler) // the old generation is idle
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	res = app.Get("/ann").MustStatus(200).MustContain("Hello, ann! visit 3\n")
	if got := res.Header.Get("X-Request-Number"); got != "3" {
		t.Errorf("after the reload X-Request-Number = %q, want 3", got)
	}
	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	if n := pool.Len(); n != 0 {
		t.Errorf("the pool keeps %d values after the last generation closed", n)
	}
}

// serve runs gen's server until the test ends and returns its address.
func serve(t *testing.T, gen *deploy.Generation) string {
	t.Helper()
	srv, ok := gen.Server.(*server.Server)
	if !ok {
		t.Fatalf("server is a %T", gen.Server)
	}
	addrc := make(chan net.Addr, 1)
	srv.Ready = func(a net.Addr) { addrc <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, gen.Handler) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		gen.Close()
	})
	select {
	case a := <-addrc:
		return a.String()
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

// send writes req to addr and returns everything the server sent back
// before it closed the connection.
func send(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer collects log output written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLineServer(t *testing.T) {
	var logs syncBuffer
	gen, err := deploy.Load(config, "main", "main", deploy.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, gen)
	if got, want := send(t, addr, "/bob\n"), "200 Hello, bob! visit 1\n"; got != want {
		t.Errorf("line reply %q, want %q", got, want)
	}
	// An HTTP client on the line port gets no reply, and the log says
	// what it was.
	if got := send(t, addr, "GET / HTTP/1.0\r\n\r\n"); got != "" {
		t.Errorf("reply to HTTP %q, want none", got)
	}
	if want := "received an HTTP request on a line socket"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}

// TestAutoServesBoth: a registered protocol with a Sniff joins "protocol
// = auto", next to HTTP on the same port.
func TestAutoServesBoth(t *testing.T) {
	gen, err := deploy.Load(config, "main", "auto", deploy.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, gen)
	if got, want := send(t, addr, "/cy\n"), "200 Hello, cy! visit 1\n"; got != want {
		t.Errorf("line reply %q, want %q", got, want)
	}
	res, err := http.Get("http://" + addr + "/dee")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "Hello, dee! visit 1\n" || res.Header.Get("X-Request-Number") != "2" {
		t.Errorf("HTTP reply %d %q, X-Request-Number %q", res.StatusCode, body, res.Header.Get("X-Request-Number"))
	}
}

// isolated returns a registry of its own holding the example's parts and
// the built-in session filter, as a test that must not touch
// registry.Default builds one.
func isolated(t *testing.T) *registry.Registry {
	r := registry.New()
	for _, err := range []error{
		r.AddApp("hello", helloFactory, "greets"),
		r.AddFilter("count", countFactory, "numbers requests"),
		r.AddServer("line", lineServerFactory, "line server"),
		r.AddProtocol("line", lineProtocol, "line protocol"),
		session.AddStore(r, "shelf", shelfFactory, "sessions in a map"),
		r.Add(*mustLookup(t, registry.Filter, "session")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestIsolatedRegistry(t *testing.T) {
	r := isolated(t)
	gen, err := deploy.Load(config, "main", "main", deploy.Options{Registry: r, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, gen)
	if got, want := send(t, addr, "/eve\n"), "200 Hello, eve! visit 1\n"; got != want {
		t.Errorf("line reply %q, want %q", got, want)
	}
	// A registry without the store: the session filter says so.
	bare := registry.New()
	bare.AddApp("hello", helloFactory, "greets")
	bare.AddFilter("count", countFactory, "numbers requests")
	bare.AddServer("line", lineServerFactory, "line server")
	bare.AddProtocol("line", lineProtocol, "line protocol")
	bare.Add(*mustLookup(t, registry.Filter, "session"))
	_, err = deploy.Load(config, "main", "main", deploy.Options{Registry: bare, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), `unknown store "shelf"`) {
		t.Errorf("err = %v, want one naming the unknown store", err)
	}
}

func mustLookup(t *testing.T, k registry.Kind, name string) *registry.Part {
	t.Helper()
	p, ok := registry.Default.Lookup(k, name)
	if !ok {
		t.Fatalf("no %s %q in registry.Default", k, name)
	}
	return p
}

// TestShelfConformance runs the suite every session store passes. Two
// stores built for one test in one pool are one store (registry.Shared),
// as two handles on a shared store must be.
func TestShelfConformance(t *testing.T) {
	var mu sync.Mutex
	pools := map[string]*registry.Pool{}
	storetest.Run(t, func(t *testing.T) session.Store {
		mu.Lock()
		pool := pools[t.Name()]
		if pool == nil {
			pool = new(registry.Pool)
			pools[t.Name()] = pool
		}
		mu.Unlock()
		c, discard := registrytest.Generation(t, pool, registry.Filter, "filter:session", "site.ini", nil)
		t.Cleanup(discard)
		s, err := shelfFactory(c, session.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestShelfFull(t *testing.T) {
	ctx := context.Background()
	s := &Shelf{limit: 1, m: make(map[string]shelfEntry)}
	if err := s.Commit(ctx, "a", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	// "a" has expired: it makes room.
	if err := s.Commit(ctx, "b", []byte("y"), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Commit over an expired entry: %v", err)
	}
	if err := s.Commit(ctx, "c", []byte("z"), time.Now().Add(time.Hour)); !errors.Is(err, ErrShelfFull) {
		t.Errorf("Commit on a full shelf: %v, want ErrShelfFull", err)
	}
	if err := s.Commit(ctx, "b", []byte("w"), time.Now().Add(time.Hour)); err != nil {
		t.Errorf("replacing an entry on a full shelf: %v", err)
	}
}

// TestBadKeys: each factory names the key it refuses.
func TestBadKeys(t *testing.T) {
	for _, tc := range []struct {
		kind  registry.Kind
		keys  map[string]string
		build func(c *registry.Config) error
		want  string
	}{
		{registry.App, map[string]string{"greeting": " "},
			func(c *registry.Config) error { _, err := helloFactory(c); return err }, `key "greeting": must not be empty`},
		{registry.Filter, map[string]string{"header": ""},
			func(c *registry.Config) error { _, err := countFactory(c); return err }, `key "header": must not be empty`},
		{registry.Filter, map[string]string{"shelf_limit": "0"},
			func(c *registry.Config) error { _, err := shelfFactory(c, session.StoreOptions{}); return err }, `key "shelf_limit": must be at least 1`},
		{registry.Filter, map[string]string{"shelf_limit": "many"},
			func(c *registry.Config) error { _, err := shelfFactory(c, session.StoreOptions{}); return err }, `"many" is not an integer`},
	} {
		c := registrytest.Config(tc.kind, "x:y", "t.ini", tc.keys)
		if err := tc.build(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %s", tc.keys, err, tc.want)
		}
	}
}

// TestRegistered: init put every part in registry.Default, where a binary
// importing this package finds them.
func TestRegistered(t *testing.T) {
	for _, p := range []struct {
		kind registry.Kind
		name string
	}{{registry.App, "hello"}, {registry.Filter, "count"}, {registry.ServerKind, "line"}, {registry.ProtocolKind, "line"}, {registry.StoreKind, "shelf"}} {
		mustLookup(t, p.kind, p.name)
	}
	if got := registry.Detect([]byte("/x")); got != "line" {
		t.Errorf("Detect(/x) = %q, want line", got)
	}
}
