package suggest

import (
	"slices"
	"strings"
)

// Closest returns the options nearest to word (at most three, nearest first, ties in
// the options' order), or none when no option is close: an edit distance of at most
// a third of the word's length, and at least 1 and at most 4.
func Closest(word string, options []string) []string {
	limit := min(max(len([]rune(word))/3, 1), 4)
	type cand struct {
		s string
		d int
	}
	var cs []cand
	seen := map[string]bool{}
	for _, o := range options {
		if o == word || seen[o] {
			continue
		}
		seen[o] = true
		if d := Distance(strings.ToLower(word), strings.ToLower(o)); d <= limit {
			cs = append(cs, cand{o, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cs[:min(len(cs), 3)] {
		out = append(out, c.s)
	}
	return out
}

// Distance is the Levenshtein distance between a and b in runes, a transposition of
// two neighbours counting as one edit (optimal string alignment).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 { // hostile input: not worth a quadratic table
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
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

// Phrase is "; did you mean X?" (or "X or Y?"), or "" without suggestions.
func Phrase(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return "; did you mean " + s[0] + "?"
	}
	return "; did you mean " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1] + "?"
}
