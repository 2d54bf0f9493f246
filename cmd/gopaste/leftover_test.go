package main

import (
	"os"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// TestMain fails the package when a process the tests started (gopaste,
// its prefork workers, its Python workers, a peer) outlives them.
func TestMain(m *testing.M) { os.Exit(peer.Main(m)) }
