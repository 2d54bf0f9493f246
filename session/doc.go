// Package session gives each user a session shared between their
// requests: values by key, a user (Quixote's session.user), and the calls
// that change its identity ([Session.RenewToken] at login,
// [Session.Destroy] at logout). A [Manager] is the "session" filter: it
// finds the session through a cookie, checks it out of a [Store] before
// the request, and checks it back in before the response starts. Handlers
// reach it with [From].
//
// Stores are small and take a context first ([Store]); optional abilities
// are separate interfaces: [Locker] serialises the requests of one
// session across processes (lock = exclusive), [Swapper] refuses stale
// saves (lock = optimistic). The stores that ship are session/memstore,
// session/filestore, session/sqlitestore, session/redisstore and
// session/pgstore; each registers itself for the filter's "store" key
// with [RegisterStore], and each passes session/storetest.
//
// Stores hold a [Record], JSON documented in docs/sessions.md and stable
// ("format": 1), under [StoreKey] of the token: a store's content never
// gives anyone a usable cookie, and the token is never logged.
//
// The design follows github.com/alexedwards/scs/v2 (a context-carried
// session saved before the header is written, random 32-byte tokens
// hashed for the store, idle timeout and absolute lifetime), written for
// a context-first Store, locking, JSON and a user. Not supported:
// sessions without cookies (tokens in URLs), and iterating over all
// sessions.
package session
