package errorpage

import (
	"bufio"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/middleware/requestid"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// panicky panics with a value tests look for; the marker comment on the
// panic line must show up in the debug page's source context.
func panicky(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	panic("kaboom-42") // SOURCE-MARKER
}

func newLogger() (*slog.Logger, *logbuf.Buffer) {
	buf := &logbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

func failingRequest() *http.Request {
	form := url.Values{"name": {"bob"}, "password": {"hunter2"}}
	req := httptest.NewRequest("POST", "/app/do?x=1", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer sekrit-token")
	req.Header.Set("X-Custom", "visible-header")
	req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
	req.AddCookie(&http.Cookie{Name: "session_id", Value: "sess-value"})
	return req
}

func TestPanicPage(t *testing.T) {
	config := func(*http.Request) map[string]map[string]string {
		return map[string]map[string]string{"global": {
			"db_password": "pw1", "secret_key": "pw2", "redis": "redis://u:pw3@localhost:6379/0",
			"title": "my-site",
		}}
	}
	tests := []struct {
		name    string
		opts    Options
		want    []string // in the body
		notWant []string // never in the body
		logWant []string
	}{
		{
			name: "debug",
			opts: Options{Debug: true, Config: config},
			want: []string{"panic: kaboom-42", "errorpage.panicky", "SOURCE-MARKER", "errorpage_test.go",
				"POST", "/app/do?x=1", "visible-header", "bob", "theme", "dark", "my-site", "db_password", Mask,
				"redis://u:xxxxx@localhost:6379/0"},
			notWant: []string{"hunter2", "sekrit-token", "sess-value", "pw1", "pw2", "pw3"},
			logWant: []string{"handler panic", "kaboom-42", "errorpage.panicky"},
		},
		{
			name:    "plain",
			opts:    Options{Config: config},
			want:    []string{"500 Internal Server Error", "request id"},
			notWant: []string{"kaboom", "panicky", "SOURCE-MARKER", "my-site"},
			logWant: []string{"handler panic", "kaboom-42", "errorpage.panicky", "request_id=", "x=1", "my-site", "visible-header"},
		},
		{
			name:    "template",
			opts:    Options{Template: template.Must(template.New("t").Parse(`custom {{.Status}} id={{.RequestID}}`))},
			want:    []string{"custom 500 id="},
			notWant: []string{"kaboom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logBuf := newLogger()
			tt.opts.Logger = log
			f, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			f(http.HandlerFunc(panicky)).ServeHTTP(rec, failingRequest())
			if rec.Code != 500 {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			body := rec.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("body shows %q", s)
				}
			}
			logs := logBuf.String()
			for _, s := range tt.logWant {
				if !strings.Contains(logs, s) {
					t.Errorf("log lacks %q:\n%s", s, logs)
				}
			}
			for _, s := range []string{"hunter2", "sekrit-token", "sess-value", "pw1", "pw2", "pw3"} {
				if strings.Contains(logs, s) {
					t.Errorf("log shows secret %q", s)
				}
			}
			if t.Failed() {
				t.Logf("body:\n%s", body)
			}
		})
	}
}

func TestRequestIDSharedWithFilter(t *testing.T) {
	log, logBuf := newLogger()
	ep, _ := New(Options{Logger: log})
	rid, _ := requestid.New(requestid.Options{})
	h := rid(ep(http.HandlerFunc(panicky)))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "abc-123") {
		t.Errorf("page lacks the request id: %s", rec.Body)
	}
	if !strings.Contains(logBuf.String(), "request_id=abc-123") {
		t.Errorf("log lacks the request id: %s", logBuf)
	}
}

func TestAbortHandlerRepanicked(t *testing.T) {
	log, logBuf := newLogger()
	f, _ := New(Options{Logger: log})
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
		if logBuf.String() != "" {
			t.Errorf("logged %q for an abort", logBuf)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestPanicAfterStart(t *testing.T) {
	log, logBuf := newLogger()
	f, _ := New(Options{Logger: log, Debug: true})
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		panic("late")
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	if rec.Body.String() != "partial" || rec.Code != 200 {
		t.Errorf("response = %d %q, want the partial response untouched", rec.Code, rec.Body)
	}
	if !strings.Contains(logBuf.String(), "late") {
		t.Errorf("log lacks the panic: %s", logBuf)
	}
}

func TestReport(t *testing.T) {
	log, logBuf := newLogger()
	f, _ := New(Options{Logger: log, Debug: true})
	cause := errors.New("disk on fire")
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Report(w, r, fmt.Errorf("save: %w", cause))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "error: save: disk on fire") ||
		!strings.Contains(rec.Body.String(), "TestReport") {
		t.Errorf("response = %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logBuf.String(), "handler error") {
		t.Errorf("log = %s", logBuf)
	}

	// Without the filter: a plain 500.
	rec = httptest.NewRecorder()
	Report(rec, httptest.NewRequest("GET", "/", nil), cause)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "fire") {
		t.Errorf("without filter: %d %q", rec.Code, rec.Body)
	}
}

func TestHeadHasNoBody(t *testing.T) {
	f, _ := New(Options{Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	f(http.HandlerFunc(panicky)).ServeHTTP(rec, httptest.NewRequest("HEAD", "/", nil))
	if rec.Code != 500 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", rec.Code, rec.Body)
	}
}

func hello(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func allocs(h http.Handler) float64 {
	req := httptest.NewRequest("GET", "/", nil)
	w := &discardWriter{h: http.Header{}}
	return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, req) })
}

func TestNoAllocsOnHappyPath(t *testing.T) {
	f, _ := New(Options{})
	bare, with := allocs(http.HandlerFunc(hello)), allocs(f(http.HandlerFunc(hello)))
	if with > bare {
		t.Errorf("filter adds %v allocations per request, want 0", with-bare)
	}
}

func BenchmarkHappyPath(b *testing.B) {
	f, _ := New(Options{})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", http.HandlerFunc(hello)}, {"errors", f(http.HandlerFunc(hello))}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

func TestStreaming(t *testing.T) {
	f, _ := New(Options{})
	wiretest.Streams(t, f, "/")
}

// smtpSink is a minimal SMTP server on 127.0.0.1:0 that keeps what it is
// sent. It serves until the test ends.
type smtpSink struct {
	addr string
	msgs chan string
	rcpt chan string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	s := &smtpSink{msgs: make(chan string, 10), rcpt: make(chan string, 10)}
	b := &wiretest.Backend{Timeout: 10 * time.Second, Handle: s.serve}
	b.Start(t)
	s.addr = b.Addr()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "220 sink ready\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprintf(c, "250 sink\r\n")
		case strings.HasPrefix(cmd, "RCPT"):
			s.rcpt <- strings.TrimSpace(line)
			fmt.Fprintf(c, "250 ok\r\n")
		case strings.HasPrefix(cmd, "DATA"):
			fmt.Fprintf(c, "354 go on\r\n")
			var msg strings.Builder
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.msgs <- msg.String()
			fmt.Fprintf(c, "250 queued\r\n")
		case strings.HasPrefix(cmd, "QUIT"):
			fmt.Fprintf(c, "221 bye\r\n")
			return
		default:
			fmt.Fprintf(c, "250 ok\r\n")
		}
	}
}

