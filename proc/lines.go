package proc

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// lineWriter logs each line written to it, in pieces of at most max
// bytes. Writes wait until start has given it the pid.
type lineWriter struct {
	log    *slog.Logger
	stream string
	level  slog.Level
	max    int
	ready  chan struct{} // closed by start

	mu  sync.Mutex
	pid int
	buf []byte // the line so far, without its newline
}

func (w *lineWriter) start(pid int) {
	w.mu.Lock()
	w.pid = pid
	w.mu.Unlock()
	close(w.ready)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	<-w.ready
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n')
		if end < 0 {
			end = len(b)
		}
		take := min(end, w.max-len(w.buf))
		w.buf = append(w.buf, b[:take]...)
		b = b[take:]
		switch {
		case len(w.buf) >= w.max:
			w.emit() // a long line, in pieces
		case len(b) > 0 && b[0] == '\n':
			b = b[1:]
			w.emit()
		}
	}
	return n, nil
}

// flush logs the last line when it had no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit()
}

func (w *lineWriter) emit() {
	line := bytes.TrimSuffix(w.buf, []byte("\r"))
	if len(line) > 0 {
		w.log.Log(context.Background(), w.level, "output", "pid", w.pid, "stream", w.stream, "line", string(line))
	}
	w.buf = w.buf[:0]
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
