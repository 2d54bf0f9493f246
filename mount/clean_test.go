package mount_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/mount"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"*":                 "*",
		"/":                 "/",
		"/a/b":              "/a/b",
		"/a/b/":             "/a/b/",
		"//admin/x":         "/admin/x",
		"/./admin/x":        "/admin/x",
		"/x/../admin/x":     "/admin/x",
		"/../../etc/passwd": "/etc/passwd",
		"a/b":               "/a/b",
		"/a/./":             "/a/",
		"/a/.":              "/a",
		"/a//":              "/a/",
		`/\evil`:            `/\evil`,
	} {
		if got := mount.CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCanonicalIssue12 pins issue 12 items 1 and 2: an unclean path is
// redirected to the clean one, and the Location never names another host.
func TestCanonicalIssue12(t *testing.T) {
	for _, tc := range []struct {
		method, target, script string
		code                   int
		loc                    string
	}{
		{"GET", "/admin/x", "", 0, ""},
		{"GET", "//admin/x", "", 301, "/admin/x"},
		{"GET", "/./admin/x?a=1", "", 301, "/admin/x?a=1"},
		{"GET", "/x/../admin/x", "", 301, "/admin/x"},
		{"GET", "/%2e%2e/admin/x", "", 301, "/admin/x"},
		{"GET", "/%2fevil.example%2f..", "", 301, "/"},
		{"GET", "/%2f%2fevil.example/", "", 301, "/evil.example/"},
		{"GET", "/a/./b%2Fc", "", 301, "/a/b%2Fc"},
		{"POST", "//admin/x", "", 308, "/admin/x"},
		{"GET", "//x", "/app", 301, "/app/x"},
		{"GET", "/a%00b", "", 400, ""},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.script != "" {
				r = r.WithContext(mount.WithScriptName(r.Context(), tc.script))
			}
			w := httptest.NewRecorder()
			ok := mount.Canonical(w, r)
			if ok != (tc.code == 0) {
				t.Fatalf("Canonical = %v, want %v", ok, tc.code == 0)
			}
			if tc.code == 0 {
				return
			}
			if w.Code != tc.code {
				t.Errorf("status %d, want %d", w.Code, tc.code)
			}
			if got := w.Header().Get("Location"); got != tc.loc {
				t.Errorf("Location %q, want %q", got, tc.loc)
			}
		})
	}
}

func TestLocationNeverLeavesSite(t *testing.T) {
	for _, tc := range [][3]string{
		{"", "//evil.example/", ""},
		{"", `/\evil.example/`, ""},
		{"", `\\evil.example`, ""},
		{"/", "/evil.example", ""},
		{"//evil.example", "/", "q"},
		{"", "", ""},
	} {
		got := mount.Location(tc[0], tc[1], tc[2])
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.Contains(got, `\`) {
			t.Errorf("Location(%q, %q, %q) = %q", tc[0], tc[1], tc[2], got)
		}
	}
	if got := mount.Location("/app", "/a%20b/", "x=1"); got != "/app/a%20b/?x=1" {
		t.Errorf("Location = %q", got)
	}
}