func TestMail(t *testing.T) {
	sink := startSMTPSink(t)
	log, logBuf := newLogger()
	f, err := New(Options{Logger: log, Mail: &Mail{To: []string{"ops@example.com", "dev@example.com"}, From: "site@example.com", Server: sink.addr}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f(http.HandlerFunc(panicky)).ServeHTTP(rec, failingRequest())
	if rec.Code != 500 {
		t.Errorf("status %d", rec.Code)
	}
	var msg string
	select {
	case msg = <-sink.msgs:
	case <-time.After(10 * time.Second):
		t.Fatalf("no mail; log: %s", logBuf)
	}
	for _, s := range []string{"Subject: [gopaste error] panic: kaboom-42", "From: site@example.com", "errorpage.panicky", "/app/do?x=1", "X-Request-Id: "} {
		if !strings.Contains(msg, s) {
			t.Errorf("mail lacks %q:\n%s", s, msg)
		}
	}
	for _, s := range []string{"hunter2", "sekrit-token", "sess-value"} {
		if strings.Contains(msg, s) {
			t.Errorf("mail shows secret %q", s)
		}
	}
	if r1, r2 := <-sink.rcpt, <-sink.rcpt; !strings.Contains(r1, "ops@example.com") || !strings.Contains(r2, "dev@example.com") {
		t.Errorf("recipients %q %q", r1, r2)
	}
}

func TestMailServerDown(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	log, logBuf := newLogger()
	f, _ := New(Options{Logger: log, Mail: &Mail{To: []string{"ops@example.com"}, Server: addr, Timeout: 2 * time.Second}})
	rec := httptest.NewRecorder()
	f(http.HandlerFunc(panicky)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(logBuf.String(), "error report not mailed") {
		t.Errorf("status %d, log %s", rec.Code, logBuf)
	}
}

func TestFactory(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.html")
	os.WriteFile(good, []byte("oops {{.RequestID}}"), 0o644)
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte("oops {{.RequestID"), 0o644)
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string
	}{
		{name: "defaults"},
		{name: "debug", local: map[string]string{"debug": "true", "source_context": "5"}},
		{name: "template", local: map[string]string{"error_template": good}},
		{name: "template relative", local: map[string]string{"error_template": "good.html"}},
		{name: "mail", local: map[string]string{"error_email": "a@example.com, b@example.com", "smtp_server": "127.0.0.1:2525",
			"from_address": "x@example.com", "smtp_username": "u", "smtp_password": "p", "error_subject_prefix": "[x] ", "smtp_timeout": "5"}},
		{name: "bad debug", local: map[string]string{"debug": "sometimes"}, wantErr: `key "debug"`},
		{name: "bad source_context", local: map[string]string{"source_context": "-1"}, wantErr: `key "source_context"`},
		{name: "missing template", local: map[string]string{"error_template": filepath.Join(dir, "none.html")}, wantErr: `key "error_template"`},
		{name: "bad template", local: map[string]string{"error_template": bad}, wantErr: `key "error_template"`},
		{name: "bad error_email", local: map[string]string{"error_email": "not an address"}, wantErr: `key "error_email"`},
		{name: "bad from_address", local: map[string]string{"error_email": "a@b", "from_address": "<<"}, wantErr: `key "from_address"`},
		{name: "bad smtp_server", local: map[string]string{"error_email": "a@b", "smtp_server": "nohostport"}, wantErr: `key "smtp_server"`},
		{name: "bad smtp_timeout", local: map[string]string{"error_email": "a@b", "smtp_timeout": "soon"}, wantErr: `key "smtp_timeout"`},
		{name: "smtp_server without error_email", local: map[string]string{"smtp_server": "h:25"}, wantErr: `key "smtp_server"`},
	}
	for _, alias := range []string{"errors", "egg:Paste#errormiddleware", "egg:Paste#evalerror"} {
		for _, tt := range tests {
			t.Run(alias+"/"+tt.name, func(t *testing.T) {
				registrytest.CheckFilter(t, alias, "filter:errors", filepath.Join(dir, "t.ini"), tt.local, tt.wantErr)
			})
		}
	}
}
