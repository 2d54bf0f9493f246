package server

import (
	"net/http"
	"strconv"
	"time"
)

// Limit bounds the requests h runs at once: Options.MaxConcurrency of them
// (1 under the sync model), with up to MaxQueue more waiting at most
// QueueTimeout each. A request that finds the queue full, or waits too
// long, gets 503 with Retry-After. With no bound h is returned as is.
func Limit(h http.Handler, o Options) http.Handler {
	n := o.MaxConcurrency
	if o.Concurrency == "sync" {
		n = 1
	}
	if n <= 0 {
		return h
	}
	timeout := o.QueueTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &limiter{h: h, slots: make(chan struct{}, n), queue: make(chan struct{}, o.MaxQueue), timeout: timeout}
}

type limiter struct {
	h       http.Handler
	slots   chan struct{}
	queue   chan struct{}
	timeout time.Duration
}

func (l *limiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case l.slots <- struct{}{}:
	default:
		if !l.wait(r) {
			w.Header().Set("Retry-After", strconv.Itoa(int(l.timeout/time.Second)+1))
			http.Error(w, "503 Service Unavailable: server busy, try again shortly", http.StatusServiceUnavailable)
			return
		}
	}
	defer func() { <-l.slots }()
	l.h.ServeHTTP(w, r)
}

// wait queues for a slot; it reports whether one was taken.
func (l *limiter) wait(r *http.Request) bool {
	select {
	case l.queue <- struct{}{}:
	default:
		return false // queue full
	}
	defer func() { <-l.queue }()
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}
