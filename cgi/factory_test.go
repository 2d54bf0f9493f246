package cgi

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

func config(kind registry.Kind, section string, kv ...string) *registry.Config {
	var local []registry.Entry
	for i := 0; i+1 < len(kv); i += 2 {
		local = append(local, registry.Entry{Key: kv[i], Value: kv[i+1], Origin: "t.ini:2"})
	}
	return registry.NewConfig(kind, section, "t.ini:1", "/tmp/t.ini", nil, local, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestAppFactory(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	os.WriteFile(script, []byte("echo 'Content-Type: text/plain'; echo; echo factory-ok\n"), 0o644)

	c := config(registry.App, "app:scripts", "script_dir", dir, "interpreter", "/bin/sh",
		"pass_env", "HOME LANG", "timeout", "2.5")
	h, err := appFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Unread(); len(u) > 0 {
		t.Errorf("keys not read: %v", u)
	}
	if len(c.Closers()) != 1 {
		t.Errorf("closers: %d, want the handler", len(c.Closers()))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/s.sh", nil))
	if w.Code != 200 || w.Body.String() != "factory-ok\n" {
		t.Errorf("%d %q", w.Code, w.Body)
	}
	hh := h.(*Handler)
	if hh.opts.Timeout.Seconds() != 2.5 || strings.Join(hh.opts.PassEnv, ",") != "HOME,LANG" {
		t.Errorf("options %+v", hh.opts)
	}
	for _, cl := range c.Closers() {
		cl.Close()
	}

	for _, tc := range []struct {
		name, key string
		kv        []string
	}{
		{"neither", "", nil},
		{"both", "", []string{"script", script, "script_dir", dir}},
		{"bad interpreter", `"interpreter"`, []string{"script", script, "interpreter", "/no/such/sh"}},
		{"not executable", `"script"`, []string{"script", script}},
		{"missing dir", `"script_dir"`, []string{"script_dir", "/no/such/dir"}},
		{"bad timeout", `"timeout"`, []string{"script", script, "interpreter", "/bin/sh", "timeout", "soon"}},
	} {
		_, err := appFactory(config(registry.App, "app:x", tc.kv...))
		if err == nil || !strings.Contains(err.Error(), "[app:x]") || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error %v, want one naming the section and %s", tc.name, err, tc.key)
		}
	}
}

func TestServerFactory(t *testing.T) {
	s, err := serverFactory(config(registry.ServerKind, "server:cgi"))
	if err != nil {
		t.Fatal(err)
	}
	// Outside a CGI environment Run says so instead of serving.
	srv := s.(*Server)
	srv.Env = []string{"HOME=/"}
	if err := srv.Run(context.Background(), nil); err != ErrNotCGI {
		t.Errorf("Run = %v, want ErrNotCGI", err)
	}
}
