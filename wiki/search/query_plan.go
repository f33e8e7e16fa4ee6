package search

import (
	"slices"
	"strings"
	"unicode"
)

// A query plan is the query's words as groups that must all match; each
// group holds alternatives of which one must: the word itself, its synonyms,
// its spelling without ae/oe/ue, and (for PostgreSQL, from the word list)
// compounds ending in it and similar words for typos.
type queryPlan struct {
	all    []token // the query's words
	words  []int   // indexes into all of the words that are not stop words
	groups []planGroup
}

type planGroup struct {
	single bool   // one query word, not a synonym phrase
	word   string // that word in lower case (single groups)
	pos    int    // its index in queryPlan.all (single groups)
	alts   []planAlt
	// similar: the word list has words similar to it, so "did you mean"
	// may find a correction (PostgreSQL; set by expand).
	similar bool
	// synonym: the word is a typo of this one-word synonym term, whose
	// group its alternatives hold (set by expand).
	synonym *synonymTerm
}

type planAlt struct {
	text   string // words separated by spaces
	prefix bool   // the last query word: also matches words it starts
	typo   bool   // a correction, not what was typed
}

// minPrefixRunes: a last word shorter than this is not matched as a prefix,
// as a one- or two-letter prefix matches most of the index.
const minPrefixRunes = 3

// minExpandRunes: shorter words get no typo or compound alternatives.
const minExpandRunes = 4

func planFor(text string) queryPlan {
	p := queryPlan{all: tokenize(text)}
	var words []token
	for i, t := range p.all {
		if !stopKeys[t.key] {
			words = append(words, t)
			p.words = append(p.words, i)
		}
	}
	for i := 0; i < len(words); {
		if n, gi := matchSynonym(words[i:]); n > 0 {
			var g planGroup
			for _, term := range synonymGroups[gi] {
				g.alts = append(g.alts, planAlt{text: strings.ToLower(joinWords(term))})
			}
			p.groups = append(p.groups, g)
			i += n
			continue
		}
		w := words[i].word
		g := planGroup{single: true, word: w, pos: p.words[i]}
		last := i == len(words)-1
		g.alts = append(g.alts, planAlt{text: w, prefix: last && len([]rune(w)) >= minPrefixRunes})
		if u := unumlaut(w); u != "" {
			g.alts = append(g.alts, planAlt{text: u, prefix: last && len([]rune(u)) >= minPrefixRunes})
		}
		p.groups = append(p.groups, g)
		i++
	}
	return p
}

// matchSynonym finds the longest synonym phrase at the start of words and
// returns its length in words and its group.
func matchSynonym(words []token) (n, group int) {
	for _, ph := range synonymIndex {
		if len(ph.keys) <= n || len(ph.keys) > len(words) {
			continue
		}
		match := true
		for k, key := range ph.keys {
			if words[k].key != key {
				match = false
				break
			}
		}
		if match {
			n, group = len(ph.keys), ph.group
		}
	}
	return n, group
}

func joinWords(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}

// expandable reports whether a single word gets alternatives from the word
// list: long enough, and not a number.
func expandable(w string) bool {
	if len([]rune(w)) < minExpandRunes {
		return false
	}
	return slices.ContainsFunc([]rune(w), unicode.IsLetter)
}

// arrays returns the plan as parallel arrays for the SQL that builds the
// tsquery: group number, text, prefix, typo.
func (p queryPlan) arrays() (groups []int32, texts []string, prefix, typo []bool) {
	for gi, g := range p.groups {
		for _, a := range g.alts {
			groups = append(groups, int32(gi))
			texts = append(texts, a.text)
			prefix = append(prefix, a.prefix)
			typo = append(typo, a.typo)
		}
	}
	return
}

func (p queryPlan) hasTypos() bool {
	for _, g := range p.groups {
		if g.hasTypos() {
			return true
		}
	}
	return false
}

func (g planGroup) hasTypos() bool {
	for _, a := range g.alts {
		if a.typo {
			return true
		}
	}
	return false
}
