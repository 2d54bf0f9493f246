// Package started tells a filter whether the response it wraps has begun:
// after that, an error caught further down can only abort the response,
// not replace it with an error page.
package started

import (
	"bufio"
	"net"
	"net/http"
)

// Writer is a ResponseWriter that notes in Started when the response
// began: a final status (or 101), a body byte, a flush or a hijack. A
// 1xx informational status does not start it.
type Writer struct {
	http.ResponseWriter
	Started bool
}

func (w *Writer) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.Started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Writer) Write(b []byte) (int, error) {
	w.Started = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data, which starts the response.
func (w *Writer) Flush() {
	w.Started = true
	http.NewResponseController(w.ResponseWriter).Flush() // no flusher or client gone: nothing to do
}

// FlushError is Flush with its error; ResponseController prefers it.
func (w *Writer) FlushError() error {
	w.Started = true
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.Started = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
