package cache

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

func newConfig(local ...registry.Entry) *registry.Config {
	for i := range local {
		local[i].Origin = "t.ini:" + string(rune('2'+i))
	}
	return registry.NewConfig(registry.Filter, "filter:cache", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
}

func TestFactory(t *testing.T) {
	c := newConfig(
		registry.Entry{Key: "max_bytes", Value: "1M"},
		registry.Entry{Key: "max_entry_bytes", Value: "10K"},
		registry.Entry{Key: "default_ttl", Value: "60"},
		registry.Entry{Key: "keep_stale", Value: "1h"},
		registry.Entry{Key: "key_prefix", Value: "x:"},
	)
	filter, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %v", u)
	}
	be := &backend{} // no Cache-Control: default_ttl applies
	h := filter(be)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Header().Get("X-Cache") != "HIT" {
		t.Errorf("default_ttl not applied: X-Cache %q", w.Header().Get("X-Cache"))
	}
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name  string
		local []registry.Entry
		want  string
	}{
		{"bad size", []registry.Entry{{Key: "max_bytes", Value: "lots"}}, `key "max_bytes"`},
		{"zero size", []registry.Entry{{Key: "max_bytes", Value: "0"}}, `key "max_bytes": must be more than 0`},
		{"bad ttl", []registry.Entry{{Key: "default_ttl", Value: "soon"}}, `key "default_ttl"`},
		{"zero entry", []registry.Entry{{Key: "max_entry_bytes", Value: "0"}}, `key "max_entry_bytes"`},
		{"not redis", []registry.Entry{{Key: "url", Value: "memcache://x"}}, `key "url": "memcache://x" is not a redis:// URL`},
		{"bad redis url", []registry.Entry{{Key: "url", Value: "redis://127.0.0.1:6379/notadb"}}, `key "url"`},
		{"max_bytes with redis", []registry.Entry{{Key: "url", Value: "redis://127.0.0.1:6379/0"}, {Key: "max_bytes", Value: "1M"}}, `key "max_bytes": applies to the memory store only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig(tt.local...)
			_, err := factory(c)
			for _, cl := range c.Closers() {
				cl.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "[filter:cache]") {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
