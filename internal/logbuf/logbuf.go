// Package logbuf is a buffer that several goroutines may write to at
// once, for tests that collect a server's log output (slog handlers,
// log.Logger, a child process's stderr) and read it while it runs.
package logbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it. Its zero value is ready to use;
// it is safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
