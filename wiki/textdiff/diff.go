package textdiff

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Op says what happened to a chunk of text.
type Op int

const (
	Equal  Op = iota // in both texts
	Insert           // only in the new text
	Delete           // only in the old text
)

func (o Op) String() string {
	switch o {
	case Equal:
		return "="
	case Insert:
		return "+"
	case Delete:
		return "-"
	}
	return "?"
}

// Chunk is a run of text with one operation. Chunks returned by this
// package are never empty, and no two neighbours have the same Op.
type Chunk struct {
	Op   Op
	Text string
}

// Words diffs prose at word level. Tokens are runs of letters and digits
// (Unicode, so "Straßenbäume" is one word), runs of whitespace, and single
// other characters. Concatenating the Equal and Delete texts gives a, the
// Equal and Insert texts give b. Within one change the deletion comes first;
// spaces and punctuation between two replacements are folded into them, and
// a change that could sit in several places sits at the clearest break.
func Words(a, b string) []Chunk {
	return diffText(a, b, wordMode)
}

// Lines diffs line by line for the source view. Every chunk holds one or
// more whole lines including their "\n" (the last line of a text may lack
// it). Concatenation gives a and b back as with Words.
func Lines(a, b string) []Chunk {
	return diffText(a, b, lineMode)
}

// Stats counts the words (runs of letters and digits) in inserted and
// deleted chunks, for the "+12 −3" in the history.
func Stats(chunks []Chunk) (added, removed int) {
	for _, c := range chunks {
		switch c.Op {
		case Insert:
			added += countWords(c.Text)
		case Delete:
			removed += countWords(c.Text)
		}
	}
	return added, removed
}

func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		w := class(r) == classWord
		if w && !in {
			n++
		}
		in = w
	}
	return n
}

// contextTokens is how many unchanged tokens on each side of the trimmed
// middle are still diffed, so a change can slide to a nicer boundary.
const contextTokens = 8

// mode is what Words and Lines differ in: what a token is, and whether
// whitespace between two changes is folded into them.
type mode struct {
	boundary     func(s string, i int) bool
	appendBounds func(bounds []int, s string, from, to int) []int
	absorbSpace  bool
	tokenBytes   int // typical token length, to size slices up front
}

var (
	wordMode = mode{wordBoundary, appendWordBounds, true, 3}
	lineMode = mode{lineBoundary, appendLineBounds, false, 40}
)

const (
	classWord = iota
	classSpace
	classOther
)

func class(r rune) int {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return classWord
		case r == ' ', '\t' <= r && r <= '\r':
			return classSpace
		}
		return classOther
	}
	switch {
	case unicode.IsLetter(r), unicode.IsNumber(r), unicode.IsMark(r):
		return classWord
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// wordBoundary reports whether a token of s ends at byte i. It depends only
// on the runes either side of i, which is what makes trimming safe.
func wordBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	if !utf8.RuneStart(s[i]) {
		return false
	}
	r1, _ := utf8.DecodeLastRuneInString(s[:i])
	r2, _ := utf8.DecodeRuneInString(s[i:])
	c1 := class(r1)
	return c1 != class(r2) || c1 == classOther
}

func appendWordBounds(bounds []int, s string, from, to int) []int {
	for i := from; i < to; {
		r, w := utf8.DecodeRuneInString(s[i:to])
		c := class(r)
		i += w
		if c != classOther {
			for i < to {
				r, w = utf8.DecodeRuneInString(s[i:to])
				if class(r) != c {
					break
				}
				i += w
			}
		}
		bounds = append(bounds, i)
	}
	return bounds
}

func lineBoundary(s string, i int) bool {
	return i <= 0 || i >= len(s) || s[i-1] == '\n'
}

func appendLineBounds(bounds []int, s string, from, to int) []int {
	for i := from; i < to; {
		j := strings.IndexByte(s[i:to], '\n')
		if j < 0 {
			i = to
		} else {
			i += j + 1
		}
		bounds = append(bounds, i)
	}
	return bounds
}

// trimCommon returns how many bytes at the start and at the end a and b
// share, cut back to token boundaries and then by contextTokens tokens.
func trimCommon(a, b string, m mode) (pre, suf int) {
	n := min(len(a), len(b))
	for pre < n && a[pre] == b[pre] {
		pre++
	}
	for pre > 0 && !(m.boundary(a, pre) && m.boundary(b, pre)) {
		pre--
	}
	lim := n - pre
	for suf < lim && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for suf > 0 && !(m.boundary(a, len(a)-suf) && m.boundary(b, len(b)-suf)) {
		suf--
	}
	// Inside the common parts a boundary of a is one of b too.
	for k := 0; k < contextTokens && pre > 0; k++ {
		pre--
		for pre > 0 && !m.boundary(a, pre) {
			pre--
		}
	}
	for k := 0; k < contextTokens && suf > 0; k++ {
		suf--
		for suf > 0 && !m.boundary(a, len(a)-suf) {
			suf--
		}
	}
	return pre, suf
}

// side is one text cut into tokens: token k is s[bounds[k]:bounds[k+1]].
type side struct {
	s      string
	bounds []int
	ids    []int32
}

func (t *side) text(from, to int) string { return t.s[t.bounds[from]:t.bounds[to]] }

// Token ids: the trimmed common prefix and suffix are one token each.
const (
	idPrefix int32 = iota
	idSuffix
	idFirst
)

func tokenize(s string, pre, suf int, m mode, ids map[string]int32) side {
	t := side{s: s, bounds: make([]int, 1, 8+(len(s)-pre-suf)/m.tokenBytes)}
	if pre > 0 {
		t.bounds = append(t.bounds, pre)
	}
	t.bounds = m.appendBounds(t.bounds, s, pre, len(s)-suf)
	if suf > 0 {
		t.bounds = append(t.bounds, len(s))
	}
	t.ids = make([]int32, len(t.bounds)-1)
	for k := range t.ids {
		switch {
		case k == 0 && pre > 0:
			t.ids[k] = idPrefix
		case k == len(t.ids)-1 && suf > 0:
			t.ids[k] = idSuffix
		default:
			tok := t.text(k, k+1)
			id, ok := ids[tok]
			if !ok {
				id = idFirst + int32(len(ids))
				ids[tok] = id
			}
			t.ids[k] = id
		}
	}
	return t
}

func diffText(a, b string, m mode) []Chunk {
	if a == b {
		if a == "" {
			return nil
		}
		return []Chunk{{Equal, a}}
	}
	pre, suf := trimCommon(a, b, m)
	ids := make(map[string]int32)
	ta := tokenize(a, pre, suf, m, ids)
	tb := tokenize(b, pre, suf, m, ids)
	spans := normalize(diffIDs(ta.ids, tb.ids, maxCost))
	if m.absorbSpace {
		spans = normalize(absorbSpace(spans, &ta))
	}
	spans = normalize(slide(spans, &ta, &tb))
	return toChunks(spans, &ta, &tb)
}

func toChunks(spans []span, ta, tb *side) []Chunk {
	chunks := make([]Chunk, 0, len(spans))
	i, j := 0, 0
	for _, sp := range spans {
		switch sp.op {
		case Equal:
			chunks = append(chunks, Chunk{Equal, ta.text(i, i+sp.n)})
			i += sp.n
			j += sp.n
		case Delete:
			chunks = append(chunks, Chunk{Delete, ta.text(i, i+sp.n)})
			i += sp.n
		case Insert:
			chunks = append(chunks, Chunk{Insert, tb.text(j, j+sp.n)})
			j += sp.n
		}
	}
	return chunks
}
