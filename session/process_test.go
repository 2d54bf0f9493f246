package session_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// These tests run two "gopaste serve" processes on one shared store, as
// two prefork workers, two processes or two machines would.

func TestMain(m *testing.M) { os.Exit(peer.Main(m)) }

func gopaste(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs gopaste processes")
	}
	return peer.Gopaste(t)
}

var listenRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// start runs "gopaste serve cfg" and returns its base URL.
func start(t *testing.T, cfg string) string {
	t.Helper()
	cmd := exec.Command(gopaste(t), "serve", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	var logs strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("gopaste serve did not log its address:\n%s", logs.String())
	}
	return ""
}

var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func call(t *testing.T, method, u string, form url.Values, cookie *http.Cookie) (int, info, *http.Cookie) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, _ := http.NewRequest(method, u, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	resp, err := noRedirect.Do(r)
	if err != nil {
		t.Errorf("%s %s: %v", method, u, err)
		return 0, info{}, cookie
	}
	defer resp.Body.Close()
	var in info
	json.NewDecoder(resp.Body).Decode(&in) // non-JSON answers leave in zero; callers check
	for _, c := range resp.Cookies() {
		cookie = c
	}
	return resp.StatusCode, in, cookie
}

func TestTwoProcessesShareOneStore(t *testing.T) {
	for _, tc := range []struct {
		store string
		keys  func(t *testing.T, dir string) string
	}{
		{"file", func(t *testing.T, dir string) string { return "path = sessions" }},
		{"sqlite", func(t *testing.T, dir string) string { return "path = sessions.db" }},
		{"redis", func(t *testing.T, dir string) string {
			c, err := redisconn.Open("redis://127.0.0.1:6379/0?dial_timeout=1s")
			if err != nil {
				t.Fatal(err)
			}
			storetest.Require(t, "redis", c.Ping(t.Context()))
			prefix := storetest.Namespace(t) + ":"
			t.Cleanup(func() {
				c.DeletePrefix(context.Background(), prefix)
				c.Close()
			})
			return "url = redis://127.0.0.1:6379/0\nprefix = " + prefix
		}},
		{"postgres", func(t *testing.T, dir string) string {
			const dsn = "postgres://postgres@127.0.0.1:5432/test"
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			db, err := pgstore.OpenDB(dsn)
			if err == nil {
				err = db.PingContext(ctx)
			}
			storetest.Require(t, "postgres", err)
			table := storetest.Namespace(t)
			t.Cleanup(func() {
				db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
				db.Close()
			})
			return "dsn = " + dsn + "\ntable = " + table
		}},
	} {
		t.Run(tc.store, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "site.ini")
			ini := `[server:main]
use = http
host = 127.0.0.1
port = 0

[pipeline:main]
pipeline = sess info

[filter:sess]
use = session
store = ` + tc.store + `
` + tc.keys(t, dir) + `
lock = exclusive

[app:info]
use = session_info
`
			if err := os.WriteFile(cfg, []byte(ini), 0o644); err != nil {
				t.Fatal(err)
			}
			a, b := start(t, cfg), start(t, cfg)
			code, _, cookie := call(t, "POST", a+"/login", url.Values{"user": {"ann"}}, nil)
			if code != http.StatusSeeOther || cookie == nil {
				t.Fatalf("login on the first process: %d, cookie %v", code, cookie)
			}
			code, in, _ := call(t, "GET", b+"/", nil, cookie)
			if code != 200 || in.User != "ann" || in.Visits != 1 {
				t.Fatalf("the second process after login: %d %+v; want user ann, visit 1", code, in)
			}
			const n = 40
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					base := a
					if i%2 == 1 {
						base = b
					}
					if code, _, _ := call(t, "GET", base+"/", nil, cookie); code != 200 {
						t.Errorf("concurrent GET: %d", code)
					}
				}()
			}
			wg.Wait()
			if _, in, _ := call(t, "GET", a+"/", nil, cookie); in.Visits != n+2 {
				t.Errorf("visits after %d concurrent increments over two processes = %d, want %d", n, in.Visits, n+2)
			}
			if code, _, _ := call(t, "POST", b+"/logout", url.Values{}, cookie); code != http.StatusSeeOther {
				t.Errorf("logout on the second: %d", code)
			}
			if _, in, _ := call(t, "GET", a+"/", nil, cookie); in.User != "" || in.Visits != 1 {
				t.Errorf("the first process after logout on the second: %+v; want a fresh session", in)
			}
		})
	}
}
