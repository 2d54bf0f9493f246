package admin

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	hub, _ := fixture(t)
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, addr := range []string{srv.URL, srv.URL + "/", srv.URL + "/status", host} {
		s, err := Fetch(t.Context(), addr)
		if err != nil {
			t.Errorf("Fetch(%q): %v", addr, err)
			continue
		}
		if len(s.Workers) != 6 || len(s.Mounts) != 3 {
			t.Errorf("Fetch(%q): %d workers, %d mounts", addr, len(s.Workers), len(s.Mounts))
		}
	}
	if _, err := Fetch(t.Context(), srv.URL+"/nowhere"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a URL that is not an admin listener: %v", err)
	}
}
