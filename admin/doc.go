// Package admin is what a server's admin listener shows (the admin key of
// a server section; docs/status.md): per mount and per backend, the
// request rate, error rate and latency over the last 15 minutes; the
// worker processes that parts such as the process app and the prefork
// master report; and whether the server is healthy and ready.
//
// A [Hub] holds it all. Every build of one "gopaste serve" shares one hub
// through the registry's pool ([From]), so it outlives reloads: the
// server section feeds it with every request ([Hub.Wrap]), a part that
// runs workers adds a [WorkerSource] with [Register], and a part that
// forwards requests counts answers in [Stats.Backend]. The hot path takes
// no lock: a [Series] is a ring of 10-second windows of atomic counters.
//
// [Hub.Handler] serves /status (HTML with server-side SVG charts, no
// JavaScript), /status.json ([Snapshot]), /metrics (Prometheus text
// format), /healthz and /readyz. [Fetch] and
// [WriteText] are "gopaste status".
//
// Request stats live in the memory of the process that serves: under
// concurrency = prefork each worker process counts its own requests.
package admin
