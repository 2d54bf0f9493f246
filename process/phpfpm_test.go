package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// A process app with protocol fastcgi runs PHP-FPM as its worker and
// maps paths to scripts with fastcgi_proxy's keys.
func TestPHPFPMWorker(t *testing.T) {
	fpm := peer.Require(t, "php-fpm")
	dir := t.TempDir()
	peer.WriteFile(t, filepath.Join(dir, "www"), "hi.php", `<?php echo "script=", $_SERVER["SCRIPT_NAME"], " info=", $_SERVER["PATH_INFO"] ?? "", " file=", basename($_SERVER["SCRIPT_FILENAME"]);`)
	conf := "[global]\ndaemonize = no\nerror_log = /proc/self/fd/2\n[www]\nlisten = ${FPM_LISTEN}\npm = static\npm.max_children = 2\n"
	root := ""
	if os.Geteuid() == 0 {
		conf += "user = root\ngroup = root\n"
		root = " -R"
	}
	peer.WriteFile(t, dir, "php-fpm.conf", conf)
	app, err := build(t, `
[app:main]
use = process
protocol = fastcgi
command = env FPM_LISTEN={socket} `+fpm+` -F -n -y `+dir+`/php-fpm.conf -p `+dir+root+`
workers = 1
concurrency = 2
stop_signal = QUIT
document_root = `+dir+`/www
index = hi.php
split_path = .php
`)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/hi.php/a/b": "script=/hi.php info=/a/b file=hi.php",
		"/":           "script=/hi.php info= file=hi.php",
	} {
		if code, body := get(app.Handler, path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
	}
}

func TestScriptKeysNeedFastCGI(t *testing.T) {
	_, err := build(t, "\n[app:main]\nuse = process\ncommand = TESTBIN\nprotocol = http\ndocument_root = /srv\n")
	if err == nil || !strings.Contains(err.Error(), `"document_root"`) {
		t.Errorf("error = %v, want the unknown key document_root", err)
	}
}
