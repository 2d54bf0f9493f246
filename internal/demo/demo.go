// Package demo is gopaste's built-in demo: the config "gopaste serve"
// uses when it is given none, a landing page and a small embedded static
// directory. Nothing here needs a file, the network or a service.
package demo

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gopaste/gopaste/apps/static"
	"github.com/gopaste/gopaste/registry"
)

//go:embed demo.ini
var Config []byte

//go:embed home.html
var home []byte

//go:embed files
var files embed.FS

// ConfigPath is the name the embedded config is loaded under.
const ConfigPath = "/embedded/gopaste-demo.ini"

func init() {
	registry.RegisterApp("demo_home", func(c *registry.Config) (http.Handler, error) {
		return http.HandlerFunc(serveHome), c.Err()
	}, "the built-in demo's landing page")
	registry.RegisterApp("demo_files", func(c *registry.Config) (http.Handler, error) {
		sub, err := fs.Sub(files, "files")
		if err != nil {
			return nil, err
		}
		return static.New(sub, static.Options{}), c.Err()
	}, "the built-in demo's embedded static directory")
}

var started = time.Now()

func serveHome(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", started, bytes.NewReader(home))
}

// ReadFile serves the embedded config under ConfigPath, for
// deploy.Options.ReadFile.
func ReadFile(path string) ([]byte, error) {
	if path == ConfigPath {
		return Config, nil
	}
	return nil, fs.ErrNotExist
}

// DataDir returns (creating it) the directory the demo keeps its session
// database in: gopaste-demo-UID under the system's temp directory, private
// to the user.
func DataDir() (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gopaste-demo-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("demo data directory: %w", err)
	}
	return dir, nil
}
