package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fetch reads the snapshot an admin listener serves at /status.json.
// addr is the listener's URL ("http://127.0.0.1:9191"), its HOST:PORT,
// or unix:PATH for a unix socket.
func Fetch(ctx context.Context, addr string) (Snapshot, error) {
	var s Snapshot
	client := &http.Client{Timeout: 10 * time.Second}
	url := strings.TrimSuffix(addr, "/")
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		url = "http://admin"
	} else if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	url = strings.TrimSuffix(url, "/status")
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/status.json", nil)
	if err != nil {
		return s, fmt.Errorf("admin: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("admin: %s: %s", req.URL, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&s); err != nil {
		return s, fmt.Errorf("admin: %s: %w", req.URL, err)
	}
	if t, ok := client.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	return s, nil
}
