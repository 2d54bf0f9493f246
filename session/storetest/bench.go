package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gopaste/gopaste/session"
)

// RawFunc is a store's own round trip through its driver, without the
// session package: read key, then write data under it (GET+SET in Redis,
// SELECT+UPSERT in SQL, read+write of a file).
type RawFunc func(ctx context.Context, key string, data []byte) error

// nullWriter is a ResponseWriter that keeps nothing, so that benchmarks
// measure the filter rather than a recorder.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// counter is the benchmarked handler: load, modify, save.
var counter = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n := 0
	s := session.From(r.Context())
	if s != nil {
		n = s.GetInt("visits") + 1
		s.Put("visits", n)
	}
	w.Write(strconv.AppendInt(nil, int64(n), 10))
})

// Bench runs, at b.SetParallelism 1, 16 and 64 (goroutines = that times
// GOMAXPROCS), three variants, each goroutine on a session of its own:
//
//	bare    the handler without the filter
//	filter  the handler behind the session filter on s (load+modify+save)
//	raw     raw, the store's own round trip with its driver
func Bench(b *testing.B, s session.Store, raw RawFunc) {
	m, err := session.New(session.Options{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	filtered := m.Handler(counter)
	var seq atomic.Int64
	data := []byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"values":{"visits":7}}`)
	for _, p := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("bare/p=%d", p), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(p)
			b.RunParallel(func(pb *testing.PB) {
				r, _ := http.NewRequest("GET", "/", nil)
				w := &nullWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					counter.ServeHTTP(w, r)
				}
			})
		})
		b.Run(fmt.Sprintf("filter/p=%d", p), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(p)
			b.RunParallel(func(pb *testing.PB) {
				r, _ := http.NewRequest("GET", "/", nil)
				w := &nullWriter{h: http.Header{}}
				filtered.ServeHTTP(w, r) // creates this goroutine's session
				c, err := http.ParseSetCookie(w.h.Get("Set-Cookie"))
				if err != nil {
					b.Error(err)
					return
				}
				r.AddCookie(c)
				for pb.Next() {
					clear(w.h)
					filtered.ServeHTTP(w, r)
				}
			})
		})
		b.Run(fmt.Sprintf("raw/p=%d", p), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(p)
			b.RunParallel(func(pb *testing.PB) {
				key := Key(b, "raw"+strconv.FormatInt(seq.Add(1), 10))
				ctx := context.Background()
				if err := raw(ctx, key, data); err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					if err := raw(ctx, key, data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
