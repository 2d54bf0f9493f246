package main

import (
	"fmt"
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

// FuzzProcFiles feeds /proc lines to the small parsers of /proc: a stat
// line without the ")" that ends the command name has no group and no
// times; with stat as the command name (spaces, parentheses and all), the
// group and the times come back; no memory figure or time is negative.
func FuzzProcFiles(f *testing.F) {
	f.Add("123 (gopaste) S 1 123 123 0 -1", "VmHWM:\t 12000 kB\nVmRSS:\t 9000 kB\n")
	f.Add("77 (a (weird) name) R 10 55 55", "VmRSS: x kB\n")
	f.Add(") S 1 2 3", "")
	f.Add("1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 7 8 20 0 1 0 99", "")
	f.Add("1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 -7 8 20 0 1 0 99", "")
	f.Add("1 (x) S 1 1 1 0 -1 0 0 0 0 0 9223372036854775807 9223372036854775807 0 0 20 0 1 0 1", "")
	f.Fuzz(func(t *testing.T, stat, status string) {
		if _, ok := statPGRP(stat); ok && !strings.Contains(stat, ")") {
			t.Errorf("statPGRP(%q) found a group without a command name", stat)
		}
		line := fmt.Sprintf("77 (%s) R 10 4242 55 0 -1", stat)
		if g, ok := statPGRP(line); !ok || g != 4242 {
			t.Errorf("statPGRP(%q) = %d, %v; want 4242, true", line, g, ok)
		}
		if tm, ok := statTimes(stat); ok && (!strings.Contains(stat, ")") || tm.own < 0 || tm.reaped < 0 || tm.start < 0) {
			t.Errorf("statTimes(%q) = %+v, accepted", stat, tm)
		}
		line = fmt.Sprintf("77 (%s) R 10 4242 55 0 -1 0 0 0 0 0 11 12 13 14 20 0 1 0 99", stat)
		if tm, ok := statTimes(line); !ok || tm != (procCPU{own: 23, reaped: 27, start: 99}) {
			t.Errorf("statTimes(%q) = %+v, %v; want own 23, reaped 27, start 99", line, tm, ok)
		}
		rss, hwm, err := parseMemStatus(strings.NewReader(status))
		if err == nil && (rss < 0 || hwm < 0) {
			t.Errorf("negative memory accepted: %d, %d from %q", rss, hwm, status)
		}
	})
}
