package cascade

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterComposite("cascade", factory,
		"tries app1, app2, ... in order, falling through on 404 (or the catch statuses)",
		"egg:Paste#cascade")
}

func factory(c *registry.Config) (http.Handler, error) {
	type numbered struct {
		n   int
		key string
	}
	var keys []numbered
	for _, k := range c.KeysWithPrefix("app") {
		n, err := strconv.Atoi(strings.TrimPrefix(k, "app"))
		if err != nil {
			continue // not appN: left unread, reported as unknown
		}
		keys = append(keys, numbered{n, k})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].n < keys[j].n })
	cas := &Cascade{MemBody: c.Size("max_memory_body", 1<<20)}
	for _, k := range keys {
		h, err := c.Loader.App(c.String(k.key, ""))
		if err != nil {
			c.Errorf(k.key, "%v", err)
			continue
		}
		cas.Apps = append(cas.Apps, h)
	}
	if len(keys) == 0 {
		c.Errorf("", "cascade needs app1, app2, ... keys")
	}
	if v := c.List("catch"); v != nil {
		cas.Catch = []int{}
		for _, s := range v {
			code, err := strconv.Atoi(s)
			if err != nil || code < 100 || code > 599 {
				c.Errorf("catch", "%q is not an HTTP status", s)
				continue
			}
			cas.Catch = append(cas.Catch, code)
		}
	}
	return cas, c.Err()
}
