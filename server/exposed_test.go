package server_test

import (
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
	_ "github.com/gopaste/gopaste/scgi" // a gateway protocol
	"github.com/gopaste/gopaste/server"
)

func readOptions(t *testing.T, proto string, kv ...string) (server.Options, *registry.Config) {
	t.Helper()
	var local []registry.Entry
	for i := 0; i+1 < len(kv); i += 2 {
		local = append(local, registry.Entry{Key: kv[i], Value: kv[i+1], Origin: "site.ini:3"})
	}
	c := registry.NewConfig(registry.ServerKind, "server:main", "site.ini:1", "site.ini", nil, local, nil, nil)
	return server.ReadOptions(c, proto, 0), c
}

// TestAutoNeedsAllowedPeersIssue12: "protocol = auto" on an address other
// hosts reach would let any of them speak SCGI, uwsgi or FastCGI and set
// REMOTE_ADDR; start-up fails unless allowed_peers lists the front ends.
// A server of a gateway protocol there is warned about.
func TestAutoNeedsAllowedPeersIssue12(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proto   string
		kv      []string
		err     bool
		warning bool
	}{
		{"auto on all addresses", "http", []string{"protocol", "auto", "host", "0.0.0.0"}, true, false},
		{"auto on a public IPv6 address", "http", []string{"protocol", "auto", "host", "::"}, true, false},
		{"auto on a host name", "http", []string{"protocol", "auto", "host", "example.org"}, true, false},
		{"auto with allowed_peers", "http", []string{"protocol", "auto", "host", "0.0.0.0", "allowed_peers", "10.0.0.5"}, false, false},
		{"auto on loopback", "http", []string{"protocol", "auto", "host", "127.0.0.1"}, false, false},
		{"auto on ::1", "http", []string{"protocol", "auto", "host", "::1"}, false, false},
		{"auto on localhost", "http", []string{"protocol", "auto", "host", "localhost"}, false, false},
		{"auto on a unix socket", "http", []string{"protocol", "auto", "socket", "/tmp/x.sock"}, false, false},
		{"scgi on all addresses", "scgi", []string{"host", "0.0.0.0"}, false, true},
		{"scgi with allowed_peers", "scgi", []string{"host", "0.0.0.0", "allowed_peers", "10.0.0.0/8"}, false, false},
		{"scgi on loopback", "scgi", []string{"host", "127.0.0.1"}, false, false},
		{"http on all addresses", "http", []string{"host", "0.0.0.0"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := readOptions(t, tc.proto, tc.kv...)
			err := c.Err()
			if (err != nil) != tc.err || err != nil && !strings.Contains(err.Error(), "needs allowed_peers") {
				t.Errorf("err = %v, want an error: %v", err, tc.err)
			}
			ws := c.Warnings()
			if got := len(ws) > 0 && strings.Contains(ws[0].Msg, "without allowed_peers"); got != tc.warning || len(ws) > 1 {
				t.Errorf("warnings %+v, want one: %v", ws, tc.warning)
			}
		})
	}
}

// TestSocketModeWarningIssue12: a world-writable socket lets every local
// user connect.
func TestSocketModeWarningIssue12(t *testing.T) {
	_, c := readOptions(t, "http", "socket", "/tmp/x.sock", "socket_mode", "0666")
	if ws := c.Warnings(); len(ws) != 1 || ws[0].Key != "socket_mode" || !strings.Contains(ws[0].Msg, "every local user") {
		t.Errorf("warnings %+v", ws)
	}
	_, c = readOptions(t, "http", "socket", "/tmp/x.sock", "socket_mode", "0660")
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("0660: warnings %+v", ws)
	}
}
