// Package deploy composes apps, filters and servers from PasteDeploy-style
// ini files, in PasteDeploy's three steps: parse (package deploy/ini),
// resolve (sections, "use" chains, includes and the global/local split:
// the tree "gopaste check" prints) and build (each part's factory from the
// registry).
//
// Supported, as in PasteDeploy: [DEFAULT]; [app:NAME] ([application:NAME],
// [app] for main); [filter:NAME]; [filter-app:NAME] with next;
// [pipeline:NAME] with only a pipeline key; [composite:NAME]; [server:NAME];
// use = NAME (a section of this file, else a registered part), use =
// egg:Dist#NAME, use = config:other.ini#NAME (relative to the including
// file); filter-with on apps and filters; "set KEY = V" (into the global
// config) and "get LOCAL = GLOBAL"; %(here)s, %(__file__)s, %(key)s and %%
// interpolation. PasteDeploy's quirk that a local key also set in
// [DEFAULT] is ignored is kept, and warned about.
//
// Python parts (use = call:module:object, use = egg:Dist#name for a
// distribution gopaste provides no parts of, paste.app_factory keys) are
// not built in Go: the smallest subtree holding them is handed whole to
// the wsgi app, which loads it with PasteDeploy from the same file (see
// python.go). Servers named egg:waitress#main and egg:gunicorn#main take
// those servers' keys (python_server.go); Python's logging sections
// ([loggers], [logger_root], ...) go to the Python workers, and the root
// logger's level sets gopaste's own.
//
// [Load] builds what "gopaste serve" runs, a [Generation]: the app and the
// server from one parse, with the files their parts watch and the
// resources to close (and reopen on SIGUSR1); [BuildApp] builds an app
// alone and [Check] every section. State that must outlive a reload is
// shared through [Options.Pool] (see registry.Shared).
//
// The loaded config is available to every app at run time through
// [ConfigFrom].
package deploy
