package proxyfix

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("proxyfix", factory,
		"believe Forwarded and X-Forwarded-For/Proto/Host from trusted proxies: client address, host and scheme")
}

// factory reads: trusted_proxies (required; CIDRs or addresses separated
// by spaces or commas, and the word "unix" for unix-socket peers).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	var o Options
	if c.Required("trusted_proxies") != "" {
		o.TrustedProxies, o.TrustUnix = parseList(c, "trusted_proxies")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o)
}

func parseList(c *registry.Config, key string) (out []netip.Prefix, unix bool) {
	for _, f := range c.List(key) {
		for _, s := range strings.Split(f, ",") {
			if s == "" {
				continue
			}
			if s == "unix" {
				unix = true
				continue
			}
			p, err := ParsePrefix(s)
			if err != nil {
				c.Errorf(key, "%q is not an address or CIDR network", s)
				continue
			}
			out = append(out, p)
		}
	}
	return out, unix
}
