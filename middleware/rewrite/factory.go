package rewrite

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("rewrite", func(c *registry.Config) (func(http.Handler) http.Handler, error) {
		return factory(c, 0)
	}, "rewrite request paths by ordered regex rules (a rule with a status redirects)")
	registry.RegisterFilter("redirect", func(c *registry.Config) (func(http.Handler) http.Handler, error) {
		return factory(c, http.StatusFound)
	}, "redirect requests by ordered regex rules (default status 302)")
}

// factory reads the keys "rule N" and orders them by N.
func factory(c *registry.Config, defaultStatus int) (func(http.Handler) http.Handler, error) {
	type numbered struct {
		n    int
		rule Rule
	}
	var rules []numbered
	seen := map[int]string{}
	for _, key := range c.KeysWithPrefix("rule") {
		v := c.String(key, "")
		num, ok := strings.CutPrefix(key, "rule ")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 0 {
			c.Errorf(key, `want "rule N" with N a number`)
			continue
		}
		if prev, dup := seen[n]; dup {
			c.Errorf(key, "same number as %q", prev)
			continue
		}
		seen[n] = key
		r, err := ParseRule(v, defaultStatus)
		if err != nil {
			c.Errorf(key, "%v", err)
			continue
		}
		rules = append(rules, numbered{n, r})
	}
	if len(rules) == 0 && c.Err() == nil {
		c.Errorf("", `no rules: add keys like "rule 1 = ^/old/(.*)$ /new/$1"`)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].n < rules[j].n })
	o := Options{Logger: c.Logger}
	for _, r := range rules {
		o.Rules = append(o.Rules, r.rule)
	}
	return New(o)
}
