package profile

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSymbol feeds the symbol endpoint arbitrary bodies: it must answer
// 200 with the header line and never panic.
func FuzzSymbol(f *testing.F) {
	f.Add("0x401000+0x0+garbage")
	f.Add("+++")
	f.Add("18446744073709551615")
	mw, err := New(Options{Key: "k"})
	if err != nil {
		f.Fatal(err)
	}
	h := mw(next)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/_profile/symbol?key=k", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "num_symbols: 1\n") {
			t.Fatalf("symbol(%q) = %d %q", body, w.Code, w.Body)
		}
	})
}
