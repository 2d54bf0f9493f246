package accesslog

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("accesslog", factory,
		"log each request in Apache common/combined format or JSON; gopaste serve reopens the file on SIGUSR1",
		"translogger", "egg:Paste#translogger")
}

// factory reads: format = common | combined | json (common), file =
// stdout | stderr | PATH (stdout), flush_interval (1s; 0 flushes every
// line).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	format := Format(c.OneOf("format", "common", "common", "combined", "json"))
	interval := c.Duration("flush_interval", time.Second)
	file := strings.TrimSpace(c.String("file", "stdout"))
	if err := c.Err(); err != nil {
		return nil, err
	}
	var out io.Writer
	switch file {
	case "stdout", "-", "":
		out = os.Stdout
	case "stderr":
		out = os.Stderr
	default:
		if !filepath.IsAbs(file) {
			file = filepath.Join(c.Here, file)
		}
		f, err := OpenFile(file)
		if err != nil {
			return nil, c.Errorf("file", "%v", err)
		}
		out = f
	}
	w := NewWriter(out, interval)
	c.OnClose(w) // also a deploy.Reopener: gopaste serve reopens it on SIGUSR1
	return New(Options{Format: format, Output: w})
}
