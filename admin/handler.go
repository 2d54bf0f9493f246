package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// DefaultRefresh is how often, in seconds, the status page reloads itself.
const DefaultRefresh = 10

// Handler returns the admin endpoints of h:
//
//   - /status: the HTML page (?refresh=N reloads it every N seconds,
//     default 10, 0 never);
//   - /status.json: the [Snapshot] as JSON;
//   - /metrics: Prometheus text format;
//   - /healthz: 200 "ok" while the server serves, else 503;
//   - /readyz: 200 "ready" while it serves and every worker source is
//     ready ([Hub.Ready]), else 503 with the reason.
//
// "/" redirects to /status. Other methods than GET and HEAD get 405.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "status", http.StatusFound)
	})
	mux.HandleFunc("GET /status", h.serveStatus)
	mux.HandleFunc("GET /status.json", h.serveJSON)
	mux.HandleFunc("GET /metrics", h.serveMetrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !h.Serving() {
			plain(w, http.StatusServiceUnavailable, "not serving\n")
			return
		}
		plain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := h.Ready(); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
			return
		}
		plain(w, http.StatusOK, "ready\n")
	})
	return mux
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(body)) // the client may be gone: nothing to do
}

func (h *Hub) serveStatus(w http.ResponseWriter, r *http.Request) {
	refresh := DefaultRefresh
	if v := r.URL.Query().Get("refresh"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3600 {
			plain(w, http.StatusBadRequest, "refresh: want seconds from 0 to 3600\n")
			return
		}
		refresh = n
	}
	var b bytes.Buffer
	if err := writePage(&b, h.Snapshot(), refresh); err != nil {
		plain(w, http.StatusInternalServerError, "rendering the status page failed\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes()) // the client may be gone: nothing to do
}

func (h *Hub) serveJSON(w http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(h.Snapshot(), "", "  ")
	if err != nil {
		plain(w, http.StatusInternalServerError, "encoding the status failed\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n')) // the client may be gone: nothing to do
}
