package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/uwsgi"
)

// gopasteParts lists every gopaste system of a scenario: A, B, their
// upstreams and the peer.
func gopasteParts(sc Scenario) []System {
	var all, out []System
	all = append(all, sc.systems()...)
	if sc.Peer != nil {
		all = append(all, *sc.Peer)
	}
	for i := 0; i < len(all); i++ {
		if all[i].Upstream != nil {
			all = append(all, *all[i].Upstream)
		}
		if all[i].Gopaste != "" {
			out = append(out, all[i])
		}
	}
	return out
}

// checkGopaste runs deploy.Check, what `gopaste check` runs, on config.
func checkGopaste(t *testing.T, dir, name, config string) error {
	t.Helper()
	file := filepath.Join(dir, name+".ini")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := deploy.Check(file, deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if len(rep.Errs) > 0 {
		return rep.Errs[0]
	}
	return nil
}

func TestProtocolScenariosGopasteCheck(t *testing.T) {
	dir := t.TempDir()
	d := tmplData{Dir: dir, Port: 18099, Backend: "127.0.0.1:18098", Upstream: "127.0.0.1:18097", Bin: dir}
	servers := map[string]bool{}
	for _, sc := range protocolScenarios {
		parts := gopasteParts(sc)
		if len(parts) == 0 {
			t.Errorf("%s: no gopaste system", sc.Name)
		}
		for i, s := range parts {
			config, err := s.gopasteConfig(d)
			if err != nil {
				t.Fatalf("%s: %v", sc.Name, err)
			}
			if err := checkGopaste(t, dir, sc.Name+"-"+string(rune('a'+i)), config); err != nil {
				t.Errorf("%s: %s: gopaste check: %v\n%s", sc.Name, s.Name, err, config)
			}
			servers[s.Server] = true
		}
	}
	for _, want := range []string{"uwsgi", "fastcgi", ""} {
		if !servers[want] {
			t.Errorf("no scenario runs gopaste's %q server", want)
		}
	}
	// The check is not a formality: a proxy without backends fails it.
	bad, _ := gopasteConfig("[app:main]\nuse = scgi_proxy\n", "", d)
	if err := checkGopaste(t, dir, "bad", bad); err == nil {
		t.Error("scgi_proxy without backends passed gopaste check")
	}
}

func TestProtocolScenariosShape(t *testing.T) {
	for _, sc := range protocolScenarios {
		for _, s := range sc.systems() {
			if s.Nginx != nil && strings.Contains(s.Nginx.HTTP+s.Nginx.Server, "{{.Upstream}}") && s.Upstream == nil {
				t.Errorf("%s: %s names {{.Upstream}} and has none", sc.Name, s.Name)
			}
			if s.Upstream != nil && s.Upstream.Upstream != nil {
				t.Errorf("%s: upstreams of upstreams are not meant", sc.Name)
			}
		}
		if sc.Peer != nil && sc.Peer.Command[0] == "uwsgi" {
			argv := strings.Join(sc.Peer.Command, " ")
			for _, want := range []string{"--plugin python3", "--processes 2"} {
				if !strings.Contains(argv, want) {
					t.Errorf("%s: uWSGI argv lacks %s: %s", sc.Name, want, argv)
				}
			}
			if sc.Peer.StopSignal != syscall.SIGINT {
				t.Errorf("%s: uWSGI is stopped by %v; SIGTERM makes it reload", sc.Name, sc.Peer.StopSignal)
			}
		}
	}
}

// TestUWSGIPeerStarts starts the scgi-proxy scenario's uWSGI and stops
// it by pid, as the harness does: it must be gone within the harness's
// grace period (SIGTERM alone makes uWSGI 2.0 reload unless told).
func TestUWSGIPeerStarts(t *testing.T) {
	peer.Require(t, "uwsgi") // apt-get install -y uwsgi-core uwsgi-plugin-python3
	r := &runner{tmp: t.TempDir()}
	s, err := r.startUpstream(*uwsgiPeer("--socket"), "peer", tmplData{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Stop it once it serves, as the harness does after a run: a worker
	// still starting may miss the signal (see uwsgiPeer).
	c := &http.Client{Transport: &uwsgi.Transport{Addr: s.addr()}, Timeout: 10 * time.Second}
	res, err := c.Get("http://peer/")
	if err != nil {
		s.stop()
		t.Fatalf("uWSGI does not answer: %v\n%s", err, s.p.log.tail(3000))
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	start := time.Now()
	s.stop()
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("uWSGI took %v to stop: the stop signal did not end it\n%s", took, s.p.log.tail(3000))
	}
	if !s.p.exited() {
		t.Error("uWSGI still running after stop")
	}
	if got := groupPIDs(s.p.pid()); len(got) > 0 {
		t.Errorf("uWSGI processes left: %v", got)
	}
}

// The floor relays to each backend it stands beside: hellosrv over kept
// HTTP connections, uWSGI over SCGI and uwsgi; in mode file it answers
// with the file.
func TestFloorRelays(t *testing.T) {
	peer.Require(t, "uwsgi") // apt-get install -y uwsgi-core uwsgi-plugin-python3
	dir := t.TempDir()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"floorsrv", "hellosrv"} {
		if err := goBuild(t.Context(), root, filepath.Join(dir, tool), "./bench/"+tool); err != nil {
			t.Fatal(err)
		}
	}
	r := &runner{tmp: dir, bin: dir, hello: filepath.Join(dir, "hellosrv")}
	backends := map[string]System{"http": {Name: "hellosrv", Hello: true}, "scgi": *uwsgiPeer("--scgi-socket"), "uwsgi": *uwsgiPeer("--socket")}
	for mode, backend := range backends {
		t.Run(mode, func(t *testing.T) {
			up, err := r.startUpstream(backend, mode+"-up", tmplData{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer up.stop()
			f, err := r.launch(floor(mode, "-backend", "{{.Backend}}").System, mode, tmplData{Dir: t.TempDir(), Backend: up.addr()}, "/")
			if err != nil {
				t.Fatal(err)
			}
			defer f.stop()
			if err := f.p.waitListen(f.addr(), readyTimeout); err != nil {
				t.Fatal(err)
			}
			for range 3 { // the kept connection is used again
				res, err := http.Get(f.url)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || string(b) != "Hello, World!\n" {
					t.Fatalf("%d %q\n%s", res.StatusCode, b, f.p.log.tail(2000))
				}
			}
		})
	}
	t.Run("file", func(t *testing.T) {
		d := tmplData{Dir: t.TempDir()}
		if err := os.MkdirAll(filepath.Join(d.Dir, "www"), 0o755); err != nil {
			t.Fatal(err)
		}
		want := fileContent(1 << 10)
		if err := os.WriteFile(filepath.Join(d.Dir, "www", "small.txt"), want, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := r.launch(floor("file", "-file", "{{.Dir}}/www/small.txt").System, "file", d, "/small.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer f.stop()
		if err := f.p.waitListen(f.addr(), readyTimeout); err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(f.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(b, want) || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("%d %s %q", res.StatusCode, res.Header, b)
		}
	})
}
