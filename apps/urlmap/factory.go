package urlmap

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterComposite("urlmap", factory,
		"mounts apps at path prefixes (and hosts); the prefix moves to SCRIPT_NAME",
		"egg:Paste#urlmap")
}

func factory(c *registry.Config) (http.Handler, error) {
	var mounts []Mount
	var notFound http.Handler
	for _, k := range c.Keys() {
		name := c.String(k, "")
		if k == "not_found_app" {
			h, err := c.Loader.App(name)
			if err != nil {
				c.Errorf(k, "%v", err)
				continue
			}
			notFound = h
			continue
		}
		m, err := ParseKey(k)
		if err != nil {
			c.Errorf(k, "%v", err)
			continue
		}
		h, err := c.Loader.App(name)
		if err != nil {
			c.Errorf(k, "%v", err)
			continue
		}
		m.Name, m.Handler = name, h
		mounts = append(mounts, m)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(mounts, notFound), nil
}
