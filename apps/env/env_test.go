package env

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/mount"
)

func TestEnvDumpsRequestAndConfig(t *testing.T) {
	h := &Handler{GlobalConf: map[string]string{"debug": "true"}, LocalConf: map[string]string{"k": "v"}, MaxBody: 4}
	r := httptest.NewRequest("POST", "http://example.org:8081/app/x?q=1", strings.NewReader("abcdefgh"))
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Custom-Thing", "yes")
	r = mount.Shift(r, "/app")
	r = r.WithContext(auth.WithUser(r.Context(), "alice"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, w.Body)
	}
	want := map[string]any{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": "/x", "QUERY_STRING": "q=1",
		"SERVER_NAME": "example.org", "SERVER_PORT": "8081", "CONTENT_TYPE": "text/plain",
		"CONTENT_LENGTH": "8", "REMOTE_USER": "alice", "HTTP_X_CUSTOM_THING": "yes", "body": "abcd", "body_truncated": true, "HTTPS": "off",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["HTTP_CONTENT_TYPE"]; ok {
		t.Error("Content-Type also shown as HTTP_CONTENT_TYPE")
	}
	if gc := got["global_conf"].(map[string]any); gc["debug"] != "true" {
		t.Errorf("global_conf = %v", gc)
	}
	if lc := got["local_conf"].(map[string]any); lc["k"] != "v" {
		t.Errorf("local_conf = %v", lc)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestEnvMasksSecretsIssue12: the env app showed every config value,
// passwords and DSNs included.
func TestEnvMasksSecretsIssue12(t *testing.T) {
	h := &Handler{
		GlobalConf: map[string]string{"db_password": "hunter2", "database_url": "postgres://app:hunter3@db/app", "debug": "true"},
		LocalConf:  map[string]string{"secret": "s3cr3t-value", "api_token": "tok-123", "signing_key": "k-456", "dsn": "u:p@tcp(db)/x", "title": "site"},
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	body := w.Body.String()
	for _, s := range []string{"hunter2", "hunter3", "s3cr3t-value", "tok-123", "k-456", "u:p@tcp"} {
		if strings.Contains(body, s) {
			t.Errorf("env shows %q:\n%s", s, body)
		}
	}
	for _, s := range []string{`"debug": "true"`, `"title": "site"`, `"db_password": "********"`, "postgres://app:xxxxx@db/app"} {
		if !strings.Contains(body, s) {
			t.Errorf("env lacks %q:\n%s", s, body)
		}
	}
}

// The request's own credentials are masked unless show_credentials is
// set: a script on the same origin could otherwise read HttpOnly cookies
// through the env app.
func TestEnvMasksCredentials(t *testing.T) {
	for _, show := range []bool{false, true} {
		h := &Handler{ShowCredentials: show}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "sid=s3cr3t-cookie")
		r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
		r.Header.Set("Proxy-Authorization", "Bearer proxy-tok")
		r.Header.Set("X-Request-Token-Name", "shown")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, w.Body)
		}
		want := map[string]any{
			"HTTP_COOKIE": "sid=s3cr3t-cookie", "HTTP_AUTHORIZATION": "Basic YWxpY2U6cHc=",
			"HTTP_PROXY_AUTHORIZATION": "Bearer proxy-tok",
		}
		for k, v := range want {
			if !show {
				v = "********"
			}
			if got[k] != v {
				t.Errorf("show_credentials=%v: %s = %v, want %v", show, k, got[k], v)
			}
		}
		if got["HTTP_X_REQUEST_TOKEN_NAME"] != "shown" {
			t.Errorf("other headers are shown as sent: %v", got["HTTP_X_REQUEST_TOKEN_NAME"])
		}
	}
}
