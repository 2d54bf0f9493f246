package limit

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
)

var echoBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	fmt.Fprintf(w, "got %d bytes", len(b))
})

func TestMaxBodyBytes(t *testing.T) {
	mw, err := New(Options{MaxBodyBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(echoBody)
	tests := []struct {
		name    string
		body    string
		chunked bool
		want    int
		wantMsg string
	}{
		{name: "empty", body: "", want: 200, wantMsg: "got 0 bytes"},
		{name: "at the limit", body: "0123456789", want: 200, wantMsg: "got 10 bytes"},
		{name: "declared too long", body: "0123456789X", want: 413, wantMsg: "413"},
		{name: "chunked at the limit", body: "0123456789", chunked: true, want: 200, wantMsg: "got 10 bytes"},
		{name: "chunked too long", body: "0123456789X", chunked: true, want: 413, wantMsg: "read: http: request body too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.wantMsg) {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body, tt.want, tt.wantMsg)
			}
		})
	}
}

// TestMaxConcurrency holds max requests inside the handler and checks
// that the next ones get 503 at once, and that freed slots are reused.
func TestMaxConcurrency(t *testing.T) {
	const max = 3
	entered := make(chan struct{}, max)
	release := make(chan struct{})
	mw, err := New(Options{MaxConcurrency: max, RetryAfter: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	codes := make([]int, max)
	for i := range max {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			codes[i] = w.Code
		})
	}
	for range max {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("handlers did not start")
		}
	}
	for range 5 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != 503 || w.Header().Get("Retry-After") != "2" {
			t.Errorf("over the limit: %d Retry-After %q, want 503 and 2", w.Code, w.Header().Get("Retry-After"))
		}
	}
	close(release)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("held request %d got %d", i, c)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 {
		t.Errorf("after release: %d, want 200", w.Code)
	}
}

// TestConcurrencyNeverExceeded runs many requests at once (bounded) and
// checks the handler never sees more than max at a time.
func TestConcurrencyNeverExceeded(t *testing.T) {
	const max = 4
	var cur, peak, ok, rejected atomic.Int64
	mw, _ := New(Options{MaxConcurrency: max})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Microsecond) // widen the window, not a wait
		cur.Add(-1)
	}))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
				switch w.Code {
				case 200:
					ok.Add(1)
				case 503:
					rejected.Add(1)
				default:
					t.Errorf("status %d", w.Code)
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > max || p < 1 {
		t.Errorf("peak concurrency %d, want 1..%d", p, max)
	}
	if ok.Load()+rejected.Load() != 16*50 || ok.Load() == 0 {
		t.Errorf("ok %d rejected %d", ok.Load(), rejected.Load())
	}
}

func TestRate(t *testing.T) {
	now := time.Unix(1000, 0)
	mw, err := New(Options{Rate: 2, Burst: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	steps := []struct {
		advance time.Duration
		addr    string
		want    int
		retry   string
	}{
		{0, "192.0.2.1:1000", 200, ""},
		{0, "192.0.2.1:1001", 200, ""},
		{0, "192.0.2.1:1002", 200, ""},
		{0, "192.0.2.1:1003", 429, "1"},
		{0, "192.0.2.2:1000", 200, ""}, // another client has its own bucket
		{400 * time.Millisecond, "192.0.2.1:1", 429, "1"},
		{100 * time.Millisecond, "192.0.2.1:1", 200, ""}, // 0.5s at 2/s: one token
		{0, "192.0.2.1:1", 429, "1"},
		{10 * time.Second, "192.0.2.1:1", 200, ""}, // refilled, up to burst
		{0, "192.0.2.1:1", 200, ""},
		{0, "192.0.2.1:1", 200, ""},
		{0, "192.0.2.1:1", 429, "1"},
		{0, "[2001:db8::1]:1", 200, ""},
		{0, "[2001:db8::2]:1", 200, ""}, // same /64
		{0, "[2001:db8::3]:1", 200, ""},
		{0, "[2001:db8::4]:1", 429, "1"},
		{0, "[2001:db8:0:1::1]:1", 200, ""}, // another /64
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		w := do(s.addr)
		if w.Code != s.want || w.Header().Get("Retry-After") != s.retry {
			t.Errorf("step %d (%s): %d Retry-After %q, want %d %q", i, s.addr, w.Code, w.Header().Get("Retry-After"), s.want, s.retry)
		}
	}
}

// TestRateConcurrent hammers one client's bucket from many goroutines at
// a fixed time: exactly burst requests get through.
func TestRateConcurrent(t *testing.T) {
	now := time.Unix(1000, 0)
	mw, _ := New(Options{Rate: 1, Burst: 25, Now: func() time.Time { return now }})
	var served atomic.Int64
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) }))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				r := httptest.NewRequest("GET", "/", nil)
				r.RemoteAddr = "198.51.100.7:1"
				if i%2 == 0 {
					r.RemoteAddr = fmt.Sprintf("203.0.113.%d:1", g) // other clients
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
	wg.Wait()
	// 8*10 requests from 198.51.100.7 (25 pass) and 10 from each of the
	// 8 other clients (all pass).
	if got, want := served.Load(), int64(25+80); got != want {
		t.Errorf("served %d, want %d", got, want)
	}
}

func TestClientTableBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewClients(Options{Rate: 1, Burst: 1, MaxClients: 100})
	for i := range 1000 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if _, ok := c.allow(a, now); !ok {
			t.Fatalf("first request of %v refused", a)
		}
		if n := c.len(); n > 100 {
			t.Fatalf("table has %d clients, max 100", n)
		}
	}
	if len(c.byKey) != c.lru.Len() {
		t.Errorf("map has %d, list %d", len(c.byKey), c.lru.Len())
	}
	// The most recent client is still there (its bucket is empty); the
	// oldest was dropped (it gets a fresh bucket).
	if _, ok := c.allow(netip.AddrFrom4([4]byte{10, 0, 3, 231}), now); ok {
		t.Error("most recent client forgotten")
	}
	if _, ok := c.allow(netip.AddrFrom4([4]byte{10, 0, 0, 0}), now); !ok {
		t.Error("oldest client kept")
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		proxies []netip.Prefix
		want    string
	}{
		{name: "no proxies", remote: "192.0.2.1:5", xff: []string{"1.2.3.4"}, want: "192.0.2.1"},
		{name: "untrusted peer ignores XFF", remote: "192.0.2.1:5", xff: []string{"1.2.3.4"}, proxies: proxies, want: "192.0.2.1"},
		{name: "trusted peer", remote: "10.1.1.1:5", xff: []string{"1.2.3.4"}, proxies: proxies, want: "1.2.3.4"},
		{name: "rightmost untrusted", remote: "10.1.1.1:5", xff: []string{"6.6.6.6, 1.2.3.4, 10.2.2.2"}, proxies: proxies, want: "1.2.3.4"},
		{name: "several headers", remote: "10.1.1.1:5", xff: []string{"6.6.6.6", "1.2.3.4", "10.9.9.9"}, proxies: proxies, want: "1.2.3.4"},
		{name: "all trusted", remote: "10.1.1.1:5", xff: []string{"10.3.3.3, 10.2.2.2"}, proxies: proxies, want: "10.3.3.3"},
		{name: "garbage hop", remote: "10.1.1.1:5", xff: []string{"1.2.3.4, junk, 10.2.2.2"}, proxies: proxies, want: "10.2.2.2"},
		{name: "no XFF", remote: "10.1.1.1:5", proxies: proxies, want: "10.1.1.1"},
		{name: "ipv6 peer", remote: "[::1]:5", xff: []string{"2001:db8::9"}, proxies: proxies, want: "2001:db8::9"},
		{name: "mapped v4", remote: "[::ffff:192.0.2.1]:5", want: "192.0.2.1"},
		{name: "unix socket with proxies", remote: "@", xff: []string{"1.2.3.4"}, proxies: proxies, want: "1.2.3.4"},
		{name: "unix socket without proxies", remote: "", xff: []string{"1.2.3.4"}, want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, tt.proxies).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{"10/s", 10, false},
		{" 120 / m ", 2, false},
		{"3600/h", 1, false},
		{"0.5/s", 0.5, false},
		{"10", 0, true},
		{"0/s", 0, true},
		{"-1/s", 0, true},
		{"x/s", 0, true},
		{"10/d", 0, true},
		{"NaN/s", 0, true},
		{"Inf/s", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{
		{MaxBodyBytes: -1}, {MaxConcurrency: -1}, {RetryAfter: -1}, {Rate: -1}, {Burst: -1}, {MaxClients: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		wantKey string
	}{
		{name: "all", keys: map[string]string{"max_body_bytes": "1M", "max_concurrency": "10", "retry_after": "5", "rate": "10/s",
			"burst": "20", "trusted_proxies": "127.0.0.1 10.0.0.0/8 ::1", "max_clients": "500"}},
		{name: "none", keys: map[string]string{}},
		{name: "bad max_body_bytes", keys: map[string]string{"max_body_bytes": "lots"}, wantKey: "max_body_bytes"},
		{name: "bad max_concurrency", keys: map[string]string{"max_concurrency": "-2"}, wantKey: "max_concurrency"},
		{name: "bad retry_after", keys: map[string]string{"retry_after": "later"}, wantKey: "retry_after"},
		{name: "bad rate", keys: map[string]string{"rate": "fast"}, wantKey: "rate"},
		{name: "bad burst", keys: map[string]string{"rate": "1/s", "burst": "many"}, wantKey: "burst"},
		{name: "burst without rate", keys: map[string]string{"burst": "3"}, wantKey: "burst"},
		{name: "bad trusted_proxies", keys: map[string]string{"rate": "1/s", "trusted_proxies": "10.0.0.0/99"}, wantKey: "trusted_proxies"},
		{name: "bad max_clients", keys: map[string]string{"rate": "1/s", "max_clients": "0"}, wantKey: "max_clients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var es []registry.Entry
			for k, v := range tt.keys {
				es = append(es, registry.Entry{Key: k, Value: v})
			}
			c := registry.NewConfig(registry.Filter, "filter:limit", "t.ini:1", "/tmp/t.ini", nil, es, nil, slog.New(slog.DiscardHandler))
			mw, err := factory(c)
			if tt.wantKey == "" {
				if err != nil || mw == nil {
					t.Fatal(err)
				}
				if u := c.Unread(); len(u) != 0 {
					t.Errorf("unread keys %v", u)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
}

// TestStreaming checks that the filter hands the handler the server's own
// ResponseWriter, so flushes reach the client as they happen.
func TestStreaming(t *testing.T) {
	mw, _ := New(Options{MaxBodyBytes: 100, MaxConcurrency: 2, Rate: 100})
	step := make(chan struct{})
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		<-step
		io.WriteString(w, "second\n")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	close(step)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
}
