package main

import (
	"strings"
	"testing"
)

// FuzzParseWrk feeds wrk reports, whole and mangled, to the parser: it
// must not panic, and what it accepts must be sane.
func FuzzParseWrk(f *testing.F) {
	f.Add(wrkSample)
	f.Add(wrkErrors)
	f.Add("     99%    1.90s\nRequests/sec:  1.0\n")
	f.Add("  Socket errors: connect 1, read\n     99%  1ms\nRequests/sec: 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := parseWrk(in)
		if err != nil {
			return
		}
		if r.P99 < 0 || r.P50 < 0 || r.Duration < 0 {
			t.Errorf("negative duration accepted: %+v", r)
		}
		if !strings.Contains(in, "Requests/sec:") {
			t.Errorf("accepted a report without Requests/sec: %q", in)
		}
	})
}

// FuzzProcFiles feeds /proc lines to the two small parsers of /proc.
func FuzzProcFiles(f *testing.F) {
	f.Add("123 (gopaste) S 1 123 123 0 -1", "VmHWM:\t 12000 kB\nVmRSS:\t 9000 kB\n")
	f.Add("77 (a (weird) name) R 10 55 55", "VmRSS: x kB\n")
	f.Fuzz(func(t *testing.T, stat, status string) {
		statPGRP(stat)
		rss, hwm, err := parseMemStatus(strings.NewReader(status))
		if err == nil && (rss < 0 || hwm < 0) {
			t.Errorf("negative memory accepted: %d, %d from %q", rss, hwm, status)
		}
	})
}
