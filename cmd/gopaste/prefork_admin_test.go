package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/admin"
)

// TestPreforkAdminCountsWorkers (issue 10): under prefork the master's
// admin listener counts the requests every worker served (each worker
// reports its counts over its control socket every second) and lists
// the workers with their pids.
func TestPreforkAdminCountsWorkers(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	cfg := writeConfig(t, dir, preforkConfig("hello", "admin = unix:"+sock+"\n"))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	waitForLogCount(t, s, `msg="admin listening"`, 1)
	pids := workerPids(s)

	const n = 60
	for i := range n {
		// A new connection each time, so that both workers take some.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	adminClient := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	get := func(path string) string {
		t.Helper()
		res, err := adminClient.Get("http://admin" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	var snap admin.Snapshot
	var err error
	counted := func() uint64 {
		var sum uint64
		for _, m := range snap.Mounts {
			sum += m.Requests
		}
		return sum
	}
	// Within one reporting interval (1s) and some slack for a busy
	// machine.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if snap, err = admin.Fetch(t.Context(), "unix:"+sock); err != nil {
			t.Fatal(err)
		}
		if counted() >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := counted(); got != n {
		t.Errorf("/status.json counts %d requests, want %d: %+v", got, n, snap.Mounts)
	}
	var rows []int
	var served uint64
	for _, w := range snap.Workers {
		if w.Pool != "prefork" {
			continue
		}
		rows = append(rows, w.PID)
		served += w.Requests
		if w.State != "ready" || w.RSS <= 0 || w.Started.IsZero() {
			t.Errorf("worker row %+v: want ready, with its RSS and start", w)
		}
	}
	slices.Sort(rows)
	want := []int{pids[1], pids[2]}
	slices.Sort(want)
	if !slices.Equal(rows, want) {
		t.Errorf("worker table pids %v, want the workers' %v", rows, want)
	}
	if served != n {
		t.Errorf("the worker rows served %d requests in all, want %d", served, n)
	}
	if m := get("/metrics"); !strings.Contains(m, fmt.Sprintf(`gopaste_requests_total{mount="/"} %d`, n)) {
		t.Errorf("/metrics lacks gopaste_requests_total %d:\n%s", n, m)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}

// TestPreforkAdminCountsRecycledWorkers: a worker recycled after
// max_requests sends its last counts before it exits, so none is lost.
func TestPreforkAdminCountsRecycledWorkers(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	cfg := writeConfig(t, dir, preforkConfig("hello", "max_requests = 15\nadmin = unix:"+sock+"\n"))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	const n = 100
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range n {
		res, err := c.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	waitForLogCount(t, s, `msg="worker retired"`, 2)
	var got uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap, err := admin.Fetch(t.Context(), "unix:"+sock)
		if err != nil {
			t.Fatal(err)
		}
		got = 0
		for _, m := range snap.Mounts {
			got += m.Requests
		}
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != n {
		t.Errorf("/status.json counts %d requests across recycles, want %d", got, n)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}
