package auth_test

import (
	"context"
	"testing"

	"github.com/gopaste/gopaste/auth"
)

func TestUser(t *testing.T) {
	ctx := context.Background()
	if got := auth.User(ctx); got != "" {
		t.Errorf("User(empty ctx) = %q, want \"\"", got)
	}
	ctx = auth.WithUser(ctx, "alice")
	if got := auth.User(ctx); got != "alice" {
		t.Errorf("User = %q, want alice", got)
	}
	ctx = auth.WithUser(ctx, "bob")
	if got := auth.User(ctx); got != "bob" {
		t.Errorf("User after second WithUser = %q, want bob", got)
	}
}
