package errorpage

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicMessageMaskedIssue12: a panic or error message carrying a
// secret (a DSN with its password, "password=...") is masked on the debug
// page and in the log the same way config values are (internal/redact).
func TestPanicMessageMaskedIssue12(t *testing.T) {
	for _, v := range []any{
		"connect postgres://app:hunter2@db/app: refused",
		fmt.Errorf("open store: %w", fmt.Errorf("bad dsn: password=hunter2 host=db")),
	} {
		log, logBuf := newLogger()
		f, err := New(Options{Debug: true, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		f(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(v) })).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		body, logs := rec.Body.String(), logBuf.String()
		if rec.Code != 500 || !strings.Contains(body, "panic: ") {
			t.Fatalf("%d\n%s", rec.Code, body)
		}
		if strings.Contains(body, "hunter2") || strings.Contains(logs, "hunter2") {
			t.Errorf("panic(%q): the password shows\nbody:\n%s\nlog:\n%s", v, body, logs)
		}
		if !strings.Contains(body, "refused") && !strings.Contains(body, "host=db") {
			t.Errorf("panic(%q): the rest of the message is gone:\n%s", v, body)
		}
	}
}
