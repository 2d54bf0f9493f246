package registry

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func nopProtocol(http.Handler, ProtocolOptions, *slog.Logger) (Serving, error) { return nil, nil }

// testProtocols is an isolated registry with protocols claiming 'a', 'b'
// and, last, anything.
func testProtocols(t *testing.T) *Registry {
	t.Helper()
	r := New()
	for _, p := range []struct {
		name    string
		order   int
		article string
		sniff   func([]byte) bool
	}{
		{"rest", 90, "", func([]byte) bool { return true }},
		{"bee", 20, "a Bee", func(b []byte) bool { return b[0] == 'b' }},
		{"ay", 10, "an Ay", func(b []byte) bool { return b[0] == 'a' }},
		{"quiet", 5, "", nil},
	} {
		if err := r.AddProtocol(p.name, Protocol{New: nopProtocol, Sniff: p.sniff, Order: p.order, Article: p.article}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestProtocolsInSniffingOrder(t *testing.T) {
	r := testProtocols(t)
	var names []string
	for _, p := range r.Protocols() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "quiet ay bee rest" {
		t.Errorf("Protocols() = %q, want by Order", got)
	}
	for in, want := range map[string]string{"abc": "ay", "bcd": "bee", "xyz": "rest", "": ""} {
		if got := r.Detect([]byte(in)); got != want {
			t.Errorf("Detect(%q) = %q, want %q", in, got, want)
		}
	}
	if Default.Detect([]byte("abc")) == "ay" {
		t.Error("an isolated registry's protocol reached Default")
	}
}

func TestMismatch(t *testing.T) {
	r := testProtocols(t)
	for _, c := range []struct{ want, in, msg string }{
		{"bee", "abc", "received an Ay request on a Bee socket"},
		{"ay", "xyz", "received a rest request on an Ay socket"},
		{"unknown", "bcd", "received a Bee request on a unknown socket"},
		{"ay", "abc", ""},
		{"ay", "", ""},
	} {
		if got := r.Mismatch(c.want, []byte(c.in)); got != c.msg {
			t.Errorf("Mismatch(%q, %q) = %q, want %q", c.want, c.in, got, c.msg)
		}
	}
}

func TestAddProtocolAndStoreRefuse(t *testing.T) {
	r := testProtocols(t)
	if err := r.AddProtocol("ay", Protocol{New: nopProtocol}, "again"); err == nil {
		t.Error("a second protocol named ay was accepted")
	}
	if err := r.AddProtocol("nofactory", Protocol{}, "x"); err == nil {
		t.Error("a protocol without New was accepted")
	}
	if err := r.Add(Part{Kind: StoreKind, Name: "nostore"}); err == nil {
		t.Error("a store without a factory was accepted")
	}
	if err := r.Add(Part{Kind: StoreKind, Name: "ay", Store: func() {}}); err != nil {
		t.Errorf("stores and protocols share a namespace: %v", err)
	}
	if p, ok := r.Lookup(StoreKind, "ay"); !ok || p.Kind != StoreKind {
		t.Errorf("Lookup(StoreKind, ay) = %v, %v", p, ok)
	}
}
