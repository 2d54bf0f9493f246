package cli

import "testing"

// TestIsLiteral covers every branch of isLiteral, the lists with words
// among them too: their pattern is compiled on first use, so only a
// test that reaches it would show it broken.
func TestIsLiteral(t *testing.T) {
	for _, tc := range []struct {
		rhs  string
		want bool
	}{
		{"", false},
		{"# only a comment", false},
		{"None", true},
		{"4  # workers", true},
		{"'0.0.0.0:8000'", true},
		{`"a" + "b"`, false},
		{`["127.0.0.1:8000", '[::1]:8000']`, true},
		{"(1, 2.5)", true},
		{"[True, None, 3]", true},
		{"[True, workers]", false},
		{"os.environ['PORT']", false},
		{"multiprocessing.cpu_count() * 2 + 1", false},
	} {
		if got := isLiteral(tc.rhs); got != tc.want {
			t.Errorf("isLiteral(%q) = %v, want %v", tc.rhs, got, tc.want)
		}
	}
}
