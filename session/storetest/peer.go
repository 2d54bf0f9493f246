package storetest

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// Require skips t when err says a server the store needs (Redis,
// PostgreSQL) is unreachable, and fails it when CI=true, through
// [peer.Missing] like every other peer.
func Require(t testing.TB, server string, err error) {
	t.Helper()
	if err != nil {
		peer.Missing(t, "%s unreachable: %v", server, err)
	}
}

// Proxy forwards TCP connections from a loopback port to a backend and
// can be taken down and brought back on the same port, to show how a
// store behaves when its server goes away and returns.
type Proxy struct {
	Addr    string // the address to dial instead of the backend's
	backend string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

// NewProxy starts a proxy to backend; t's cleanup stops it.
func NewProxy(t testing.TB, backend string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), backend: backend, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.Down)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Down
			}
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) pipe(c net.Conn) {
	if !p.track(c) {
		return
	}
	b, err := net.Dial("tcp", p.backend)
	if err != nil || !p.track(b) {
		c.Close()
		return
	}
	go func() { io.Copy(b, c); b.Close() }()
	io.Copy(c, b)
	c.Close()
}

// Down closes the listener and every connection through it.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Up listens again on the same address.
func (p *Proxy) Up(t testing.TB) {
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serve(ln)
}
