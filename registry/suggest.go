package registry

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate closest to name, for a "did you mean"
// hint after an unknown key, part, section or command, or "" when none is
// close enough. Closeness is the Damerau-Levenshtein distance (an
// adjacent transposition counts as one edit) ignoring case, and a
// candidate is close enough when that distance is at most 1 for names of
// up to 4 letters, 2 up to 9 and 3 beyond; a candidate equal to name is
// not a suggestion. Among equally close candidates the first wins.
func Suggest(name string, candidates []string) string {
	best, bestD := "", -1
	ln := strings.ToLower(name)
	for _, c := range candidates {
		if c == name || c == "" {
			continue
		}
		d := distance(ln, strings.ToLower(c))
		if d > maxEdits(utf8.RuneCountInString(c)) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean is Suggest phrased for the end of an error message:
// "; did you mean document_root?", or "" when nothing is close.
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// maxEdits is how many edits a name of n letters may be from what was
// written and still be offered.
func maxEdits(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 9:
		return 2
	}
	return 3
}

// distance is the optimal string alignment distance of a and b in runes:
// insertions, deletions, substitutions and adjacent transpositions.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back (for transpositions), previous, current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Names returns the names and aliases of the parts of kind k (App
// includes composites, which share its namespace), for [Suggest]. An
// "egg:Dist#name" alias is left out: its name is the part's.
func (r *Registry) Names(k Kind) []string {
	kinds := []Kind{k}
	if k == App {
		kinds = append(kinds, Composite)
	}
	var out []string
	for _, kk := range kinds {
		for _, p := range r.Parts(kk) {
			out = append(out, p.Name)
			for _, a := range p.Aliases {
				if !strings.HasPrefix(a, "egg:") {
					out = append(out, a)
				}
			}
		}
	}
	return out
}
