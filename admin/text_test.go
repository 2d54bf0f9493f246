package admin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWriteText(t *testing.T) {
	hub, src := fixture(t)
	src.setReady(errStarting)
	var b strings.Builder
	if err := WriteText(&b, hub.Snapshot()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"· serving · not ready (api: 1 worker starting) · up 3h12m ·",
		"MOUNT ", "BACKEND ", "127.0.0.1:9001",
		"POOL ", "POST /api/report", "42s !", "131.0 MiB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Each series line ends with a 30-character sparkline.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "/api ") {
			f := strings.Fields(line)
			if spark := f[len(f)-1]; utf8.RuneCountInString(spark) != sparkWidth || !strings.ContainsRune(spark, '█') {
				t.Errorf("sparkline %q", spark)
			}
		}
	}
	if t.Failed() {
		t.Log("\n" + out)
	}
	b.Reset()
	WriteText(&b, NewHub().Snapshot())
	if !strings.Contains(b.String(), "mount: none yet") || !strings.Contains(b.String(), "workers: none") {
		t.Errorf("empty hub:\n%s", b.String())
	}
}
