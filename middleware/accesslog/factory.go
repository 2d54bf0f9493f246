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
// line), and Paste's translogger keys (pasteKeys).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	format := Common
	if !pasteKeys(c) {
		format = Format(c.OneOf("format", "common", "common", "combined", "json"))
	}
	interval := c.Duration("flush_interval", time.Second)
	def := "stdout"
	if c.Bool("setup_console_handler", false) {
		def = "stderr" // Paste's console handler, a logging.StreamHandler
	}
	file := strings.TrimSpace(c.String("file", def))
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

// pasteKeys checks the keys of Paste's translogger (egg:Paste#translogger):
// setup_console_handler = true writes to stderr (file), as Paste's
// console handler does; a Python format string (Paste's format) and the
// keys that name Python loggers are errors naming the nearest
// equivalent. It reports whether format was such a string.
func pasteKeys(c *registry.Config) (pyFormat bool) {
	if v, ok := c.Lookup("format"); ok && strings.Contains(v, "%(") {
		c.Errorf("format", "gopaste cannot honour a Python format string; the nearest equivalent is format = combined (Paste's default line), common or json")
		pyFormat = true
	}
	for _, k := range [][2]string{
		{"logger_name", "file = PATH (gopaste writes the access log itself, not to a Python logger)"},
		{"logging_level", "none: gopaste's access log has no level; remove the key"},
		{"set_logger_level", "none: gopaste's access log has no level; remove the key"},
	} {
		if c.Has(k[0]) {
			c.MarkRead(k[0])
			c.Errorf(k[0], "gopaste cannot honour Paste's translogger %s; the nearest equivalent is %s", k[0], k[1])
		}
	}
	return pyFormat
}
