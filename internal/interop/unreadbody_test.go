package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestNginxUnreadBody is issue 9's live bug: behind nginx, a 1 MiB POST to
// an app that reads only the first 64 KiB lost its reply now and then
// (nginx: "readv() failed (104: Connection reset by peer) while reading
// upstream") because the server closed the connection with body unread.
// Every gateway server must deliver the whole reply, 100 times in a row.
func TestNginxUnreadBody(t *testing.T) {
	peer.Require(t, "nginx")
	const reads, replyLen = 64 << 10, 200 << 10
	reply := bytes.Repeat([]byte("0123456789abcdef"), replyLen/16)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.CopyN(io.Discard, r.Body, reads)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Read", fmt.Sprint(n))
		w.Write(reply)
	})
	log := slog.New(slog.DiscardHandler)
	servers := []struct {
		name  string
		serve interface {
			Serve(net.Listener) error
			Shutdown(context.Context) error
		}
		pass string
	}{
		{"scgi", &scgi.Server{Handler: app, Logger: log}, "include /etc/nginx/scgi_params;\nscgi_pass %s;"},
		{"uwsgi", &uwsgi.Server{Handler: app, Logger: log}, "include /etc/nginx/uwsgi_params;\nuwsgi_pass %s;"},
		{"fastcgi", &fastcgi.Server{Handler: app, Logger: log}, "include /etc/nginx/fastcgi_params;\nfastcgi_pass %s;"},
	}
	conf := "client_max_body_size 10m;\n"
	for _, s := range servers {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go s.serve.Serve(l)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.serve.Shutdown(ctx)
		})
		conf += fmt.Sprintf("location /%s/ {\n    %s\n}\n", s.name,
			fmt.Sprintf(s.pass, l.Addr().String()))
	}
	n := peer.StartNginx(t, conf)
	body := bytes.Repeat([]byte("x"), 1<<20)
	client := &http.Client{Timeout: 20 * time.Second}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			for i := range 100 {
				res, err := client.Post(n.URL("/"+s.name+"/upload"), "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Fatalf("POST %d: %v", i, err)
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || !bytes.Equal(got, reply) || res.Header.Get("X-Read") != fmt.Sprint(reads) {
					t.Fatalf("POST %d: %d, %d bytes of %d, X-Read %q, %v\nnginx: %s",
						i, res.StatusCode, len(got), len(reply), res.Header.Get("X-Read"), err, n.ErrorLog())
				}
			}
		})
	}
}
