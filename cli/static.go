package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// staticConfigPath is the name "gopaste serve --static" loads its
// generated config under.
const staticConfigPath = "/embedded/gopaste-static.ini"

// staticConfig returns the config of "gopaste serve --static DIR", as
// caddy file-server's: the files of DIR (with listings for directories
// without index.html) through gzip/zstd, on 127.0.0.1:8080 unless --host
// and --port say otherwise. It returns the config's path and the
// deploy.Options.ReadFile that reads it.
func staticConfig(dir string) (string, func(string) ([]byte, error), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", nil, err
	} else if !fi.IsDir() {
		return "", nil, fmt.Errorf("%s is not a directory", dir)
	}
	if strings.ContainsAny(abs, "\r\n") || strings.TrimSpace(abs) != abs {
		return "", nil, fmt.Errorf("%q: a directory whose name has line breaks or edge spaces cannot be served by --static", dir)
	}
	ini := []byte(`[pipeline:main]
pipeline = gzip files

[filter:gzip]
use = gzip

[app:files]
use = static
document_root = ` + strings.ReplaceAll(abs, "%", "%%") + `
listing = true

[server:main]
use = http
host = 127.0.0.1
port = 8080
`)
	return staticConfigPath, func(path string) ([]byte, error) {
		if path == staticConfigPath {
			return ini, nil
		}
		return nil, fs.ErrNotExist
	}, nil
}
