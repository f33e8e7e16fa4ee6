package search

import "testing"

// Typos are counted as Meilisearch counts them, so a similar listed word
// is a typo alternative only within its budget.
func TestTypoDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"starkrgen", "starkregen", 1},
		{"kernvewaltng", "kernverwaltung", 2},
		{"kernverwaltung", "verwaltung", 3},
		{"starkregenvorsorge", "starkregen", 3},
		{"sensoren", "sensorik", 2},
		{"akte", "atke", 1},
		{"zisternenfordrung", "zisternenforderung", 1},
	} {
		if got := typoDistance(c.a, c.b); got != c.want {
			t.Errorf("typoDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
