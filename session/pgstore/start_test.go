package pgstore_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/gopaste/gopaste/apps/text"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// TestConfigCreatesTableOnceBuilt: the session filter's postgres store
// reaches the database only once the whole config has built. A config
// with an error elsewhere (here the app's unknown key) creates no table;
// the same config without it does, and `gopaste check` creates none.
func TestConfigCreatesTableOnceBuilt(t *testing.T) {
	requirePG(t)
	table := storetest.Namespace(t)
	db, err := pgstore.OpenDB(dsn())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
	exists := func() bool {
		var name sql.NullString
		if err := db.QueryRowContext(t.Context(), "SELECT to_regclass($1)::text", table).Scan(&name); err != nil {
			t.Fatal(err)
		}
		return name.Valid
	}
	write := func(appKeys string) string {
		p := filepath.Join(t.TempDir(), "site.ini")
		os.WriteFile(p, []byte(`[pipeline:main]
pipeline = session hello

[filter:session]
use = session
store = postgres
dsn = `+dsn()+`
table = `+table+`

[app:hello]
use = text
`+appKeys), 0o644)
		return p
	}
	opts := deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	if app, err := deploy.BuildApp(write("colour = blue\n"), "main", opts); err == nil {
		app.Close()
		t.Fatal("a config with an unknown key built")
	}
	if exists() {
		t.Fatal("a config that failed to build created the sessions table")
	}
	if _, err := deploy.Check(write(""), opts); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Fatal("check created the sessions table")
	}
	app, err := deploy.BuildApp(write(""), "main", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if !exists() {
		t.Fatal("a config that built has no sessions table")
	}
}
