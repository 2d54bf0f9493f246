package wiretest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStreams(t *testing.T) {
	h := Streams(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Wrapped", "1")
			next.ServeHTTP(w, r)
		})
	}, "/")
	if h.Get("X-Wrapped") != "1" {
		t.Errorf("header %v", h)
	}
}

func TestStreamsCatchesBuffering(t *testing.T) {
	// A filter that holds the whole reply until the handler returns.
	buffering := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			w.Write(rec.Body.Bytes())
		})
	}
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) { Streams(tb, buffering, "/") })
	if got := f.reported(); !strings.Contains(got, "while the handler waited") {
		t.Errorf("reported %q, want the first read to fail", got)
	}
}

func TestStreamsWithOptions(t *testing.T) {
	var gotAccept string
	resp := StreamsWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotAccept = r.Header.Get("Accept-Encoding")
			next.ServeHTTP(w, r)
		})
	}, "/p", StreamOptions{
		Header:         http.Header{"Accept-Encoding": {"x-test"}},
		ResponseHeader: http.Header{"Content-Type": {"text/html"}},
		Decode: func(r *http.Response) (io.Reader, error) {
			return r.Body, nil
		},
	})
	if gotAccept != "x-test" {
		t.Errorf("the request's Accept-Encoding = %q, want x-test", gotAccept)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
		t.Errorf("Content-Type = %q, want the handler's text/html", ct)
	}
	if resp.Request.URL.Path != "/p" {
		t.Errorf("URL %v", resp.Request.URL)
	}
}

func TestStreamsWithDecodeError(t *testing.T) {
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) {
		StreamsWith(tb, func(h http.Handler) http.Handler { return h }, "/", StreamOptions{
			Decode: func(*http.Response) (io.Reader, error) { return nil, errors.New("not gzip") },
		})
	})
	if got := f.reported(); !strings.Contains(got, "not gzip") {
		t.Errorf("reported %q, want the decode error", got)
	}
}
