package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestRedisLogsThroughSlog: go-redis's messages reach slog.Default (which
// "serve" points at the configured log) at warn level.
func TestRedisLogsThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	redisLogger{}.Printf(context.Background(), "redis: connection pool: %s\n", "timeout")
	got := buf.String()
	for _, want := range []string{"level=WARN", `msg="redis: connection pool: timeout"`, "component=redis"} {
		if !strings.Contains(got, want) {
			t.Errorf("log line %q lacks %s", got, want)
		}
	}
}
