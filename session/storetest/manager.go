package storetest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/session"
)

type visit struct {
	Visits int    `json:"visits"`
	User   string `json:"user"`
}

// get runs GET / on h with cookie, returning the status, the body and
// the cookie the response set (or the one given).
func get(h http.Handler, method, path string, form url.Values, cookie *http.Cookie) (int, visit, *http.Cookie) {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var v visit
	json.Unmarshal(w.Body.Bytes(), &v) // a non-JSON body leaves v zero, which the callers check
	for _, c := range w.Result().Cookies() {
		cookie = c
	}
	return w.Code, v, cookie
}

// RunManagers runs two session managers, each on its own handle from
// newStore (as two gopaste processes sharing the store would be), with
// lock = exclusive: concurrent increments of one session through both
// are all counted, and a login on one continues on the other.
func RunManagers(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("TwoManagers", func(t *testing.T) {
		var hs [2]http.Handler
		for i := range hs {
			m, err := session.New(session.Options{Store: newStore(t), Lock: session.LockExclusive,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			hs[i] = m.Handler(session.Info{})
		}
		code, _, cookie := get(hs[0], "POST", "/login", url.Values{"user": {"ann"}}, nil)
		if code != http.StatusSeeOther || cookie == nil {
			t.Fatalf("login on the first = %d, cookie %v", code, cookie)
		}
		code, v, cookie := get(hs[1], "GET", "/", nil, cookie)
		if code != 200 || v.User != "ann" || v.Visits != 1 {
			t.Fatalf("the second after login: %d %+v; want 200, user ann, visit 1", code, v)
		}
		const n = 24
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, _, _ := get(hs[i%2], "GET", "/", nil, cookie); code != 200 {
					t.Errorf("concurrent GET = %d", code)
				}
			}()
		}
		wg.Wait()
		_, v, _ = get(hs[0], "GET", "/", nil, cookie)
		if v.Visits != n+2 {
			t.Errorf("visits after %d concurrent increments on two managers = %d, want %d", n, v.Visits, n+2)
		}
	})
}

// RunOutage runs a session manager on s, whose server is reached through
// p: while p is down requests get 503 and the reason is logged; when it
// is back the session carries on.
func RunOutage(t *testing.T, s session.Store, p *Proxy) {
	logs := &logbuf.Buffer{}
	m, err := session.New(session.Options{Store: s, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(session.Info{})
	_, _, cookie := get(h, "GET", "/", nil, nil)
	code, v, _ := get(h, "GET", "/", nil, cookie)
	if code != 200 || v.Visits != 2 {
		t.Fatalf("before the outage: %d %+v", code, v)
	}
	p.Down()
	if code, _, _ := get(h, "GET", "/", nil, cookie); code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d, want 503", code)
	}
	if code, _, _ := get(h, "GET", "/", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("store down, new visitor: %d, want 503", code)
	}
	if !strings.Contains(logs.String(), "session store error") {
		t.Errorf("no logged reason:\n%s", logs.String())
	}
	p.Up(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, v, _ = get(h, "GET", "/", nil, cookie)
		if code == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the client reconnects in its own time
	}
	if code != 200 || v.Visits != 3 {
		t.Errorf("after the store came back: %d %+v; want 200 and visit 3", code, v)
	}
}
