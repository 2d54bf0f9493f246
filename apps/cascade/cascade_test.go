package cascade

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func status(code int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-From", body)
		w.WriteHeader(code)
		io.WriteString(w, body+":"+string(b))
	})
}

func TestCascadeFallsThrough(t *testing.T) {
	c := &Cascade{Apps: []http.Handler{status(404, "one"), status(403, "two"), status(200, "three")}, Catch: []int{404, 403}}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader("payload")))
	if w.Code != 200 || w.Body.String() != "three:payload" || w.Header().Get("X-From") != "three" {
		t.Errorf("got %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestCascadeStopsAtFirstAnswer(t *testing.T) {
	c := &Cascade{Apps: []http.Handler{status(404, "one"), status(500, "two"), status(200, "three")}}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || w.Body.String() != "two:" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestCascadeLastAnswerEvenIfCaught(t *testing.T) {
	c := &Cascade{Apps: []http.Handler{status(404, "one"), status(404, "two")}}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 404 || w.Body.String() != "two:" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestCascadeSpoolsLargeBodies(t *testing.T) {
	big := strings.Repeat("x", 3000)
	c := &Cascade{Apps: []http.Handler{status(404, "one"), status(200, "two")}, MemBody: 1000}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest("PUT", "/", strings.NewReader(big)))
	if w.Body.String() != "two:"+big {
		t.Errorf("spooled body not replayed whole: %d bytes", w.Body.Len())
	}
}

func TestCascadeStreamsFlush(t *testing.T) {
	flushed := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through cascade: %v", err)
		}
		close(flushed)
	})
	srv := httptest.NewServer(&Cascade{Apps: []http.Handler{status(404, "x"), app, status(200, "never")}})
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-flushed
	if string(b) != "first" {
		t.Errorf("body %q", b)
	}
}

// TestCascadeCleanPathIssue12: the cascade decides on the clean path, as
// urlmap does; an unclean one is redirected before any app is tried.
func TestCascadeCleanPathIssue12(t *testing.T) {
	tried := 0
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tried++; w.WriteHeader(404) })
	c := &Cascade{Apps: []http.Handler{app, status(200, "last")}}
	for target, loc := range map[string]string{"//admin/x": "/admin/x", "/a/../admin/x?q=1": "/admin/x?q=1", "/%2e/admin": "/admin"} {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != 301 || w.Header().Get("Location") != loc {
			t.Errorf("GET %s: %d Location %q, want 301 %q", target, w.Code, w.Header().Get("Location"), loc)
		}
	}
	if tried != 0 {
		t.Errorf("an app was tried %d times with an unclean path", tried)
	}
}
