package admin

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/proc"
)

var update = flag.Bool("update", false, "rewrite docs/status.png from the headless Chromium screenshot")

// The browser window: the page at the width a laptop shows it.
const shotW, shotH = 980, 700

// chromium runs headless Chromium on args (a loopback URL last) for at
// most a minute, in its own process group, and returns its standard
// output.
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	p, err := proc.Start(ctx, proc.Cmd{
		Path: bin,
		Args: append([]string{bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
			"--disable-background-networking", "--disable-component-update", "--disable-default-apps",
			"--no-pings", "--disable-domain-reliability", "--disable-features=Translate,MediaRouter",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--crash-dumps-dir=" + dir,
			"--window-size=" + itoa(shotW) + "," + itoa(shotH)}, args...),
		Dir: dir, Env: append(os.Environ(), "HOME="+dir), Stdout: &stdout, Stderr: &stderr, Grace: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	if err := p.Err(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestStatusPageInChromium renders /status of a busy server (the
// fixture) in headless Chromium: the DOM it built has the 15 charts
// (three per mount and backend, each a line and an area) and the worker
// table with its six rows, and the screenshot shows them. With -update
// the screenshot becomes docs/status.png.
func TestStatusPageInChromium(t *testing.T) {
	bin := peer.Require(t, "chromium")
	hub, _ := fixture(t)
	srv := httptest.NewServer(hub.Handler()) // 127.0.0.1
	defer srv.Close()
	url := srv.URL + "/status?refresh=0"

	dom := chromium(t, bin, "--dump-dom", url)
	if n := strings.Count(dom, "<svg "); n != 15 {
		t.Errorf("%d svg charts in the DOM, want 15", n)
	}
	if n := len(regexp.MustCompile(`<polyline points="[0-9. ,]{100,}"`).FindAllString(dom, -1)); n != 15 {
		t.Errorf("%d chart lines with points, want 15", n)
	}
	table := dom[strings.Index(dom, `<table id="workers">`)+1:]
	table = table[:max(strings.Index(table, "</table>"), 0)]
	if n := strings.Count(table, "<tr>"); n != 7 {
		t.Errorf("worker table has %d rows, want a header and 6 workers", n)
	}
	for _, want := range []string{"POST /api/report", "127.0.0.1:9001", "/blog"} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q", want)
		}
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	chromium(t, bin, "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != shotW || b.Dy() != shotH {
		t.Errorf("screenshot is %v, want %dx%d", b, shotW, shotH)
	}
	// The charts' colours are on the picture: the request line (blue),
	// the error line (red), the latency line (purple).
	for name, c := range map[string]color.RGBA{"requests": {0x3b, 0x63, 0xc4, 255}, "errors": {0xc9, 0x3c, 0x3c, 255}, "latency": {0x7d, 0x4c, 0xc0, 255}} {
		if n := countNear(img, c); n < 300 {
			t.Errorf("%d pixels of the %s charts' colour, want a drawn line", n, name)
		}
	}
	small := shrink(img)
	if *update {
		var b bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&b, small); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../docs/status.png", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/status.png (%d bytes)", b.Len())
	}
}

// countNear counts the pixels within a small distance of c.
func countNear(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint8) bool { return a+12 >= uint32(b) && a <= uint32(b)+12 }

// shrink crops the blank bottom of the screenshot and maps it onto the
// 256 colours it uses most, so docs/status.png stays a few tens of KiB.
func shrink(img image.Image) *image.Paletted {
	b := img.Bounds()
	bottom := b.Min.Y
	freq := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			freq[c]++
			if c.R < 0xf0 || c.G < 0xf0 || c.B < 0xf0 {
				bottom = y
			}
		}
	}
	colors := make([]color.RGBA, 0, len(freq))
	for c := range freq {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if freq[colors[i]] != freq[colors[j]] {
			return freq[colors[i]] > freq[colors[j]]
		}
		return rgb(colors[i]) < rgb(colors[j])
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(len(colors), 256)] {
		pal = append(pal, c)
	}
	crop := image.Rect(b.Min.X, b.Min.Y, b.Max.X, min(bottom+16, b.Max.Y))
	out := image.NewPaletted(crop, pal)
	index := map[color.RGBA]uint8{}
	for y := crop.Min.Y; y < crop.Max.Y; y++ {
		for x := crop.Min.X; x < crop.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

func rgb(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }
