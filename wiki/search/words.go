package search

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// token is one word of a query: as typed in lower case, and folded.
type token struct {
	orig string // as typed
	word string // lower case
	key  string // folded: umlauts as ae/oe/ue, ß as ss, other accents dropped
}

// tokenize splits text into words of letters and digits; everything else,
// hyphens included, separates words (as PostgreSQL's parser splits "E-Akte").
func tokenize(text string) []token {
	var out []token
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		lw := strings.ToLower(w)
		out = append(out, token{orig: w, word: lw, key: fold(lw)})
	}
	return out
}

var umlauts = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ß", "ss", "ẞ", "SS")

// translit writes German umlauts and ß the way they are typed without them.
func translit(s string) string { return umlauts.Replace(s) }

// fold is the key words are compared by: lower case, umlauts transliterated,
// other diacritics dropped.
func fold(s string) string {
	s = translit(strings.ToLower(s))
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// unumlaut is the spelling PostgreSQL indexes a word typed with ae/oe/ue
// under: the index is unaccented, so "Bürger" is stored as "burger", and a
// query for "buerger" needs "burger" as an alternative. It returns "" when
// the word has no such letters.
func unumlaut(word string) string {
	r := strings.NewReplacer("ae", "a", "oe", "o", "ue", "u").Replace(word)
	if r == word {
		return ""
	}
	return r
}

// docWords returns the distinct words of the given texts, in order of first
// appearance.
func docWords(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			lw := strings.ToLower(w)
			if !seen[lw] {
				seen[lw] = true
				out = append(out, lw)
			}
		}
	}
	return out
}

// translitField holds the ae/oe/ue spelling of every word with an umlaut or
// ß, so Meilisearch finds "Bürger" for "Buerger": it compares words without
// their diacritics ("burger"), which is one letter off "buerger" and no
// match at all for short words.
func translitField(words []string) string {
	var out []string
	for _, w := range words {
		if t := translit(w); t != w {
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}

// minCompoundRunes is the length from which a word is handed to
// Meilisearch's German segmentation as a possible compound.
const minCompoundRunes = 8

// compoundField lists the long words, which Meilisearch splits into their
// parts with its German segmentation (the field is localized as German), so
// "Kataster" finds "Gründachkataster". Only this field is segmented: German
// segmentation of all text would break synonyms and highlighting.
func compoundField(words []string) string {
	var out []string
	for _, w := range words {
		if len([]rune(w)) >= minCompoundRunes {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
