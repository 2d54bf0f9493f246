// Package demo is gopaste's built-in demo: the config "gopaste serve"
// uses when it is given none, a landing page and a small embedded static
// directory. Nothing here needs a file, the network or a service.
package demo

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
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
// database in: gopaste-demo-UID under the system's temp directory, mode
// 0700. The name is predictable so the demo's sessions outlive a restart;
// because anyone can create that name first, an existing entry is used only
// when it is a real directory (not a symlink), owned by the user and closed
// to group and others; otherwise DataDir returns an error (issue 12, item 8).
func DataDir() (string, error) {
	return dataDir(os.TempDir(), os.Getuid())
}

func dataDir(base string, uid int) (string, error) {
	dir := filepath.Join(base, fmt.Sprintf("gopaste-demo-%d", uid))
	// Mkdir, not MkdirAll: it neither follows a symlink planted at dir nor
	// creates parents, and an existing entry is checked below.
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("demo: data directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("demo: data directory: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("demo: data directory %s is a symlink; remove it or pass data_dir=DIR", dir)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("demo: data directory %s is not a directory; remove it or pass data_dir=DIR", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != uid {
		return "", fmt.Errorf("demo: data directory %s is not owned by uid %d; remove it or pass data_dir=DIR", dir, uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("demo: data directory %s has mode %v, want 0700; fix it or pass data_dir=DIR", dir, fi.Mode().Perm())
	}
	return dir, nil
}
