package hostile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

// malformedCount is how many malformed inputs each protocol server gets,
// as issue 12 asks; it takes about 2s per server with -race.
const malformedCount = 10000

// proto is one protocol server under test: a valid request, how to tell
// its reply succeeded, and the fuzz corpora its malformed inputs start
// from.
type proto struct {
	name    string
	valid   []byte
	ok      func(reply []byte) bool
	corpora []string // directories of "go test fuzz v1" files
}

var protos = []proto{
	{"scgi", scgiRequest(), cgiReplyOK, []string{"../../scgi/testdata/fuzz"}},
	{"uwsgi", uwsgiRequest(), httpReplyOK, []string{"../../uwsgi/testdata/fuzz"}},
	{"fastcgi", fastcgiRequest(), fastcgiReplyOK, []string{"../../fastcgi/testdata/fuzz"}},
	{"http", []byte("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"), httpReplyOK, nil},
}

func cgiVars() [][2]string {
	return [][2]string{{"CONTENT_LENGTH", "5"}, {"SCGI", "1"}, {"REQUEST_METHOD", "POST"},
		{"REQUEST_URI", "/x"}, {"PATH_INFO", "/x"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
		{"SERVER_NAME", "x"}, {"SERVER_PORT", "80"}, {"REMOTE_ADDR", "127.0.0.1"}}
}

// scgiRequest is a netstring of the variables (CONTENT_LENGTH first) and
// the body.
func scgiRequest() []byte {
	var h bytes.Buffer
	for _, kv := range cgiVars() {
		h.WriteString(kv[0] + "\x00" + kv[1] + "\x00")
	}
	return []byte(strconv.Itoa(h.Len()) + ":" + h.String() + ",hello")
}

// uwsgiRequest is a packet (modifier1 0) and the body.
func uwsgiRequest() []byte {
	var vars []byte
	for _, kv := range cgiVars() {
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(kv[0])))
		vars = append(vars, kv[0]...)
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(kv[1])))
		vars = append(vars, kv[1]...)
	}
	p := []byte{0}
	p = binary.LittleEndian.AppendUint16(p, uint16(len(vars)))
	p = append(p, 0)
	return append(append(p, vars...), "hello"...)
}

func fcgiRecord(typ byte, content []byte) []byte {
	r := []byte{1, typ, 0, 1, byte(len(content) >> 8), byte(len(content)), 0, 0}
	return append(r, content...)
}

// fastcgiRequest is request 1 as a responder without keep_conn: begin,
// params, the end of params, the body, the end of the body.
func fastcgiRequest() []byte {
	var params []byte
	for _, kv := range cgiVars() {
		params = append(params, byte(len(kv[0])), byte(len(kv[1])))
		params = append(params, kv[0]+kv[1]...)
	}
	var b []byte
	b = append(b, fcgiRecord(1, []byte{0, 1, 0, 0, 0, 0, 0, 0})...)
	b = append(b, fcgiRecord(4, params)...)
	b = append(b, fcgiRecord(4, nil)...)
	b = append(b, fcgiRecord(5, []byte("hello"))...)
	return append(b, fcgiRecord(5, nil)...)
}

func httpReplyOK(reply []byte) bool {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(reply)), nil)
	if err != nil {
		return false
	}
	body, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == 200 && string(body) == "ok 5"
}

func cgiReplyOK(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("Status: 200 ")) && bytes.HasSuffix(reply, []byte("\r\n\r\nok 5"))
}

// fastcgiReplyOK joins the stdout records of request 1 and checks them as
// a CGI reply, and that the request ended.
func fastcgiReplyOK(reply []byte) bool {
	var stdout []byte
	ended := false
	for len(reply) >= 8 {
		n := int(reply[4])<<8 | int(reply[5])
		end := 8 + n + int(reply[6])
		if len(reply) < end {
			return false
		}
		switch reply[1] {
		case 6:
			stdout = append(stdout, reply[8:8+n]...)
		case 3:
			ended = true
		}
		reply = reply[end:]
	}
	return ended && len(reply) == 0 && (cgiReplyOK(stdout) || bytes.HasSuffix(stdout, []byte("\r\n\r\nok 5")) && !bytes.HasPrefix(stdout, []byte("Status:")))
}

// seeds reads the inputs of every "go test fuzz v1" file under dirs.
func seeds(t *testing.T, dirs []string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n") {
				q, ok := strings.CutPrefix(line, "[]byte(")
				if !ok {
					continue
				}
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					return fmt.Errorf("%s: %v", path, err)
				}
				out = append(out, []byte(s))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mutate returns a deterministic variation of one of seeds: one to four
// byte-level edits (flip, overwrite with a delimiter or digit, insert,
// delete, truncate, duplicate a span, splice another seed).
func mutate(r *rand.Rand, seeds [][]byte) []byte {
	b := bytes.Clone(seeds[r.IntN(len(seeds))])
	special := []byte{0, 0xff, 0x7f, ':', ',', '\r', '\n', ' ', '0', '9', ';', 1, 4, 5, 0x80}
	for range 1 + r.IntN(4) {
		if len(b) == 0 {
			b = append(b, special[r.IntN(len(special))])
			continue
		}
		i := r.IntN(len(b))
		switch r.IntN(8) {
		case 0:
			b[i] ^= 1 << r.IntN(8)
		case 1:
			b[i] = special[r.IntN(len(special))]
		case 2:
			b[i] = byte(r.IntN(256))
		case 3:
			ins := make([]byte, 1+r.IntN(8))
			for k := range ins {
				ins[k] = special[r.IntN(len(special))]
			}
			b = append(b[:i], append(ins, b[i:]...)...)
		case 4:
			b = append(b[:i], b[min(len(b), i+1+r.IntN(16)):]...)
		case 5:
			b = b[:i]
		case 6:
			j := min(len(b), i+1+r.IntN(32))
			b = append(b[:j], append(bytes.Clone(b[i:j]), b[j:]...)...)
		case 7:
			o := seeds[r.IntN(len(seeds))]
			b = append(b[:i], o[r.IntN(len(o)+1):]...)
		}
	}
	return b
}

// send writes in on a new connection, half-closes it and reads the reply
// until the server closes; timedOut says the server held the connection
// past 10s after the client's end of input.
func send(addr string, in []byte) (reply []byte, timedOut bool, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		conn.Write(in) // a server refusing the input may close before reading it all
		conn.(*net.TCPConn).CloseWrite()
	}()
	reply, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reply, true, nil
	}
	if err != nil && isReset(err) {
		err = nil
	}
	return reply, false, err
}

