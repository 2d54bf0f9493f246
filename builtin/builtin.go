// Package builtin imports every part that ships with gopaste, so that a
// binary whose main imports it has the full registry. Each import below
// registers its factories from init. A custom binary imports this package
// and its own parts.
package builtin

import (
	// One line per package that registers parts; keep sorted.
	_ "github.com/gopaste/gopaste/apps/altdemo"
	_ "github.com/gopaste/gopaste/apps/cascade"
	_ "github.com/gopaste/gopaste/apps/env"
	_ "github.com/gopaste/gopaste/apps/static"
	_ "github.com/gopaste/gopaste/apps/text"
	_ "github.com/gopaste/gopaste/apps/urlmap"
	_ "github.com/gopaste/gopaste/cgi"
	_ "github.com/gopaste/gopaste/cgi/cgi2scgi"
	_ "github.com/gopaste/gopaste/fastcgi"
	_ "github.com/gopaste/gopaste/internal/demo"
	_ "github.com/gopaste/gopaste/middleware/accesslog"
	_ "github.com/gopaste/gopaste/middleware/basicauth"
	_ "github.com/gopaste/gopaste/middleware/cache"
	_ "github.com/gopaste/gopaste/middleware/compress"
	_ "github.com/gopaste/gopaste/middleware/cookieauth"
	_ "github.com/gopaste/gopaste/middleware/errorpage"
	_ "github.com/gopaste/gopaste/middleware/headers"
	_ "github.com/gopaste/gopaste/middleware/httpexc"
	_ "github.com/gopaste/gopaste/middleware/limit"
	_ "github.com/gopaste/gopaste/middleware/lint"
	_ "github.com/gopaste/gopaste/middleware/profile"
	_ "github.com/gopaste/gopaste/middleware/proxyfix"
	_ "github.com/gopaste/gopaste/middleware/requestid"
	_ "github.com/gopaste/gopaste/middleware/rewrite"
	_ "github.com/gopaste/gopaste/middleware/validate"
	_ "github.com/gopaste/gopaste/process"
	_ "github.com/gopaste/gopaste/proxy"
	_ "github.com/gopaste/gopaste/registry"
	_ "github.com/gopaste/gopaste/scgi"
	_ "github.com/gopaste/gopaste/server"
	_ "github.com/gopaste/gopaste/session"
	_ "github.com/gopaste/gopaste/session/filestore"
	_ "github.com/gopaste/gopaste/session/memstore"
	_ "github.com/gopaste/gopaste/session/pgstore"
	_ "github.com/gopaste/gopaste/session/redisstore"
	_ "github.com/gopaste/gopaste/session/sqlitestore"
	_ "github.com/gopaste/gopaste/uwsgi"
	_ "github.com/gopaste/gopaste/wsgi"
)
