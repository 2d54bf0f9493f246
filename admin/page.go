package admin

// This file renders the status page: HTML with small server-side SVG
// charts, no JavaScript.

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed status.html
var pageText string

// page is parsed on first use, not at start: every gopaste process links
// this package, most never serves the status page.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("status").Parse(pageText))
})

// The chart's size in pixels.
const (
	chartW = 160
	chartH = 40
)

type pageView struct {
	S                Snapshot
	Refresh          int
	Up, Now          string
	Mounts, Backends []seriesView
	Workers          []workerView
}

type seriesView struct {
	Name, Rate, Errors, P50, P99 string
	Total                        uint64
	Charts                       []chartView
}

type chartView struct {
	W, H       int
	W1, H1     int // the frame: one pixel less
	Line, Area string
	Color      string
	Max        string
	Title      string
}

type workerView struct {
	Pool, State, StateClass string
	PID                     int
	Requests                uint64
	RSS, Age, Current, For  string
	Long                    bool
}

// LongRequest is how long a worker's current request runs before the
// status page and "gopaste status" mark it.
const LongRequest = 10 * time.Second

func writePage(w io.Writer, s Snapshot, refresh int) error {
	v := pageView{S: s, Refresh: refresh,
		Up:  humanDuration(s.Time.Sub(s.Started)),
		Now: s.Time.Format("2006-01-02 15:04:05 MST")}
	for _, m := range s.Mounts {
		v.Mounts = append(v.Mounts, newSeriesView(m))
	}
	for _, b := range s.Backends {
		v.Backends = append(v.Backends, newSeriesView(b))
	}
	for _, wk := range s.Workers {
		v.Workers = append(v.Workers, newWorkerView(wk, s.Time))
	}
	return page().Execute(w, v)
}

func newSeriesView(s SeriesStats) seriesView {
	sum := Summarize(s, 0)
	v := seriesView{Name: s.Name, Rate: humanRate(sum.Rate), Errors: humanPercent(sum.ErrorRate),
		P50: humanSeconds(sum.P50), P99: humanSeconds(sum.P99), Total: s.Requests}
	n := len(s.Points)
	rates, errs, p99 := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range s.Points {
		if p.Seconds > 0 {
			rates[i] = float64(p.Requests) / p.Seconds
		}
		if p.Requests > 0 {
			errs[i] = float64(p.Errors) / float64(p.Requests) * 100
		}
		p99[i] = pointP99(p) * 1000
	}
	v.Charts = []chartView{
		newChart(rates, "#3b63c4", s.Name+": requests per second", func(f float64) string { return humanRate(f) + "/s" }),
		newChart(errs, "#c93c3c", s.Name+": share of 5xx answers", func(f float64) string { return humanPercent(f / 100) }),
		newChart(p99, "#7d4cc0", s.Name+": 99th percentile latency", func(f float64) string { return humanSeconds(f / 1000) }),
	}
	return v
}

// newChart draws vals (oldest first) as a line over a filled area,
// scaled to the largest value, which labels the chart.
func newChart(vals []float64, color, title string, label func(float64) string) chartView {
	c := chartView{W: chartW, H: chartH, W1: chartW - 1, H1: chartH - 1, Color: color, Title: title}
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	c.Max = "max " + label(top)
	const padTop, padBottom = 14.0, 2.0
	span := float64(chartH) - padTop - padBottom
	var line strings.Builder
	n := len(vals)
	for i, v := range vals {
		x := 1.0
		if n > 1 {
			x = 1 + float64(i)*float64(chartW-2)/float64(n-1)
		}
		y := float64(chartH) - padBottom
		if top > 0 && !math.IsNaN(v) {
			y -= v / top * span
		}
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	c.Line = line.String()
	if n > 0 {
		base := strconv.FormatFloat(float64(chartH)-padBottom, 'f', 1, 64)
		c.Area = fmt.Sprintf("1.0,%s %s %.1f,%s", base, c.Line, float64(chartW-1), base)
	}
	return c
}

func newWorkerView(w Worker, now time.Time) workerView {
	v := workerView{Pool: w.Pool, PID: w.PID, State: w.State, Requests: w.Requests,
		RSS: humanBytes(w.RSS), Age: "-", Current: "-", For: "-"}
	switch w.State {
	case "ready", "idle", "busy", "running":
		v.StateClass = "ok"
	case "starting", "stopping", "recycling":
		v.StateClass = "warn"
	default:
		v.StateClass = "bad"
	}
	if !w.Started.IsZero() {
		v.Age = humanDuration(now.Sub(w.Started))
	}
	if c := w.Current; c != nil {
		v.Current = c.Method + " " + c.Path
		d := now.Sub(c.Since)
		v.For = humanDuration(d)
		v.Long = d >= LongRequest
	}
	return v
}