// TestMalformedUnderLoad sends malformedCount malformed inputs to each
// protocol server (its fuzz corpora, the valid request and, for http,
// the corpus of TestHTTPCorpus, mutated deterministically), 32
// connections at a time, while one client keeps sending valid requests.
// No input may make the server panic or hold its connection after the
// client's end of input, every valid request must succeed, and
// goroutines and descriptors must be back to their count before the
// run within 10s, and the resident memory within rssMargin of it.
func TestMalformedUnderLoad(t *testing.T) {
	var corpus [][]byte
	for _, c := range loadCorpus(t) {
		if len(c.Request) < 64<<10 {
			corpus = append(corpus, []byte(c.Request))
		}
	}
	n := malformedCount
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			var panics atomic.Int64
			log := slog.New(panicCounter{&panics})
			addr, stop, err := serve(p.name, &recorder{}, log)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := stop(); err != nil {
					t.Error(err)
				}
			}()
			ss := append(seeds(t, p.corpora), p.valid)
			if p.name == "http" {
				ss = append(ss, corpus...)
			}
			// Warm up, then take the baseline.
			if reply, _, err := send(addr, p.valid); err != nil || !p.ok(reply) {
				t.Fatalf("valid request: %v, reply %q", err, reply)
			}
			r := rand.New(rand.NewPCG(12, uint64(len(p.name))))
			inputs := make([][]byte, n)
			for i := range inputs {
				inputs[i] = mutate(r, ss)
			}
			// The RSS baseline is taken after a tenth of the inputs, 32 at
			// a time: the memory a run touches once (the heap's arenas, the
			// race detector's shadow of them) is then in it.
			var warm sync.WaitGroup
			for w := range 32 {
				warm.Go(func() {
					for i := w; i < len(inputs)/10; i += 32 {
						send(addr, inputs[i])
					}
				})
			}
			warm.Wait()
			runtime.GC()
			baseG, baseFD := peer.WaitSettled(t, 1<<30, 1<<30, 10*time.Second)
			baseRSS := rss(t)
			var replied, silent, timeouts, errs atomic.Int64
			done := make(chan struct{})
			var validN, validBad atomic.Int64
			var load sync.WaitGroup
			load.Go(func() {
				for i := 0; i < 100000; i++ {
					select {
					case <-done:
						if i >= 50 {
							return
						}
					default:
					}
					reply, timedOut, err := send(addr, p.valid)
					validN.Add(1)
					if err != nil || timedOut || !p.ok(reply) {
						if validBad.Add(1) <= 3 {
							t.Errorf("valid request %d under load: err %v, timed out %v, reply %q", i, err, timedOut, reply)
						}
					}
				}
			})
			start := time.Now()
			var wg sync.WaitGroup
			next := atomic.Int64{}
			for range 32 {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= len(inputs) {
							return
						}
						reply, timedOut, err := send(addr, inputs[i])
						switch {
						case err != nil:
							if errs.Add(1) <= 3 {
								t.Errorf("input %q: %v", inputs[i], err)
							}
						case timedOut:
							if timeouts.Add(1) <= 3 {
								t.Errorf("input %q: connection held 10s after the client's end of input", inputs[i])
							}
						case len(reply) > 0:
							replied.Add(1)
						default:
							silent.Add(1)
						}
					}
				})
			}
			wg.Wait()
			close(done)
			load.Wait()
			inputs = nil // not counted in the RSS after
			t.Logf("%s: %d malformed inputs in %v: %d answered, %d closed without a reply, %d held open, %d errors; %d valid requests alongside, %d failed",
				p.name, n, time.Since(start).Round(time.Millisecond), replied.Load(), silent.Load(), timeouts.Load(), errs.Load(), validN.Load(), validBad.Load())
			if got := panics.Load(); got != 0 {
				t.Errorf("%d log records mention a panic", got)
			}
			g, fd := peer.WaitSettled(t, baseG, baseFD, 10*time.Second)
			t.Logf("%s: goroutines %d -> %d, fds %d -> %d", p.name, baseG, g, baseFD, fd)
			if g > baseG || fd > baseFD {
				t.Errorf("after the run: %d goroutines (baseline %d), %d fds (baseline %d)", g, baseG, fd, baseFD)
			}
			after := settledRSS(t, baseRSS+rssMargin, 10*time.Second)
			t.Logf("%s: RSS %.1f MiB -> %.1f MiB", p.name, float64(baseRSS)/(1<<20), float64(after)/(1<<20))
			if after > baseRSS+rssMargin {
				t.Errorf("after the run: RSS %d MiB, over the baseline %d MiB + %d MiB", after>>20, baseRSS>>20, rssMargin>>20)
			}
		})
	}
}

// rssMargin is how far over its baseline (taken after a warm-up) the
// process's resident memory may stay after a run, once the garbage is
// collected and returned to the OS: the heap the Go runtime keeps for
// reuse, and under -race what the detector keeps (raceRSS).
const rssMargin = 32<<20 + raceRSS

// rss returns the resident memory of this process (from /proc/self/statm)
// after a garbage collection that returned the free memory to the OS.
func rss(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		t.Fatalf("/proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// settledRSS waits up to d for the resident memory to fall to max, and
// returns it.
func settledRSS(t *testing.T, max int64, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for {
		if n := rss(t); n <= max || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}
