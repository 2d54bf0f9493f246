package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// load is a bounded GET loop against one URL from a few clients, some
// with keep-alive connections, some with a new connection per request
// (no transport retry can hide a failure there).
type load struct {
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu      sync.Mutex
	samples []sample
	errs    []string
}

type sample struct {
	at      time.Time
	took    time.Duration
	ok      bool
	refused bool
}

// maxLoadRequests bounds each client's loop.
const maxLoadRequests = 20000

// startLoad starts clients GETting url until stop; want is the body
// prefix every answer must have (a 200).
func startLoad(t *testing.T, url string, clients int, want func(body string) bool) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	for i := range clients {
		tr := &http.Transport{DisableKeepAlives: i%2 == 1, MaxIdleConnsPerHost: 1}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer tr.CloseIdleConnections()
			for range maxLoadRequests {
				select {
				case <-l.stop:
					return
				default:
				}
				begin := time.Now()
				s := sample{at: begin}
				resp, err := c.Get(url)
				if err == nil {
					b, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case rerr != nil:
						err = rerr
					case resp.StatusCode != 200 || !want(string(b)):
						err = errors.New("got " + strconv.Itoa(resp.StatusCode) + " " + strconv.Quote(string(b)))
					}
				}
				s.took = time.Since(begin)
				s.ok = err == nil
				s.refused = errors.Is(err, syscall.ECONNREFUSED)
				l.mu.Lock()
				l.samples = append(l.samples, s)
				if err != nil && len(l.errs) < 20 {
					kind := "keep-alive"
					if tr.DisableKeepAlives {
						kind = "new connection"
					}
					l.errs = append(l.errs, kind+": "+err.Error())
				}
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

// end stops the clients and waits for them.
func (l *load) end() {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// results stops the load and returns its counts.
func (l *load) results() (ok, failed, refused int, errs []string) {
	l.end()
	for _, s := range l.samples {
		switch {
		case s.ok:
			ok++
		case s.refused:
			refused++
			failed++
		default:
			failed++
		}
	}
	return ok, failed, refused, l.errs
}

// p99 is the 99th percentile latency of the successful requests that
// started in [from, to).
func (l *load) p99(from, to time.Time) (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ds []time.Duration
	for _, s := range l.samples {
		if s.ok && !s.at.Before(from) && s.at.Before(to) {
			ds = append(ds, s.took)
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99)/100], len(ds)
}

// count returns how many requests have been answered so far.
func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.samples)
}

// waitRequests waits until n more requests were answered, at most 20s.
func (l *load) waitRequests(t *testing.T, n int) {
	t.Helper()
	target := l.count() + n
	deadline := time.Now().Add(20 * time.Second)
	for l.count() < target {
		if time.Now().After(deadline) {
			t.Fatalf("load: %d requests in 20s, want %d", l.count(), target)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pidAlive reports whether process pid exists (and is no zombie).
func pidAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
