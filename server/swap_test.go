package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSwapIdleWhenLastRequestEnds: the channel Store returns for the
// replaced handler closes when its last running request finishes, not
// before, while new requests already go to the new handler.
func TestSwapIdleWhenLastRequestEnds(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	old := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "old")
	})
	s := NewSwap(old)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Body.String() != "old" {
				t.Errorf("in-flight request got %q", w.Body)
			}
		}()
		<-started
	}
	idle := s.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "new") }))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Body.String() != "new" {
		t.Errorf("request after Store got %q", w.Body)
	}
	release <- struct{}{}
	select {
	case <-idle:
		t.Fatal("idle before the last request ended")
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{}
	wg.Wait()
	select {
	case <-idle:
	case <-time.After(10 * time.Second):
		t.Fatal("idle not closed after the last request ended")
	}
	// Nothing ran on the new handler: replacing it reports idle at once.
	select {
	case <-s.Store(http.NotFoundHandler()):
	default:
		t.Error("an idle handler was not reported idle at once")
	}
}

// TestSwapNeverRunsOnIdleHandler stores handlers while requests run and
// checks that no request runs on a handler once it was reported idle (the
// moment a reload closes its app).
func TestSwapNeverRunsOnIdleHandler(t *testing.T) {
	type gen struct {
		closed atomic.Bool
		h      http.Handler
	}
	var bad atomic.Int64
	newGen := func() *gen {
		g := &gen{}
		g.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if g.closed.Load() {
				bad.Add(1)
			}
			time.Sleep(time.Microsecond)
			if g.closed.Load() {
				bad.Add(1)
			}
		})
		return g
	}
	cur := newGen()
	s := NewSwap(cur.h)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}
		}()
	}
	var closers sync.WaitGroup
	for range 200 {
		next := newGen()
		idle := s.Store(next.h)
		old := cur
		cur = next
		closers.Add(1)
		go func() {
			defer closers.Done()
			<-idle
			old.closed.Store(true)
		}()
	}
	close(stop)
	wg.Wait()
	closers.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d requests ran on a handler reported idle", n)
	}
}

// TestSwapPanicReleases: a request whose handler panics (net/http
// recovers it) is no longer counted, so its handler still goes idle.
func TestSwapPanicReleases(t *testing.T) {
	s := NewSwap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() { recover() }()
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	select {
	case <-s.Store(http.NotFoundHandler()):
	default:
		t.Error("the handler whose request panicked is not idle")
	}
}
