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
	n := nginxGateways(t, app)
	body := bytes.Repeat([]byte("x"), 1<<20)
	client := &http.Client{Timeout: 20 * time.Second}
	for _, name := range gatewayNames {
		t.Run(name, func(t *testing.T) {
			for i := range 100 {
				res, err := client.Post(n.URL("/"+name+"/upload"), "application/octet-stream", bytes.NewReader(body))
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

var gatewayNames = []string{"scgi", "uwsgi", "fastcgi"}

// nginxGateways serves app on gopaste's scgi, uwsgi and fastcgi servers
// behind one nginx, at /scgi/, /uwsgi/ and /fastcgi/.
func nginxGateways(t *testing.T, app http.Handler) *peer.Nginx {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	servers := []struct {
		serve interface {
			Serve(net.Listener) error
			Shutdown(context.Context) error
		}
		pass string
	}{
		{&scgi.Server{Handler: app, Logger: log}, "include /etc/nginx/scgi_params;\nscgi_pass %s;"},
		{&uwsgi.Server{Handler: app, Logger: log}, "include /etc/nginx/uwsgi_params;\nuwsgi_pass %s;"},
		{&fastcgi.Server{Handler: app, Logger: log}, "include /etc/nginx/fastcgi_params;\nfastcgi_pass %s;"},
	}
	conf := "client_max_body_size 10m;\n"
	for i, s := range servers {
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
		conf += fmt.Sprintf("location /%s/ {\n    %s\n}\n", gatewayNames[i], fmt.Sprintf(s.pass, l.Addr().String()))
	}
	return peer.StartNginx(t, conf)
}

// TestNginxInterimDropped: nginx 1.22 takes the first status a gateway
// sends for the final one (a 103 from a uwsgi backend reaches the client
// as the reply, the real head as its body), so the servers send no 1xx:
// the client gets the final reply whole, with the 103's headers.
func TestNginxInterimDropped(t *testing.T) {
	peer.Require(t, "nginx")
	n := nginxGateways(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made")
	}))
	for _, name := range gatewayNames {
		res, err := http.Get(n.URL("/" + name + "/hints"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 || string(b) != "made" || res.Header.Get("Link") == "" {
			t.Errorf("%s: %d %v %q, want 201 with the Link header and the body", name, res.StatusCode, res.Header, b)
		}
	}
}
