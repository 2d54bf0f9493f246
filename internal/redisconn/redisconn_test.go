package redisconn

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

const sharedURL = "redis://127.0.0.1:6379"

// requireShared returns a client of the machine's Redis (fails under
// CI=true when it is not running).
func requireShared(t *testing.T, url string) *Client {
	t.Helper()
	c, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		peer.Missing(t, "redis at %s: %v", url, err)
	}
	return c
}

func TestOpenRejects(t *testing.T) {
	for url, want := range map[string]string{
		"http://127.0.0.1:6379":                  "not redis, rediss or unix",
		"redis://127.0.0.1/x":                    `database "x"`,
		"redis://127.0.0.1/1?db=2":               "given twice",
		"redis://:6379":                          "no host",
		"unix://":                                "no socket path",
		"redis://h?pool_size=0":                  "pool_size",
		"redis://h?read_timeout=soon":            "read_timeout",
		"redis://h?dial_timeout=-2s":             "dial_timeout",
		"redis://h?max_retries=3":                `unknown option "max_retries"`,
		"redis://user:secret@h?min_idle_conns=1": "min_idle_conns",
		"redis:secret@h":                         "no // after",
		"redis://user:secret@h:6379/%zz":         "invalid URL escape",
	} {
		_, err := Open(url)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error with %q", url, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): the password is in the error: %v", url, err)
		}
	}
	for _, url := range []string{
		"redis://127.0.0.1", "redis://127.0.0.1:6380/3", "rediss://:pw@example.com/0",
		"unix:///run/redis.sock?db=1", "redis://h?dial_timeout=3&read_timeout=-1&write_timeout=250ms&pool_size=4&max_idle_conns=2&conn_max_idle_time=1m&client_name=gp",
	} {
		if _, err := Open(url); err != nil {
			t.Errorf("Open(%q): %v", url, err)
		}
	}
}

func TestCommands(t *testing.T) {
	c := requireShared(t, sharedURL+"/0")
	ctx := t.Context()
	// A prefix with MATCH's pattern characters: Keys and DeletePrefix
	// must take it literally.
	prefix := "gopaste-test:redisconn:" + strconv.Itoa(int(time.Now().UnixNano())) + ":[a]*?:"
	lookalike := strings.Replace(prefix, "[a]*?", "a-xyz", 1)
	t.Cleanup(func() { c.Del(context.Background(), lookalike+"k") })
	if err := c.Set(ctx, lookalike+"k", "other", time.Minute); err != nil {
		t.Fatal(err)
	}

	if _, ok, err := c.Get(ctx, prefix+"a"); ok || err != nil {
		t.Fatalf("Get of a missing key: %v %v", ok, err)
	}
	if err := c.Set(ctx, prefix+"a", []byte("one"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Get(ctx, prefix+"a"); string(v) != "one" || !ok || err != nil {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	if d, err := c.PTTL(ctx, prefix+"a"); err != nil || d <= 59*time.Second || d > time.Minute {
		t.Errorf("PTTL = %v %v, want about a minute", d, err)
	}
	if ok, err := c.SetNX(ctx, prefix+"a", "two", time.Minute); ok || err != nil {
		t.Errorf("SetNX on a present key = %v %v", ok, err)
	}
	if ok, err := c.SetNX(ctx, prefix+"b", "two", time.Minute); !ok || err != nil {
		t.Errorf("SetNX on an absent key = %v %v", ok, err)
	}
	keys, err := c.Keys(ctx, prefix)
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{prefix + "a", prefix + "b"}) {
		t.Errorf("Keys = %q %v", keys, err)
	}
	s := NewScript(1, `return redis.call('GET', KEYS[1]) .. ARGV[1]`)
	if v, err := Int(c.Run(ctx, NewScript(1, `return #ARGV[1] + #KEYS[1]`), "abc", "de")); v != 5 || err != nil {
		t.Errorf("script = %v %v", v, err)
	}
	if v, err := c.Run(ctx, s, prefix+"a", "!"); err != nil || string(v.([]byte)) != "one!" {
		t.Errorf("script = %v %v", v, err)
	}
	if err := c.DeletePrefix(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.Keys(ctx, prefix); len(keys) != 0 || err != nil {
		t.Errorf("after DeletePrefix: %q %v", keys, err)
	}
	if _, ok, _ := c.Get(ctx, lookalike+"k"); !ok {
		t.Error("DeletePrefix deleted a key outside its prefix")
	}
}

func TestDatabase(t *testing.T) {
	key := "gopaste-test:redisconn:db:" + strconv.Itoa(int(time.Now().UnixNano()))
	c0 := requireShared(t, sharedURL+"/0")
	c5 := requireShared(t, sharedURL+"?db=5")
	if err := c5.Set(t.Context(), key, "x", time.Minute); err != nil {
		t.Fatal(err)
	}
	defer c5.Del(context.Background(), key)
	if _, ok, err := c0.Get(t.Context(), key); ok || err != nil {
		t.Errorf("a key of database 5 is seen in database 0: %v %v", ok, err)
	}
	if _, ok, err := c5.Get(t.Context(), key); !ok || err != nil {
		t.Errorf("database 5: %v %v", ok, err)
	}
}

// TestUnixSocketAndStaleConnections runs a Redis of its own on a Unix
// socket, with a password, and kills the pooled connection under the
// client: the next command, a second later, must not fail.
func TestUnixSocketAndStaleConnections(t *testing.T) {
	bin := peer.Require(t, "redis-server")
	dir := t.TempDir()
	sock := filepath.Join(dir, "r.sock")
	p := peer.Start(t, peer.StartOptions{Dir: dir}, bin, "--port", "0", "--unixsocket", sock,
		"--save", "", "--appendonly", "no", "--requirepass", "pw")
	p.WaitDial(t, "unix", sock)

	if c, _ := Open("unix://" + sock); c.Ping(t.Context()) == nil {
		t.Error("no password: PING answered")
	}
	c, err := Open("unix://:pw@" + sock + "?db=2&read_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	if err := c.Set(ctx, "k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	id, err := Int(c.Do(ctx, "CLIENT", "ID"))
	if err != nil {
		t.Fatal(err)
	}
	if db, err := Int(c.Do(ctx, "EVAL", "return redis.call('GET', KEYS[1]) and 2 or -1", 1, "k")); db != 2 || err != nil {
		t.Errorf("the key is not in database 2: %v %v", db, err)
	}
	other, err := Open("unix://:pw@" + sock)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Do(ctx, "CLIENT", "KILL", "ID", id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // idle long enough to be checked
	if v, ok, err := c.Get(ctx, "k"); string(v) != "v" || !ok || err != nil {
		t.Errorf("after the server closed the pooled connection: %q %v %v", v, ok, err)
	}
}
