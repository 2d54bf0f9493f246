package admin

// This file holds what the status page and "gopaste status" both show:
// the last minute of a series summed up, and human-readable numbers.

import (
	"fmt"
	"time"
)

// Summary is a series over its last points.
type Summary struct {
	Rate      float64 // requests per second
	ErrorRate float64 // share of requests with a 5xx status, 0 to 1
	P50, P99  float64 // latency, seconds
	Requests  uint64  // in the span
}

// SummaryWindows is how many points Summarize looks at: the last minute.
const SummaryWindows = 6

// Summarize sums up the last n points of s (n ≤ 0 means SummaryWindows).
func Summarize(s SeriesStats, n int) Summary {
	if n <= 0 {
		n = SummaryWindows
	}
	pts := s.Points
	if len(pts) > n {
		pts = pts[len(pts)-n:]
	}
	var sum Summary
	var secs float64
	var errs uint64
	lat := make([]uint64, nBuckets)
	for _, p := range pts {
		secs += p.Seconds
		sum.Requests += p.Requests
		errs += p.Errors
		for i := range min(len(lat), len(p.Latency)) {
			lat[i] += p.Latency[i]
		}
	}
	if secs > 0 {
		sum.Rate = float64(sum.Requests) / secs
	}
	if sum.Requests > 0 {
		sum.ErrorRate = float64(errs) / float64(sum.Requests)
	}
	sum.P50, sum.P99 = Quantile(0.5, lat), Quantile(0.99, lat)
	return sum
}

// pointP99 is a point's 99th-percentile latency in seconds.
func pointP99(p Point) float64 { return Quantile(0.99, p.Latency) }

// humanDuration writes d the way top does: "850ms", "42s", "3m12s",
// "2h05m", "3d04h".
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// humanSeconds writes a latency: "0.4ms", "12ms", "1.25s".
func humanSeconds(s float64) string {
	switch {
	case s <= 0:
		return "-"
	case s < 0.001:
		return fmt.Sprintf("%.2fms", s*1000)
	case s < 0.01:
		return fmt.Sprintf("%.1fms", s*1000)
	case s < 1:
		return fmt.Sprintf("%.0fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}

// humanBytes writes a size in binary units: "512 B", "23.4 MiB".
func humanBytes(n int64) string {
	if n <= 0 {
		return "-"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// humanRate writes requests per second: "0", "0.3", "12.5", "1520".
func humanRate(r float64) string {
	switch {
	case r == 0:
		return "0"
	case r < 100:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// humanPercent writes a share: "0%", "0.5%", "12%".
func humanPercent(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.1:
		return fmt.Sprintf("%.1f%%", f*100)
	}
	return fmt.Sprintf("%.0f%%", f*100)
}
