package text

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("text", factory,
		"answer every request with a fixed body, content type and status")
}

// factory reads: body (default "Hello, World!\n"), content_type (default
// text/plain; charset=utf-8), status (default 200).
func factory(c *registry.Config) (http.Handler, error) {
	var o Options
	if body, ok := c.Lookup("body"); ok {
		o.Body = []byte(body)
	}
	o.ContentType = c.String("content_type", DefaultContentType)
	o.Status = c.Int("status", http.StatusOK)
	if err := c.Err(); err != nil {
		return nil, err
	}
	h, err := New(o)
	if err != nil {
		return nil, c.Errorf("status", "%v", err)
	}
	return h, nil
}
