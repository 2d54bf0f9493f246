package env

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("env", factory,
		"answers JSON with the request's CGI variables and the app's config (for debugging)",
		"egg:Paste#test")
}

// factory accepts any key, as Paste's test app does: every local key is
// shown back under local_conf. max_body and
// show_credentials are the ones it interprets.
func factory(c *registry.Config) (http.Handler, error) {
	h := &Handler{GlobalConf: c.Global(), LocalConf: c.Local()}
	h.MaxBody = c.Size("max_body", 64<<10)
	h.ShowCredentials = c.Bool("show_credentials", false)
	for _, k := range c.Keys() {
		c.MarkRead(k)
	}
	return h, c.Err()
}
