package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// TestBuildsForOtherSystems: gopaste compiles for macOS and FreeBSD (the
// README says so), so a Linux-only call is caught here, not by a user. A
// first run compiles the module and its dependencies for each system
// (a minute or two on 2 cores); later runs use the build cache.
func TestBuildsForOtherSystems(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the module: not with -short")
	}
	goBin := peer.Require(t, "go")
	for _, goos := range []string{"darwin", "freebsd"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, "github.com/gopaste/gopaste/...")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=arm64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go build ./...: %v\n%s", goos, err, out)
			}
		})
	}
}
