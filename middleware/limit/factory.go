package limit

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("limit", factory,
		"request body size, concurrency and per-client rate limits (413, 503, 429)")
}

func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		MaxBodyBytes:   c.Size("max_body_bytes", 0),
		MaxConcurrency: c.Int("max_concurrency", 0),
		RetryAfter:     c.Duration("retry_after", time.Second),
		Burst:          c.Int("burst", 0),
		MaxClients:     c.Int("max_clients", DefaultMaxClients),
	}
	if v := c.String("rate", ""); v != "" {
		r, err := ParseRate(v)
		if err != nil {
			c.Errorf("rate", "%v", err)
		}
		o.Rate = r
	}
	for _, s := range c.List("trusted_proxies") {
		p, err := ParsePrefix(s)
		if err != nil {
			c.Errorf("trusted_proxies", "%v", err)
			continue
		}
		o.TrustedProxies = append(o.TrustedProxies, p)
	}
	for key, bad := range map[string]bool{
		"max_concurrency": o.MaxConcurrency < 0,
		"burst":           o.Burst < 0,
		"max_clients":     o.MaxClients < 1,
	} {
		if bad {
			c.Errorf(key, "must be a positive integer")
		}
	}
	if o.Burst > 0 && o.Rate == 0 {
		c.Errorf("burst", "is set but rate is not")
	}
	if len(o.TrustedProxies) > 0 && o.Rate == 0 {
		c.Errorf("trusted_proxies", "is set but rate is not")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if o.Rate > 0 {
		// The counts outlive a reload: the next generation of this
		// section finds the same table, unless its rate settings changed.
		d := withDefaults(o)
		name := fmt.Sprintf("limit clients rate=%g burst=%d max_clients=%d", d.Rate, d.Burst, d.MaxClients)
		t, err := registry.Shared(c, name, func() (*Clients, error) { return NewClients(o), nil })
		if err != nil {
			return nil, err
		}
		o.Clients = t
	}
	return New(o)
}
