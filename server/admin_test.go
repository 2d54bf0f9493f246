package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/admin"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// TestAdminListener: a server section with admin = unix:PATH opens the
// admin listener beside its own; the requests it serves are counted,
// /healthz says it serves, and a part of the same serve that registers
// workers shows them.
func TestAdminListener(t *testing.T) {
	dir := t.TempDir()
	pool := new(registry.Pool)
	c, discard := registrytest.Generation(t, pool, registry.ServerKind, "server:main", filepath.Join(dir, "site.ini"),
		map[string]string{"port": "0", "admin": "unix:admin.sock"})
	defer discard()
	srv, err := httpFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	app, discardApp := registrytest.Generation(t, pool, registry.App, "app:api", filepath.Join(dir, "site.ini"), nil)
	defer discardApp()
	admin.Register(app, "", workers{{PID: 4242, State: "ready"}})

	s := srv.(*Server)
	s.Logger = quiet()
	addrc := make(chan string, 1)
	s.Ready = func(a net.Addr) { addrc <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, http.HandlerFunc(hello)) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	for range 3 {
		resp, err := http.Get("http://" + addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	sock := filepath.Join(dir, "admin.sock")
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	fetch := func(path string) (int, string) {
		resp, err := client.Get("http://admin" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := fetch("/healthz"); code != 200 {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := fetch("/readyz"); code != 200 {
		t.Errorf("/readyz %d %q", code, body)
	}
	_, body := fetch("/status.json")
	var snap admin.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Mounts) != 1 || snap.Mounts[0].Name != "/" || snap.Mounts[0].Requests != 3 {
		t.Errorf("mounts %+v, want / with 3 requests", snap.Mounts)
	}
	if len(snap.Workers) != 1 || snap.Workers[0].PID != 4242 || snap.Workers[0].Pool != "api" {
		t.Errorf("workers %+v", snap.Workers)
	}
	if _, body := fetch("/metrics"); !strings.Contains(body, `gopaste_requests_total{mount="/"} 3`) {
		t.Errorf("/metrics lacks the 3 requests")
	}
	hub := admin.From(c)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if hub.Serving() {
		t.Error("the hub still says serving after shutdown")
	}
	if _, err := client.Get("http://admin/healthz"); err == nil {
		t.Error("the admin listener is still open after Run returned")
	}
}

type workers []admin.Worker

func (w workers) Workers() []admin.Worker { return w }

func TestAdminKey(t *testing.T) {
	for _, tc := range []struct {
		value, host, socket string
		port                int
		err                 string
	}{
		{value: "127.0.0.1:9191", host: "127.0.0.1", port: 9191},
		{value: ":9191", host: "127.0.0.1", port: 9191},
		{value: "[::1]:0", host: "::1"},
		{value: "unix:/run/gopaste/admin.sock", socket: "/run/gopaste/admin.sock"},
		{value: "unix:admin.sock", socket: "/srv/site/admin.sock"},
		{value: "9191", err: `key "admin": "9191" is not HOST:PORT`},
		{value: "localhost:http", err: `is not HOST:PORT`},
		{value: "unix:", err: "unix: needs a socket path"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c := registrytest.Config(registry.ServerKind, "server:main", "/srv/site/site.ini", map[string]string{"admin": tc.value})
			o := ReadOptions(c, "http", 8080)
			err := c.Err()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := o.Admin.Listen
			if l.Host != tc.host || l.Port != tc.port || l.Socket != tc.socket || o.Admin.Hub == nil {
				t.Errorf("listen %+v", l)
			}
			if !strings.Contains(l.Origin, `[server:main]: key "admin"`) {
				t.Errorf("origin %q", l.Origin)
			}
		})
	}
	c := registrytest.Config(registry.ServerKind, "server:main", "/srv/site/site.ini", nil)
	if o := ReadOptions(c, "http", 8080); o.Admin != nil {
		t.Error("no admin key, yet an admin listener")
	}
}

// TestAdminAddressTaken: an admin address held by another process does
// not stop the server; the listener opens once the address is free, as
// after a binary upgrade's old process exited.
func TestAdminAddressTaken(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := held.Addr().(*net.TCPAddr)
	var logs logbuf.Buffer
	o := Options{Protocol: "http", Admin: &AdminOptions{Hub: admin.NewHub(),
		Listen: ListenConfig{Host: "127.0.0.1", Port: adminAddr.Port}}}
	s := &Server{Options: o, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addrc := make(chan string, 1)
	s.Ready = func(a net.Addr) { addrc <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, http.HandlerFunc(hello)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := <-addrc
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("the server does not serve while its admin address is taken: %v", err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "admin listener not opened") {
		t.Errorf("no error logged:\n%s", logs.String())
	}
	held.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + adminAddr.String() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("/healthz %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admin listener did not open once the address was free:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
