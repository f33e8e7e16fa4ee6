package search

import (
	"html"
	"html/template"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PostgreSQL search highlights matches in Go rather than with ts_headline:
// ts_headline parses and stems the whole text of every hit again (0.15 ms
// per 1,000 characters, 20 hits a page), which cost a search on 10,000
// articles as much as finding the matches. The stems to look for are the
// lexemes of the tsquery, which PostgreSQL made from the query; a word of
// the text is marked when, lower cased and unaccented as the stemmer sees
// it, it starts with one of them and the rest looks like an ending the
// German stemmer removes. Fragments are chosen as ts_headline did with
// MaxWords=32, MaxFragments=2: the stretches with the most different
// lexemes, joined with " … ".

// lexeme is one operand of a tsquery.
type lexeme struct {
	text   string
	prefix bool // :* — matches every word starting with it
}

const (
	fragmentWords  = 32 // words per fragment
	fragmentBefore = 6  // words shown before the first match of a fragment
	maxFragments   = 2
	// maxEnding bounds what may follow a stem of four letters or more
	// ("Verwalt-ungen", "Beteil-igung"); shorter stems take only the
	// inflections in shortEndings, so "akt" marks "Akten" but not "Aktion".
	maxEnding = 6
)

var shortEndings = map[string]bool{"e": true, "em": true, "en": true, "er": true, "ern": true, "es": true, "s": true, "n": true, "st": true, "est": true}

// matches reports whether word, folded as the stemmer sees it (lower case,
// accents dropped as unaccent does: "Bürger" is "burger", ß is ss), is an
// inflection of l. It folds as it compares and allocates nothing for most
// words, which differ from every lexeme in their first letters.
func (l lexeme) matches(word string) bool {
	if c := word[0]; c < utf8.RuneSelf && l.text[0] < utf8.RuneSelf && asciiLower[c][0] != l.text[0] {
		return false // the common case, decided without folding
	}
	k := 0 // bytes of l.text matched
	rest := 0
	var ending [3]string
	for _, r := range word {
		f := foldRune(r)
		if k < len(l.text) {
			if !strings.HasPrefix(l.text[k:], f) {
				return false // also when a stem would end inside "ss" of ß
			}
			k += len(f)
			continue
		}
		if rest < len(ending) {
			ending[rest] = f
		}
		rest++
	}
	switch {
	case k < len(l.text):
		return false
	case l.prefix || rest == 0:
		return true
	case utf8.RuneCountInString(l.text) >= 4:
		return rest <= maxEnding
	}
	return rest <= len(ending) && shortEndings[ending[0]+ending[1]+ending[2]]
}

// foldRune is r in lower case without accents.
func foldRune(r rune) string {
	if r < utf8.RuneSelf {
		return asciiLower[r]
	}
	if f, ok := foldedLetters[r]; ok {
		return f
	}
	return stripAccents(string(unicode.ToLower(r)))
}

func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var asciiLower = func() (t [utf8.RuneSelf]string) {
	for i := range t {
		t[i] = strings.ToLower(string(rune(i)))
	}
	return t
}()

// foldedLetters are the accented letters of German and its neighbours,
// folded without a Unicode decomposition each time.
var foldedLetters = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o"}
	for _, r := range "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ" {
		m[r] = stripAccents(string(unicode.ToLower(r)))
	}
	return m
}()

// textWord is a word of the text: its byte range and the lexeme it
// matches, -1 for none.
type textWord struct {
	start, end int
	lexeme     int
}

// highlight returns up to two fragments of text around the words that
// match lexemes, escaped, matches in <mark>; the start of the text when
// nothing matches.
func highlight(text string, lexemes []lexeme) template.HTML {
	words := make([]textWord, 0, len(text)/6)
	marked := false
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		w := textWord{start: i, end: j, lexeme: -1}
		for li, l := range lexemes {
			if l.matches(text[i:j]) {
				if !stopKeys[fold(text[i:j])] {
					w.lexeme, marked = li, true
				}
				break
			}
		}
		words = append(words, w)
		i = j
	}
	if !marked {
		return leadSnippet(text)
	}
	var frags []int // first word of each fragment
	for len(frags) < maxFragments {
		start, best := -1, 0
		for i, w := range words {
			if w.lexeme < 0 {
				continue
			}
			s := max(0, i-fragmentBefore)
			if overlaps(frags, s) {
				continue
			}
			if n := distinctLexemes(words[s:min(s+fragmentWords, len(words))]); n > best {
				start, best = s, n
			}
		}
		if start < 0 {
			break
		}
		frags = append(frags, start)
	}
	if len(frags) == 2 && frags[1] < frags[0] {
		frags[0], frags[1] = frags[1], frags[0]
	}
	var b strings.Builder
	for fi, s := range frags {
		if fi > 0 {
			b.WriteString(" … ")
		}
		e := min(s+fragmentWords, len(words))
		pos := words[s].start
		for _, w := range words[s:e] {
			b.WriteString(html.EscapeString(text[pos:w.start]))
			if w.lexeme >= 0 {
				b.WriteString("<mark>" + html.EscapeString(text[w.start:w.end]) + "</mark>")
			} else {
				b.WriteString(html.EscapeString(text[w.start:w.end]))
			}
			pos = w.end
		}
		if e == len(words) {
			b.WriteString(html.EscapeString(text[pos:])) // the punctuation at the end
		}
	}
	return template.HTML(b.String())
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// overlaps reports whether a fragment starting at word s would share words
// with one of frags.
func overlaps(frags []int, s int) bool {
	for _, f := range frags {
		if s < f+fragmentWords && f < s+fragmentWords {
			return true
		}
	}
	return false
}

func distinctLexemes(words []textWord) int {
	var seen []int
	for _, w := range words {
		if w.lexeme >= 0 && !slices.Contains(seen, w.lexeme) {
			seen = append(seen, w.lexeme)
		}
	}
	return len(seen)
}
