package admin

// This file prints a snapshot for a terminal: "gopaste status".

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// sparkWidth is how many characters a series' sparkline takes: 90
// windows, three per character.
const sparkWidth = Windows / 3

// WriteText prints s as "gopaste status" shows it: a header line, the
// mounts and backends with their last minute (rate, error share, p50,
// p99), total and a sparkline of the request rate over 15 minutes, and
// the workers.
func WriteText(w io.Writer, s Snapshot) error {
	ready := "ready"
	if !s.Ready {
		ready = "not ready"
		if s.NotReady != "" {
			ready += " (" + s.NotReady + ")"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gopaste pid %d · %s · %s · up %s · %s\n", s.PID, s.State, ready,
		humanDuration(s.Time.Sub(s.Started)), s.Time.Format("2006-01-02 15:04:05 MST"))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	series := func(title string, list []SeriesStats) {
		fmt.Fprintln(tw)
		if len(list) == 0 {
			tw.Flush()
			fmt.Fprintf(&b, "%s: none yet\n", strings.ToLower(title))
			return
		}
		fmt.Fprintf(tw, "%s\tREQ/S\tERR\tP50\tP99\tTOTAL\tREQUESTS/S, 15 MIN\n", title)
		for _, st := range list {
			sum := Summarize(st, 0)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", st.Name, humanRate(sum.Rate), humanPercent(sum.ErrorRate),
				humanSeconds(sum.P50), humanSeconds(sum.P99), st.Requests, sparkline(st.Points))
		}
		tw.Flush()
	}
	series("MOUNT", s.Mounts)
	series("BACKEND", s.Backends)
	fmt.Fprintln(&b)
	if len(s.Workers) == 0 {
		b.WriteString("workers: none\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POOL\tPID\tSTATE\tREQUESTS\tRSS\tAGE\tCURRENT\tFOR")
		for _, wk := range s.Workers {
			v := newWorkerView(wk, s.Time)
			mark := ""
			if v.Long {
				mark = " !"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s%s\n", v.Pool, v.PID, v.State, v.Requests, v.RSS, v.Age, v.Current, v.For, mark)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sparkline draws the request rate of pts in sparkWidth block
// characters, scaled to the highest.
func sparkline(pts []Point) string {
	const blocks = "▁▂▃▄▅▆▇█"
	levels := []rune(blocks)
	per := max(len(pts)/sparkWidth, 1)
	var rates []float64
	top := 0.0
	for i := 0; i < len(pts); i += per {
		var n uint64
		var secs float64
		for _, p := range pts[i:min(i+per, len(pts))] {
			n += p.Requests
			secs += p.Seconds
		}
		r := 0.0
		if secs > 0 {
			r = float64(n) / secs
		}
		rates = append(rates, r)
		top = max(top, r)
	}
	var b strings.Builder
	for _, r := range rates {
		i := 0
		if top > 0 {
			i = int(r / top * float64(len(levels)-1))
		}
		b.WriteRune(levels[i])
	}
	return b.String()
}
