package static

import (
	"net/http"
	"net/url"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("static", factory,
		"serves files from document_root (ETag, Range, no escape from the root)",
		"egg:Paste#static")
}

func pathEscape(s string) string { return url.PathEscape(s) }

func factory(c *registry.Config) (http.Handler, error) {
	root := c.Path("document_root", "")
	if root == "" {
		c.Errorf("document_root", "is required")
	}
	o := Options{
		Index:       c.List("index"),
		CacheMaxAge: c.Duration("cache_max_age", 0),
		Listing:     c.Bool("listing", false),
		MemoryCache: c.Size("memory_cache", 8<<20),
		ServeHidden: c.Bool("serve_hidden", false),
		NoPush:      c.Bool("tcp_nopush", true),
	}
	if o.MemoryCache < 0 {
		c.Errorf("memory_cache", "must not be negative")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	h, err := Dir(root, o)
	if err != nil {
		return nil, c.Errorf("document_root", "%v", err)
	}
	c.OnClose(h)
	return h, nil
}
