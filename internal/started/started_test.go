package started

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStarted(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(w *Writer)
		want bool
	}{
		{"nothing", func(w *Writer) {}, false},
		{"103 Early Hints", func(w *Writer) { w.WriteHeader(http.StatusEarlyHints) }, false},
		{"101", func(w *Writer) { w.WriteHeader(http.StatusSwitchingProtocols) }, true},
		{"200", func(w *Writer) { w.WriteHeader(200) }, true},
		{"a body byte", func(w *Writer) { w.Write([]byte("x")) }, true},
		{"an empty write", func(w *Writer) { w.Write(nil) }, true},
		{"Flush through ResponseController", func(w *Writer) { http.NewResponseController(w).Flush() }, true},
		{"Hijack", func(w *Writer) { w.Hijack() }, true},
	} {
		rec := httptest.NewRecorder()
		w := &Writer{ResponseWriter: rec}
		tc.do(w)
		if w.Started != tc.want {
			t.Errorf("%s: Started %v, want %v", tc.name, w.Started, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	w := &Writer{ResponseWriter: rec}
	http.NewResponseController(w).Flush()
	if !rec.Flushed {
		t.Error("Flush did not reach the underlying writer")
	}
}
