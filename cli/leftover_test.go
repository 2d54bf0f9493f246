package cli_test

import (
	"os"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// TestMain fails the package when a process the tests started (the php
// skeleton's php-fpm, a process app's workers) outlives them.
func TestMain(m *testing.M) { os.Exit(peer.Main(m)) }
