package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Run is one load run of wrk against one system.
type Run struct {
	System     string        `json:"system"`
	Round      int           `json:"round"`
	RPS        float64       `json:"rps"`
	Requests   int64         `json:"requests"`
	Duration   time.Duration `json:"duration_ns"`
	P50        time.Duration `json:"p50_ns"`
	P75        time.Duration `json:"p75_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Non2xx     int64         `json:"non_2xx,omitempty"`
	SocketErrs int64         `json:"socket_errors,omitempty"`
	Transfer   string        `json:"transfer_per_sec,omitempty"`
	PeakRSS    int64         `json:"peak_rss_bytes,omitempty"` // of the process tree during this run
	// CPU is the user+system time the system's processes used during
	// the run; BackendCPU the shared backend's or peer's.
	CPU         time.Duration `json:"cpu_ns,omitempty"`
	BackendCPU  time.Duration `json:"backend_cpu_ns,omitempty"`
	RawOutput   string        `json:"-"`
	CommandLine string        `json:"command"`
}

// parseWrk reads the report wrk prints with --latency.
func parseWrk(out string) (Run, error) {
	var r Run
	var haveRPS, haveP99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("wrk latency line %q: %w", sc.Text(), err)
			}
			switch f[0] {
			case "50%", "50.000%":
				r.P50 = d
			case "75%", "75.000%":
				r.P75 = d
			case "90%", "90.000%":
				r.P90 = d
			case "99%", "99.000%":
				r.P99, haveP99 = d, true
			}
		case f[0] == "Requests/sec:" && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk requests/sec %q: %w", f[1], err)
			}
			r.RPS, haveRPS = v, true
		case f[0] == "Transfer/sec:" && len(f) == 2:
			r.Transfer = f[1]
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk request count %q: %w", f[0], err)
			}
			r.Requests = n
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return r, fmt.Errorf("wrk run time %q: %w", f[3], err)
			}
			r.Duration = d
		case f[0] == "Non-2xx" && len(f) == 5:
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk non-2xx count %q: %w", f[4], err)
			}
			r.Non2xx = n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil {
					return r, fmt.Errorf("wrk socket errors %q: %w", sc.Text(), err)
				}
				r.SocketErrs += n
			}
		}
	}
	if !haveRPS || !haveP99 {
		return r, errors.New("wrk output has no Requests/sec or 99% latency line (was --latency given?)")
	}
	return r, nil
}

// parseWrkDuration reads wrk's durations: "233.00us", "1.83ms", "1.10s",
// "2.00m", "1.00h".
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 || v > 1e9 {
				return 0, fmt.Errorf("%q is not a wrk duration", s)
			}
			return time.Duration(math.Round(v * float64(u.unit))), nil
		}
	}
	return 0, fmt.Errorf("%q is not a wrk duration", s)
}

// wrkArgs are the arguments of one load run; extra ("-s", script) go
// before the URL.
func wrkArgs(url string, connections int, d time.Duration, headers []string, extra ...string) []string {
	threads := 2
	if connections < threads {
		threads = connections
	}
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(connections),
		"-d" + wrkSeconds(d), "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, extra...)
	return append(args, url)
}

func wrkSeconds(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s) + "s"
}

// runWrk runs wrk once, bounded in time, and parses its report.
func runWrk(ctx context.Context, wrk, url string, connections int, d time.Duration, headers []string, extra ...string) (Run, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	args := wrkArgs(url, connections, d, headers, extra...)
	cmd := exec.CommandContext(ctx, wrk, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	line := "wrk " + strings.Join(args, " ")
	if err != nil {
		return Run{CommandLine: line}, fmt.Errorf("%s: %w: %s", line, err, tail(string(out), 400))
	}
	r, err := parseWrk(string(out))
	r.RawOutput, r.CommandLine = string(out), line
	if err != nil {
		return r, fmt.Errorf("%s: %w", line, err)
	}
	return r, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
