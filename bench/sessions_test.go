package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// TestSessionConfigsCheck builds every session scenario's gopaste config
// as `gopaste check` does: every part resolves, every key is known, every
// store opens. Redis and PostgreSQL must be up under CI=true.
func TestSessionConfigsCheck(t *testing.T) {
	reach := map[string]error{
		"redis":    dial("127.0.0.1:6379"),
		"postgres": dial("127.0.0.1:5432"),
	}
	t.Cleanup(func() { dropSessionTables(t) })
	n := 0
	for _, sc := range scenarios {
		if !strings.HasPrefix(sc.Name, "session-") {
			continue
		}
		n++
		t.Run(sc.Name, func(t *testing.T) {
			for _, st := range []string{"redis", "postgres"} {
				if strings.HasPrefix(sc.Name, "session-"+st+"-") {
					storetest.Require(t, st, reach[st])
				}
			}
			for _, sys := range sc.systems() {
				if sys.Gopaste == "" {
					continue
				}
				dir := t.TempDir()
				conf, err := sys.gopasteConfig(tmplData{Dir: dir, Port: 18099})
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, "c.ini")
				if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
					t.Fatal(err)
				}
				rep, err := deploy.Check(path, deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatalf("%s: %v\n%s", sys.Name, err, conf)
				}
				if len(rep.Errs) > 0 || len(rep.Warnings) > 0 {
					t.Fatalf("%s: errors %v, warnings %v\n%s", sys.Name, rep.Errs, rep.Warnings, conf)
				}
			}
		})
	}
	if want := len(sessionConns) * (1 + len(sessionStores)); n != want {
		t.Errorf("%d session scenarios, want %d", n, want)
	}
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

// dropSessionTables removes the tables the postgres configs created.
func dropSessionTables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgstore.OpenDB(sessionDSN)
	if err != nil {
		return
	}
	defer c.Close()
	for _, n := range sessionConns {
		ns := sessionNS + "_c" + strconv.Itoa(n)
		if _, err := c.ExecContext(ctx, "DROP TABLE IF EXISTS "+ns+"_filter, "+ns+"_filter_locks"); err != nil {
			t.Errorf("drop %s tables: %v", ns, err)
		}
	}
}

// TestSessionLoad: each session scenario runs at its own connection count
// with the cookie script; other scenarios keep -connections and no script.
func TestSessionLoad(t *testing.T) {
	o := Options{Connections: 64}
	dir := t.TempDir()
	for _, c := range sessionConns {
		sc := Scenario{Name: sessionName("redis", c)}
		conns, extra, err := loadFor(sc, o, dir)
		if err != nil {
			t.Fatal(err)
		}
		if conns != c || len(extra) != 2 || extra[0] != "-s" {
			t.Fatalf("%s: connections %d, extra %q", sc.Name, conns, extra)
		}
		b, err := os.ReadFile(extra[1])
		if err != nil {
			t.Fatal(err)
		}
		want := "local want = " + strconv.Itoa((c+min(2, c)-1)/min(2, c)) + "\n"
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: script lacks %q:\n%s", sc.Name, want, b)
		}
		args := wrkArgs("http://x/", conns, time.Second, nil, extra...)
		if args[len(args)-1] != "http://x/" || args[len(args)-3] != "-s" {
			t.Errorf("wrk args %q: -s SCRIPT must come before the URL", args)
		}
	}
	conns, extra, err := loadFor(Scenario{Name: "hello"}, o, dir)
	if err != nil || conns != 64 || extra != nil {
		t.Errorf("hello: %d %q %v, want 64 connections and no extra arguments", conns, extra, err)
	}
}

func TestWrkCommandText(t *testing.T) {
	r := Result{Scenario: sessionName("redis", 1), Connections: 1, Duration: 5 * time.Second}
	if got, want := wrkCommandText(r), "wrk -t1 -c1 -d5s --latency -s session-redis-c1.lua"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r = Result{Scenario: "hello", Connections: 64, Duration: 10 * time.Second}
	if got, want := wrkCommandText(r), "wrk -t2 -c64 -d10s --latency"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
