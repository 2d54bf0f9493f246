package deploy_test

import (
	"io"
	"log/slog"
)

type slogLogger = slog.Logger

func newDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var _ = io.Discard
