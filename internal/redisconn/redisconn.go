// Package redisconn is gopaste's one way to Redis: a URL opens a pool of
// connections (github.com/gomodule/redigo) and a [Client] runs commands on
// it under a context. The session store and the response cache use it.
//
// The URL is redis://[user:password@]host[:port][/db], rediss:// for TLS
// or unix://[user:password@]/path/to.sock[?db=N]. Options go in the query,
// under the names go-redis gives them:
//
//	dial_timeout        connect (and AUTH, SELECT); default 2s
//	read_timeout        a reply; default 3s, -1 none
//	write_timeout       a command; default 3s, -1 none
//	pool_size           connections open at once; default 10 per CPU
//	max_idle_conns      idle connections kept; default pool_size
//	conn_max_idle_time  an idle connection is closed after it; default 30m, -1 never
//	client_name         CLIENT SETNAME on each connection
//	db                  the database (also the URL's path)
//
// A duration is a Go duration ("500ms") or whole seconds ("3").
package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Script is a Lua script run by its SHA1, loaded on first use.
type Script = redis.Script

// NewScript returns a script of keyCount keys.
func NewScript(keyCount int, src string) *Script { return redis.NewScript(keyCount, src) }

// Int converts a reply to an int, passing err through.
func Int(reply any, err error) (int, error) { return redis.Int(reply, err) }

// Client runs commands on a pool of connections. It is safe for
// concurrent use; it connects on the first command.
type Client struct {
	pool *redis.Pool
}

// options are the query keys Open reads.
var options = map[string]bool{
	"dial_timeout": true, "read_timeout": true, "write_timeout": true,
	"pool_size": true, "max_idle_conns": true, "conn_max_idle_time": true,
	"client_name": true, "db": true,
}

// Open parses rawURL (see the package comment) and returns its client.
func Open(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the URL, password included: keep its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis URL: %v", err)
	}
	if u.Opaque != "" {
		// "redis:pw@host": what follows the scheme may be a password.
		return nil, fmt.Errorf("redis URL: no // after %q:", u.Scheme)
	}
	// Errors name the URL by scheme and host only: any other part may
	// hold a password, mistyped or not.
	where := u.Scheme + "://" + u.Host
	q := u.Query()
	for k := range q {
		if !options[k] {
			return nil, fmt.Errorf("redis URL: unknown option %q (gopaste reads %s)",
				k, strings.Join(slices.Sorted(maps.Keys(options)), ", "))
		}
	}
	dialTimeout, err := duration(q, "dial_timeout", 2*time.Second)
	if err != nil {
		return nil, err
	}
	readTimeout, err := duration(q, "read_timeout", 3*time.Second)
	if err != nil {
		return nil, err
	}
	writeTimeout, err := duration(q, "write_timeout", 3*time.Second)
	if err != nil {
		return nil, err
	}
	idleTime, err := duration(q, "conn_max_idle_time", 30*time.Minute)
	if err != nil {
		return nil, err
	}
	poolSize, err := count(q, "pool_size", 10*runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	maxIdle, err := count(q, "max_idle_conns", poolSize)
	if err != nil {
		return nil, err
	}
	opts := []redis.DialOption{
		redis.DialConnectTimeout(dialTimeout),
		redis.DialReadTimeout(readTimeout),
		redis.DialWriteTimeout(writeTimeout),
	}
	if name := q.Get("client_name"); name != "" {
		opts = append(opts, redis.DialClientName(name))
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			if user := u.User.Username(); user != "" {
				opts = append(opts, redis.DialUsername(user))
			}
			opts = append(opts, redis.DialPassword(pw))
		} else if user := u.User.Username(); user != "" {
			opts = append(opts, redis.DialPassword(user)) // redis://secret@host: the password alone
		}
	}
	db := q.Get("db")
	var network, addr string
	switch u.Scheme {
	case "redis", "rediss":
		network, addr = "tcp", u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "6379")
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("redis URL %q: no host", where)
		}
		if p := strings.Trim(u.Path, "/"); p != "" {
			if db != "" {
				return nil, fmt.Errorf("redis URL %q: the database is given twice", where)
			}
			db = p
		}
		if u.Scheme == "rediss" {
			opts = append(opts, redis.DialUseTLS(true), redis.DialTLSConfig(&tls.Config{ServerName: u.Hostname()}))
		}
	case "unix":
		network, addr = "unix", u.Path
		if addr == "" {
			return nil, fmt.Errorf("redis URL %q: no socket path", where)
		}
	default:
		return nil, fmt.Errorf("redis URL: the scheme %q is not redis, rediss or unix", u.Scheme)
	}
	if db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("redis URL %q: database %q is not a number", where, db)
		}
		opts = append(opts, redis.DialDatabase(n))
	}
	return &Client{pool: &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, network, addr, opts...)
		},
		TestOnBorrowContext: testIdle,
		MaxActive:           poolSize,
		MaxIdle:             maxIdle,
		IdleTimeout:         idleTime,
		Wait:                true, // a full pool makes the caller wait (bounded by its context)
	}}, nil
}

