package hostile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// httpCase is one entry of testdata/http1/*.json: the bytes a client
// sends on one connection and what must come of them.
//
// Expect is one of
//   - "reject": the request is invalid; the first response is a 4xx (or
//     501 for an unknown transfer coding, 505 for a version), or the
//     connection is closed after at most one response; no more than one
//     response; the app never gets the request with a complete body;
//   - "close": the message may be served (RFC 9112 §6.1: Transfer-Encoding
//     over Content-Length) but the connection must be closed after it,
//     so that what follows is never read as a request;
//   - "clean": the request may be served or refused, but what the app
//     sees is clean (no CR, LF or NUL in a field value, no trailer merged
//     into the header, a body matching its length);
//   - "ok": a valid control: the app sees exactly Want, in order.
//
// In every case the app never sees a request for /smuggled, nor a body
// holding a request line, unless Want lists it. {{pad:N}} and
// {{zeros:N}} in Request stand for N 'a' or '0' bytes. Hole names a known
// defect (and where its fix belongs): the case runs and is counted, and
// its failure is logged instead of failing the test.
type httpCase struct {
	Name      string
	RFC       string
	Expect    string
	Request   string
	HalfClose bool `json:"halfclose"`
	Want      []struct{ Path, Body string }
	Hole      string

	class string // the file it comes from
}

var placeholder = regexp.MustCompile(`\{\{(pad|zeros):(\d+)\}\}`)

func loadCorpus(t *testing.T) []httpCase {
	t.Helper()
	files, err := filepath.Glob("testdata/http1/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var all []httpCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []httpCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cs {
			c.class = strings.TrimSuffix(filepath.Base(f), ".json")
			switch c.Expect {
			case "reject", "close", "clean", "ok":
			default:
				t.Fatalf("%s: %q: unknown expect %q", f, c.Name, c.Expect)
			}
			c.Request = placeholder.ReplaceAllStringFunc(c.Request, func(m string) string {
				p := placeholder.FindStringSubmatch(m)
				n, _ := strconv.Atoi(p[2])
				if p[1] == "zeros" {
					return strings.Repeat("0", n)
				}
				return strings.Repeat("a", n)
			})
			all = append(all, c)
		}
	}
	return all
}

// outcome is what a client saw on its connection.
type outcome struct {
	statuses []int // final statuses, in order
	closed   bool  // the server closed (EOF or reset) before the wait ended
	err      error // anything else that went wrong reading
}

// exchange writes req on a new connection and reads responses until the
// server closes it or stays silent for idle after the last response.
func exchange(addr string, req []byte, halfClose bool, idle time.Duration) outcome {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return outcome{err: err}
	}
	defer conn.Close()
	go func() {
		// A server refusing a long request closes before reading it
		// all: the write error is expected.
		conn.Write(req)
		if halfClose {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	var o outcome
	br := bufio.NewReader(conn)
	// The first response may take a while for a 2 MB request on a
	// machine shared with other builds; no case hangs any more.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
				isReset(err):
				o.closed = true
			case errors.As(err, &ne) && ne.Timeout():
			default:
				o.err = err
			}
			return o
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 200 {
			o.statuses = append(o.statuses, resp.StatusCode)
		}
		if err != nil {
			o.closed = true
			return o
		}
		conn.SetReadDeadline(time.Now().Add(idle))
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// refusal reports whether status refuses a request: a 4xx, 501 (a
// transfer coding not understood) or 505 (a version not supported).
func refusal(status int) bool {
	return status >= 400 && status < 500 || status == 501 || status == 505
}

var requestLine = regexp.MustCompile(`(?m)^[A-Z]+ /\S* HTTP/1\.[01]\r?$`)

// problems lists what is wrong with what the client and the app saw.
func (c httpCase) problems(o outcome, got []seen) []string {
	var ps []string
	wanted := func(s seen) bool {
		for _, w := range c.Want {
			if w.Path == s.Path && w.Body == s.Body {
				return true
			}
		}
		return false
	}
	if o.err != nil {
		ps = append(ps, fmt.Sprintf("reading responses: %v", o.err))
	}
	for _, s := range got {
		if s.Path == "/smuggled" {
			ps = append(ps, "desync: the app served the smuggled request")
		}
		if requestLine.MatchString(s.Body) && !wanted(s) {
			ps = append(ps, fmt.Sprintf("desync: a request line reached the app as the body of %s %s", s.Method, s.Path))
		}
		for k, vs := range s.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					ps = append(ps, fmt.Sprintf("the app saw %q: %q", k, v))
				}
				if strings.Contains(v, "trailer-evil") {
					ps = append(ps, fmt.Sprintf("a trailer was merged into the header: %s: %s", k, v))
				}
			}
		}
		if s.BodyErr == nil && s.ContentLength >= 0 && s.ContentLength != int64(len(s.Body)) {
			ps = append(ps, fmt.Sprintf("the app saw Content-Length %d with a %d-byte body", s.ContentLength, len(s.Body)))
		}
	}
	switch c.Expect {
	case "reject":
		if len(o.statuses) > 1 {
			ps = append(ps, fmt.Sprintf("%d responses %v to one invalid request", len(o.statuses), o.statuses))
		}
		if len(o.statuses) > 0 && !refusal(o.statuses[0]) && !o.closed {
			ps = append(ps, fmt.Sprintf("answered %d and kept the connection open", o.statuses[0]))
		}
		if len(o.statuses) == 0 && !o.closed {
			ps = append(ps, "no response and the connection left open")
		}
		for _, s := range got {
			if s.BodyErr == nil {
				ps = append(ps, fmt.Sprintf("the app got it as a complete request: %s %s %q", s.Method, s.Path, s.Body))
			}
		}
	case "close":
		if len(o.statuses) > 1 || len(o.statuses) == 1 && !refusal(o.statuses[0]) && !o.closed {
			ps = append(ps, fmt.Sprintf("responses %v and the connection kept open (RFC 9112 §6.1: close after)", o.statuses))
		}
		for _, s := range got {
			if s.BodyErr == nil && !wanted(s) {
				ps = append(ps, fmt.Sprintf("the app got %s %s %q, want one of %q", s.Method, s.Path, s.Body, c.Want))
			}
		}
	case "clean":
		for _, s := range got {
			if len(c.Want) > 0 && s.BodyErr == nil && !wanted(s) {
				ps = append(ps, fmt.Sprintf("the app got %s %s %q, want %q", s.Method, s.Path, s.Body, c.Want))
			}
		}
	case "ok":
		var paths []string
		for _, s := range got {
			paths = append(paths, s.Path)
			if !wanted(s) {
				ps = append(ps, fmt.Sprintf("the app got %s %s %q (err %v), want %q", s.Method, s.Path, s.Body, s.BodyErr, c.Want))
			}
		}
		if len(got) != len(c.Want) {
			ps = append(ps, fmt.Sprintf("the app got %d requests %q, want %d", len(got), paths, len(c.Want)))
		}
		if n := len(slices.DeleteFunc(slices.Clone(o.statuses), func(s int) bool { return s/100 != 2 })); n != len(c.Want) || len(o.statuses) != len(c.Want) {
			ps = append(ps, fmt.Sprintf("responses %v, want %d times 2xx", o.statuses, len(c.Want)))
		}
	}
	return ps
}

