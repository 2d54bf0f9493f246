package compress

import (
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("compress", factory,
		"gzip or zstd responses by Accept-Encoding",
		"gzip", "egg:Paste#gzip")
}

// factory reads: min_size (1K), content_types (all but the already
// compressed types), level (gzip 1..9; -1, the default, is the library's
// default; compress_level, as Paste's gzip filter names it), zstd (true).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		MinSize: int(c.Size("min_size", DefaultMinSize)),
		Level:   c.Int("level", -1),
		NoZstd:  !c.Bool("zstd", true),
	}
	// Paste's gzip filter (egg:Paste#gzip) names the level compress_level.
	levelKey := "level"
	if c.Has("compress_level") {
		if c.Has("level") {
			c.Errorf("compress_level", "is Paste's name for level; set one of them")
		}
		levelKey = "compress_level"
		o.Level = c.Int("compress_level", -1)
	}
	if o.MinSize < 1 && c.Has("min_size") {
		c.Errorf("min_size", "must be at least 1 byte")
	}
	if o.Level != -1 && (o.Level < 1 || o.Level > 9) {
		c.Errorf(levelKey, "%d is out of range 1..9 (or -1 for the default)", o.Level)
	}
	// A list separated by commas (types may carry "; charset=...") or,
	// without commas, by white space.
	raw := c.String("content_types", "")
	parts := strings.Fields(raw)
	if strings.Contains(raw, ",") {
		parts = strings.Split(raw, ",")
	}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			o.ContentTypes = append(o.ContentTypes, p)
		}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	f, err := New(o)
	if err != nil {
		return nil, c.Errorf("content_types", "%v", err)
	}
	return f, nil
}
