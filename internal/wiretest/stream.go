package wiretest

// This file is the streaming check the filters' tests share: a handler
// that flushes a first part and waits, behind a filter, on a real server.

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// StreamFirst and StreamRest are the two parts [Streams]' handler
// writes, flushing after the first.
const (
	StreamFirst = "first\n"
	StreamRest  = "second\n"
)

// StreamOptions vary the request [StreamsWith] sends, the handler's
// header and how the body is read. The zero value is [Streams]' plain GET.
type StreamOptions struct {
	// Header is added to the request (an Accept-Encoding for a
	// compressing filter).
	Header http.Header
	// ResponseHeader is set by the handler before it writes (a
	// Content-Type a filter treats apart, a Cache-Control).
	ResponseHeader http.Header
	// Decode, when set, returns the reader the body is read through as it
	// arrives (a gzip reader for a compressing filter).
	Decode func(*http.Response) (io.Reader, error)
}

// Streams serves a handler that writes StreamFirst, flushes, waits, and
// writes StreamRest, wrapped by wrap, on an httptest server, and GETs
// path from it. It fails the test unless the first part reaches the
// client while the handler still waits (the filter passed the Flush on)
// and the rest follows. It returns the response's header once the server
// is closed, so the handler has returned and whatever the filter does
// after it (a log line) is done.
func Streams(t testing.TB, wrap func(http.Handler) http.Handler, path string) http.Header {
	t.Helper()
	return StreamsWith(t, wrap, path, StreamOptions{}).Header
}

// StreamsWith is [Streams] with options. It returns the response, its
// body read, once the server is closed; its Request's URL is where the
// server was.
func StreamsWith(t testing.TB, wrap func(http.Handler) http.Handler, path string, o StreamOptions) *http.Response {
	t.Helper()
	release := make(chan struct{})
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range o.ResponseHeader {
			w.Header()[k] = vs
		}
		io.WriteString(w, StreamFirst)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, StreamRest)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range o.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v: nothing arrived while the handler waited", path, err)
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if o.Decode != nil {
		if body, err = o.Decode(resp); err != nil {
			close(release)
			t.Fatalf("decoding the body (Content-Encoding %q): %v: nothing usable arrived while the handler waited",
				resp.Header.Get("Content-Encoding"), err)
		}
	}
	br := bufio.NewReader(body)
	if line, err := br.ReadString('\n'); err != nil || line != StreamFirst {
		close(release)
		t.Fatalf("first read = %q, %v: want %q while the handler waited", line, err, StreamFirst)
	}
	close(release)
	if rest, _ := io.ReadAll(br); string(rest) != StreamRest {
		t.Errorf("rest = %q, want %q", rest, StreamRest)
	}
	return resp
}
