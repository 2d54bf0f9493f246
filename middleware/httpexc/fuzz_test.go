package httpexc

import (
	"net/http/httptest"
	"testing"
)

// FuzzNegotiate feeds Accept headers to the format negotiation: it must
// always pick one of the three body formats, without panicking.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "text/html", "application/json;q=0.5, text/html", "*/*;q=", ";;,,q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := negotiate(r); got != HTML && got != JSON && got != Text {
			t.Fatalf("negotiate(%q) = %v", accept, got)
		}
	})
}
