package static

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/mount"
)

// TestStaticOpenRedirectIssue12 pins issue 12 item 2: GET
// /%2fevil.example%2f.. answered 301 Location: //evil.example/../.
func TestStaticOpenRedirectIssue12(t *testing.T) {
	h, dir := newDir(t, Options{})
	// A directory whose name would make the trailing-slash redirect
	// scheme-relative if it were not escaped.
	os.MkdirAll(filepath.Join(dir, "root", `\evil.example`), 0o755)
	for _, target := range []string{
		"/%2fevil.example%2f..",
		"//evil.example/..",
		"/%2f%2fevil.example",
		"/%5cevil.example",
		`/%5C%5Cevil.example/..`,
		"/sub/..%2f%2fevil.example",
	} {
		w := do(h, httptest.NewRequest("GET", target, nil))
		loc := w.Header().Get("Location")
		if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.Contains(loc, `\`) {
			t.Errorf("GET %s: %d Location %q leaves the site", target, w.Code, loc)
		}
		if w.Code/100 == 3 && !strings.HasPrefix(loc, "/") {
			t.Errorf("GET %s: %d Location %q", target, w.Code, loc)
		}
	}
	w := do(h, httptest.NewRequest("GET", "/%2fevil.example%2f..", nil))
	if w.Code != 301 || w.Header().Get("Location") != "/" {
		t.Errorf("GET /%%2fevil.example%%2f..: %d Location %q, want 301 /", w.Code, w.Header().Get("Location"))
	}
}

// TestStaticHiddenFilesIssue12 checks dotfiles are neither served nor
// listed unless ServeHidden is set; .well-known is.
func TestStaticHiddenFilesIssue12(t *testing.T) {
	for _, serve := range []bool{false, true} {
		t.Run(fmt.Sprintf("serve_hidden=%v", serve), func(t *testing.T) {
			h, dir := newDir(t, Options{ServeHidden: serve, Listing: true})
			root := filepath.Join(dir, "root")
			os.WriteFile(filepath.Join(root, ".env"), []byte("DB_PASSWORD=x"), 0o644)
			os.WriteFile(filepath.Join(root, ".htpasswd"), []byte("alice:x"), 0o644)
			os.MkdirAll(filepath.Join(root, ".git"), 0o755)
			os.WriteFile(filepath.Join(root, ".git", "config"), []byte("[core]"), 0o644)
			os.MkdirAll(filepath.Join(root, "sub", ".svn"), 0o755)
			os.WriteFile(filepath.Join(root, "sub", ".svn", "entries"), []byte("svn"), 0o644)
			os.MkdirAll(filepath.Join(root, ".well-known"), 0o755)
			os.WriteFile(filepath.Join(root, ".well-known", "security.txt"), []byte("Contact: x"), 0o644)
			want := 404
			if serve {
				want = 200
			}
			for _, p := range []string{"/.env", "/.htpasswd", "/.git/config", "/.git/", "/sub/.svn/entries", "/%2eenv"} {
				if w := do(h, httptest.NewRequest("GET", p, nil)); w.Code != want {
					t.Errorf("GET %s: %d, want %d", p, w.Code, want)
				}
			}
			if w := do(h, httptest.NewRequest("GET", "/.well-known/security.txt", nil)); w.Code != 200 {
				t.Errorf("GET /.well-known/security.txt: %d", w.Code)
			}
			list := do(h, httptest.NewRequest("GET", "/empty/../", nil)) // redirected to /
			if list.Code != 301 {
				t.Fatalf("GET /empty/../: %d", list.Code)
			}
			body := do(h, httptest.NewRequest("GET", "/", nil)).Body.String()
			for _, n := range []string{".env", ".git/", ".htpasswd"} {
				if strings.Contains(body, n) != serve {
					t.Errorf("listing shows %s: %v, want %v\n%s", n, !serve, serve, body)
				}
			}
			if !strings.Contains(body, ".well-known/") {
				t.Errorf("listing hides .well-known:\n%s", body)
			}
		})
	}
}

// TestStaticRangesBoundedIssue12: 20,000 "0-0" ranges returned 36 times
// the file. Too many or overlapping ranges now get the file once (200);
// a few disjoint ranges still get 206.
func TestStaticRangesBoundedIssue12(t *testing.T) {
	for _, mem := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("memory_cache=%d", mem), func(t *testing.T) {
			h, dir := newDir(t, Options{MemoryCache: mem})
			data := strings.Repeat("0123456789", 2000) // 20,000 bytes
			os.WriteFile(filepath.Join(dir, "root", "big.txt"), []byte(data), 0o644)
			get := func(rng string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", "/big.txt", nil)
				r.Header.Set("Range", rng)
				do(h, r) // the second answer may come from the memory cache
				return do(h, r)
			}
			many := "bytes=" + strings.TrimSuffix(strings.Repeat("0-0,", 20000), ",")
			if w := get(many); w.Code != 200 || w.Body.Len() != len(data) {
				t.Errorf("20,000 ranges: %d, %d bytes (file %d)", w.Code, w.Body.Len(), len(data))
			}
			tiny := "bytes="
			for i := range MaxRanges + 1 {
				tiny += fmt.Sprintf("%d-%d,", i*10, i*10)
			}
			if w := get(strings.TrimSuffix(tiny, ",")); w.Code != 200 || w.Body.Len() != len(data) {
				t.Errorf("%d tiny ranges: %d, %d bytes", MaxRanges+1, w.Code, w.Body.Len())
			}
			for _, overlap := range []string{"bytes=0-100,50-150", "bytes=0-,-10", "bytes=5-5,5-5"} {
				if w := get(overlap); w.Code != 200 || w.Body.Len() != len(data) {
					t.Errorf("%s: %d, %d bytes", overlap, w.Code, w.Body.Len())
				}
			}
			w := get("bytes=0-1,10-11")
			if w.Code != 206 || !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/byteranges") {
				t.Errorf("two disjoint ranges: %d %q", w.Code, w.Header().Get("Content-Type"))
			}
			if w.Body.Len() > 1000 {
				t.Errorf("two 2-byte ranges: %d bytes", w.Body.Len())
			}
			if w := get("bytes=2-4"); w.Code != 206 || w.Body.String() != "234" {
				t.Errorf("one range: %d %q", w.Code, w.Body)
			}
		})
	}
}

// fileName, given a path Canonical accepts, names what path.Clean would:
// the path is cleaned once, by mount, and never differently here.
func FuzzFileName(f *testing.F) {
	for _, p := range []string{"", "/", "*", "/a", "/a/", "/a/b.txt", "/.well-known/x", "/a//b", "/a/../b", "/./a", "a", "/a\\b", "/%2e%2e/"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if mount.CleanPath(p) != p {
			return // Canonical redirects it
		}
		want := strings.TrimPrefix(path.Clean("/"+p), "/")
		if want == "" {
			want = "."
		}
		if got := fileName(p); got != want {
			t.Errorf("fileName(%q) = %q, path.Clean gives %q", p, got, want)
		}
	})
}