// testIdle pings a connection that was idle for a second or more before it
// is used again: a server that restarted meanwhile closed it, and the
// command should go to a fresh one rather than fail.
func testIdle(ctx context.Context, c redis.Conn, idleSince time.Time) error {
	if time.Since(idleSince) < time.Second {
		return nil
	}
	_, err := redis.DoContext(c, ctx, "PING")
	return err
}

func duration(q url.Values, key string, def time.Duration) (time.Duration, error) {
	v := q.Get(key)
	switch v {
	case "":
		return def, nil
	case "-1":
		return 0, nil // none
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("redis URL: %s=%q is not a duration (3s, 500ms, or whole seconds)", key, v)
	}
	return d, nil
}

func count(q url.Values, key string, def int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("redis URL: %s=%q is not a positive number", key, v)
	}
	return n, nil
}

// Do runs one command on a pooled connection. A context that ends while
// the command runs returns its error and closes that connection.
func (c *Client) Do(ctx context.Context, cmd string, args ...any) (any, error) {
	conn, err := c.pool.GetContext(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return redis.DoContext(conn, ctx, cmd, args...)
}

// Run runs script with its keys and arguments (EVALSHA, EVAL the first
// time the server lacks it).
func (c *Client) Run(ctx context.Context, s *Script, keysAndArgs ...any) (any, error) {
	conn, err := c.pool.GetContext(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return s.DoContext(ctx, conn, keysAndArgs...)
}

// Get returns key's value; ok is false when there is none.
func (c *Client) Get(ctx context.Context, key string) (value []byte, ok bool, err error) {
	b, err := redis.Bytes(c.Do(ctx, "GET", key))
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// Set stores value under key for ttl (at least a millisecond).
func (c *Client) Set(ctx context.Context, key string, value any, ttl time.Duration) error {
	_, err := c.Do(ctx, "SET", key, value, "PX", max(ttl.Milliseconds(), 1))
	return err
}

// SetNX stores value under key for ttl when key is absent, and says
// whether it did.
func (c *Client) SetNX(ctx context.Context, key string, value any, ttl time.Duration) (bool, error) {
	r, err := c.Do(ctx, "SET", key, value, "NX", "PX", max(ttl.Milliseconds(), 1))
	if err != nil {
		return false, err
	}
	return r != nil, nil // OK, or a nil reply when the key was there
}

// Del deletes keys.
func (c *Client) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	_, err := c.Do(ctx, "DEL", args...)
	return err
}

// PTTL returns key's time to live; negative when it has none or is absent
// (as Redis says: -1 and -2 milliseconds).
func (c *Client) PTTL(ctx context.Context, key string) (time.Duration, error) {
	ms, err := redis.Int64(c.Do(ctx, "PTTL", key))
	return time.Duration(ms) * time.Millisecond, err
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Do(ctx, "PING")
	return err
}

// Keys returns every key that starts with prefix (SCAN, so the server
// is never blocked), for tests and benchmarks on a shared database.
func (c *Client) Keys(ctx context.Context, prefix string) ([]string, error) {
	pattern := globEscaper.Replace(prefix) + "*"
	var keys []string
	cursor := "0"
	for {
		r, err := redis.Values(c.Do(ctx, "SCAN", cursor, "MATCH", pattern, "COUNT", 1000))
		if err != nil {
			return nil, err
		}
		if len(r) != 2 {
			return nil, fmt.Errorf("redis: SCAN replied %d elements", len(r))
		}
		if cursor, err = redis.String(r[0], nil); err != nil {
			return nil, err
		}
		batch, err := redis.Strings(r[1], nil)
		if err != nil {
			return nil, err
		}
		keys = append(keys, batch...)
		if cursor == "0" {
			return keys, nil
		}
	}
}

// DeletePrefix deletes every key that starts with prefix.
func (c *Client) DeletePrefix(ctx context.Context, prefix string) error {
	keys, err := c.Keys(ctx, prefix)
	if err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// Close closes the idle connections; those in use close when returned.
func (c *Client) Close() error { return c.pool.Close() }
