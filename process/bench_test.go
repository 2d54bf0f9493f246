package process

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkPool measures a GET through the pool to two Go workers, per
// protocol (the workers' own cost included).
func BenchmarkPool(b *testing.B) {
	for _, proto := range []string{"http", "uwsgi"} {
		b.Run(proto, func(b *testing.B) {
			p, _ := startB(b, proto, Options{Workers: 2, Concurrency: 8})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
					if rec.Code != 200 {
						b.Errorf("status %d", rec.Code)
					}
				}
			})
		})
	}
}
