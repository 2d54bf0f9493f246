package cli

import "testing"

// Local workers leave the Go runtime half the CPUs, at least one;
// without them it keeps its default.
func TestProcsFor(t *testing.T) {
	for _, tc := range []struct{ def, workers, want int }{
		{2, 0, 2}, {2, 2, 1}, {1, 4, 1}, {8, 8, 4}, {8, 1, 4}, {64, 0, 64}, {3, 2, 1},
	} {
		if got := procsFor(tc.def, tc.workers); got != tc.want {
			t.Errorf("procsFor(%d, %d) = %d, want %d", tc.def, tc.workers, got, tc.want)
		}
	}
}
