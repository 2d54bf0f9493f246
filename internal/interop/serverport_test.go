package interop

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/internal/peer"
)

// TestNginxServerPortIssue13: behind nginx with Debian's stock
// scgi_params, uwsgi_params and fastcgi_params (HTTP_HOST is $host,
// without the port; SERVER_PORT is the port nginx listens on), the
// request's Host and the SERVER_PORT an app reports are nginx's port, not
// 80 (uwsgi, FastCGI) or the gateway server's own port (SCGI).
func TestNginxServerPortIssue13(t *testing.T) {
	peer.Require(t, "nginx")
	n := nginxGateways(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host=%s port=%s", r.Host, env.Vars(r)["SERVER_PORT"])
	}))
	want := fmt.Sprintf("host=127.0.0.1:%d port=%d", n.Port, n.Port)
	for _, name := range gatewayNames {
		res, err := http.Get(n.URL("/" + name + "/where"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != want {
			t.Errorf("%s_pass: %d %q, want %q", name, res.StatusCode, b, want)
		}
	}
}