// kind names the outcome for the numbers in docs/security.md.
func (o outcome) kind() string {
	switch {
	case len(o.statuses) > 0 && refusal(o.statuses[0]):
		return "refused"
	case len(o.statuses) == 0 && o.closed:
		return "closed"
	case o.closed:
		return "served+closed"
	default:
		return "served"
	}
}

type caseResult struct {
	c     httpCase
	o     outcome
	probs []string
}

// TestHTTPCorpus runs the corpus against every target; see httpCase for
// what each case must show. With -v it prints the numbers that
// docs/security.md reports.
func TestHTTPCorpus(t *testing.T) {
	cases := loadCorpus(t)
	var panics atomic.Int64
	log := slog.New(panicCounter{&panics})
	total := map[string]int{}
	// Every target at once, 24 connections at a time: a case that hangs
	// costs its 10s read and 5s shutdown once, not once per target.
	results := make([][]caseResult, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for ti, tg := range targets {
		results[ti] = make([]caseResult, len(cases))
		for i, c := range cases {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				addr, rec, stop, err := tg.start(log)
				if err != nil {
					results[ti][i] = caseResult{c, outcome{err: err}, []string{"start: " + err.Error()}}
					return
				}
				o := exchange(addr, []byte(c.Request), c.HalfClose, 2*time.Second)
				err = stop() // drains the app, so that rec is complete
				ps := c.problems(o, rec.seen())
				if err != nil {
					ps = append(ps, err.Error())
				}
				results[ti][i] = caseResult{c, o, ps}
			})
		}
	}
	wg.Wait()
	for ti, tg := range targets {
		results := results[ti]
		t.Run(tg.name, func(t *testing.T) {
			type count struct{ n, refused, closed, servedClosed, served, holes int }
			statuses := map[int]int{}
			byClass := map[string]*count{}
			var classes []string
			for _, r := range results {
				cl := byClass[r.c.class]
				if cl == nil {
					cl = &count{}
					byClass[r.c.class] = cl
					classes = append(classes, r.c.class)
				}
				cl.n++
				total[r.o.kind()]++
				if len(r.o.statuses) > 0 {
					statuses[r.o.statuses[0]]++
				}
				switch r.o.kind() {
				case "refused":
					cl.refused++
				case "closed":
					cl.closed++
				case "served+closed":
					cl.servedClosed++
				default:
					cl.served++
				}
				if len(r.probs) == 0 {
					if r.c.Hole != "" {
						t.Logf("%s/%s: marked as a hole (%s) but passes now", r.c.class, r.c.Name, r.c.Hole)
					}
					continue
				}
				if r.c.Hole != "" {
					cl.holes++
					t.Logf("known hole, %s/%s (%s): statuses %v closed %v: %s", r.c.class, r.c.Name, r.c.Hole, r.o.statuses, r.o.closed, strings.Join(r.probs, "; "))
					continue
				}
				t.Errorf("%s/%s (%s, expect %s): statuses %v closed %v:\n\t%s", r.c.class, r.c.Name, r.c.RFC, r.c.Expect, r.o.statuses, r.o.closed, strings.Join(r.probs, "\n\t"))
			}
			slices.Sort(classes)
			t.Logf("%s: %d cases; first statuses %v", tg.name, len(results), statuses)
			t.Logf("| class | cases | refused (4xx/501/505) | closed, no response | served, then closed | served, kept open | known holes |")
			for _, name := range classes {
				cl := byClass[name]
				t.Logf("| %s | %d | %d | %d | %d | %d | %d |", name, cl.n, cl.refused, cl.closed, cl.servedClosed, cl.served, cl.holes)
			}
		})
	}
	if n := panics.Load(); n != 0 {
		t.Errorf("%d log records mention a panic", n)
	}
	t.Logf("all targets: %v", total)
}
