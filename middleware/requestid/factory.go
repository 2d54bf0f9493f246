package requestid

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("requestid", factory,
		"take or make a request id; put it in the context, the logs and the response header")
}

// factory reads: header (default X-Request-Id), trust_incoming (default
// true), response_header (default true), request_header (default false).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		Header:           c.String("header", DefaultHeader),
		IgnoreIncoming:   !c.Bool("trust_incoming", true),
		NoResponseHeader: !c.Bool("response_header", true),
		RequestHeader:    c.Bool("request_header", false),
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	f, err := New(o)
	if err != nil {
		return nil, c.Errorf("header", "%v", err)
	}
	return f, nil
}
