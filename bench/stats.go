package main

import (
	"math"
	"slices"
	"time"
)

// Summary is the median, minimum and maximum of a series.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// summarize returns the median (the mean of the two middle values for an
// even count), min and max of xs; the zero Summary for none.
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: m, Min: s[0], Max: s[n-1]}
}

// Spread is (max-min)/min: 0.25 means the slowest and the fastest round
// differ by 25%. It is 0 for an empty or all-zero series.
func (s Summary) Spread() float64 {
	if s.Min <= 0 {
		if s.Max > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return (s.Max - s.Min) / s.Min
}

// spreadLimit is the spread above which a series gets a warning.
const spreadLimit = 0.20

// ratios divides a[i] by b[i] pair by pair; a pair with b[i] == 0 is left
// out.
func ratios(a, b []float64) []float64 {
	var out []float64
	for i := 0; i < len(a) && i < len(b); i++ {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

func durationsToMillis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}
