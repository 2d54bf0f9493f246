package headers

import (
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("headers", factory,
		"set, add and remove response headers; preset = security adds the usual security headers")
}

var ops = map[string]Op{"replace": Set, "add": Add, "remove": Remove, "default": Default}

// factory reads: preset (none; "security"), and in file order the keys
// "replace NAME = VALUE", "add NAME = VALUE", "default NAME = VALUE" and
// "remove NAME =" (value ignored), plus "remove = NAME NAME..." .
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{Preset: c.OneOf("preset", "", "security")}
	for _, k := range c.Keys() {
		verb, name, ok := strings.Cut(k, " ")
		op := ops[strings.ToLower(verb)]
		if op == 0 {
			continue // not a rule; an unknown key is deploy's to report
		}
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			if op == Remove {
				for _, n := range c.List(k) {
					if !validName(n) {
						c.Errorf(k, "%q is not a valid header name", n)
					}
					o.Rules = append(o.Rules, Rule{Op: Remove, Name: n})
				}
				continue
			}
			c.Errorf(k, `needs a header name: "%s NAME = VALUE"`, verb)
			continue
		}
		v := c.String(k, "")
		r := Rule{Op: op, Name: name, Value: v}
		if _, err := New(Options{Rules: []Rule{r}}); err != nil {
			c.Errorf(k, "%v", err)
			continue
		}
		if op != Remove && strings.TrimSpace(v) == "" {
			c.Errorf(k, "has no value")
			continue
		}
		o.Rules = append(o.Rules, r)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o)
}
