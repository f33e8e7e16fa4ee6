package textdiff

import (
	"slices"
	"strings"
)

// Kind says what happened to a line in a Prose diff.
type Kind int

const (
	Unchanged Kind = iota // the same in both texts
	Added                 // only in the new text
	Removed               // only in the old text
	Changed               // an old line edited into a new one
)

func (k Kind) String() string {
	switch k {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	}
	return "?"
}

// Line is one line of a Prose diff, without its line break. Unchanged,
// Added and Removed lines hold one chunk (Equal, Insert or Delete) with the
// line's text, empty for a blank line; Changed lines hold the word diff of
// the old and the new line.
type Line struct {
	Kind   Kind
	Old    int // 1-based line number in the old text, 0 for an added line
	New    int // 1-based line number in the new text, 0 for a removed line
	Chunks []Chunk
}

// OldText is the line as it was (empty for an added line).
func (l Line) OldText() string { return joinChunks(l.Chunks, Insert) }

// NewText is the line as it is now (empty for a removed line).
func (l Line) NewText() string { return joinChunks(l.Chunks, Delete) }

func joinChunks(chunks []Chunk, skip Op) string {
	var b strings.Builder
	for _, c := range chunks {
		if c.Op != skip {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// Prose aligns the lines of a and b (Markdown paragraphs are usually one
// line each) and diffs each pair of similar old and new lines by Words. A
// line whose only difference is its line break ("\r\n", or none at the end
// of the text) counts as unchanged.
func Prose(a, b string) []Line {
	var p proseBuilder
	chunks := Lines(a, b)
	for k := 0; k < len(chunks); {
		if chunks[k].Op == Equal {
			for _, l := range splitLines(chunks[k].Text) {
				p.old++
				p.new++
				p.lines = append(p.lines, Line{Unchanged, p.old, p.new, []Chunk{{Equal, l}}})
			}
			k++
			continue
		}
		var dels, inss []string
		for ; k < len(chunks) && chunks[k].Op != Equal; k++ {
			if chunks[k].Op == Delete {
				dels = append(dels, splitLines(chunks[k].Text)...)
			} else {
				inss = append(inss, splitLines(chunks[k].Text)...)
			}
		}
		p.hunk(dels, inss)
	}
	return p.lines
}

// splitLines cuts s after every "\n" and drops the line breaks.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\n")
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

type proseBuilder struct {
	lines    []Line
	old, new int
}

func (p *proseBuilder) removed(l string) {
	p.old++
	p.lines = append(p.lines, Line{Removed, p.old, 0, []Chunk{{Delete, l}}})
}

func (p *proseBuilder) added(l string) {
	p.new++
	p.lines = append(p.lines, Line{Added, 0, p.new, []Chunk{{Insert, l}}})
}

func (p *proseBuilder) changed(o, n string) {
	p.old++
	p.new++
	chunks := Words(o, n)
	kind := Changed
	if !slices.ContainsFunc(chunks, func(c Chunk) bool { return c.Op != Equal }) {
		kind = Unchanged
		chunks = []Chunk{{Equal, o}}
	}
	p.lines = append(p.lines, Line{kind, p.old, p.new, chunks})
}

// Pairing thresholds: lines at least this similar are shown as one changed
// line; hunks larger than maxPairs line pairs are paired by position only.
const (
	minSimilarity = 0.5
	maxPairs      = 2500
)

// hunk emits a run of removed and added lines, pairing old and new lines
// that are similar enough to read as one edited line. Pairs keep their
// order (a small dynamic programme maximising total similarity).
func (p *proseBuilder) hunk(dels, inss []string) {
	m, n := len(dels), len(inss)
	if m == 0 || n == 0 || m*n > maxPairs {
		p.pairByIndex(dels, inss)
		return
	}
	fo, fn := features(dels), features(inss)
	sim := make([]float64, m*n)
	best := make([]float64, (m+1)*(n+1)) // best[i*(n+1)+j]: lines i.. and j..
	for i := m - 1; i >= 0; i-- {
		for j := n - 1; j >= 0; j-- {
			s := similarity(fo[i], fn[j])
			sim[i*n+j] = s
			v := max(best[(i+1)*(n+1)+j], best[i*(n+1)+j+1])
			if s >= minSimilarity {
				v = max(v, best[(i+1)*(n+1)+j+1]+s)
			}
			best[i*(n+1)+j] = v
		}
	}
	i, j := 0, 0
	for i < m && j < n {
		s := sim[i*n+j]
		switch v := best[i*(n+1)+j]; {
		case s >= minSimilarity && v == best[(i+1)*(n+1)+j+1]+s:
			p.changed(dels[i], inss[j])
			i, j = i+1, j+1
		case v == best[(i+1)*(n+1)+j]:
			p.removed(dels[i])
			i++
		default:
			p.added(inss[j])
			j++
		}
	}
	for ; i < m; i++ {
		p.removed(dels[i])
	}
	for ; j < n; j++ {
		p.added(inss[j])
	}
}

func (p *proseBuilder) pairByIndex(dels, inss []string) {
	k := 0
	for ; k < len(dels) && k < len(inss); k++ {
		if similarity(feature(dels[k]), feature(inss[k])) >= minSimilarity {
			p.changed(dels[k], inss[k])
		} else {
			p.removed(dels[k])
			p.added(inss[k])
		}
	}
	for _, l := range dels[k:] {
		p.removed(l)
	}
	for _, l := range inss[k:] {
		p.added(l)
	}
}

// lineFeature is what similarity compares: the line, and its words and
// punctuation as a sorted multiset of hashes.
type lineFeature struct {
	text   string
	tokens []uint64
}

func features(lines []string) []lineFeature {
	fs := make([]lineFeature, len(lines))
	for i, l := range lines {
		fs[i] = feature(l)
	}
	return fs
}

func feature(l string) lineFeature {
	bounds := appendWordBounds([]int{0}, l, 0, len(l))
	f := lineFeature{text: l}
	for k := 0; k+1 < len(bounds); k++ {
		tok := l[bounds[k]:bounds[k+1]]
		if strings.TrimSpace(tok) == "" {
			continue
		}
		f.tokens = append(f.tokens, hash(tok))
	}
	slices.Sort(f.tokens)
	return f
}

// hash is 64-bit FNV-1a; a collision only makes two lines look more alike.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// similarity is the larger of the Dice coefficient of the token multisets
// and the share of the longer line covered by a common prefix and suffix,
// which catches one-word lines ("Straßenbäume" → "Straßenbäumen").
func similarity(a, b lineFeature) float64 {
	if a.text == b.text {
		return 1
	}
	var dice float64
	if n := len(a.tokens) + len(b.tokens); n > 0 {
		common := 0
		for i, j := 0, 0; i < len(a.tokens) && j < len(b.tokens); {
			switch {
			case a.tokens[i] == b.tokens[j]:
				common++
				i++
				j++
			case a.tokens[i] < b.tokens[j]:
				i++
			default:
				j++
			}
		}
		dice = 2 * float64(common) / float64(n)
	}
	x, y := a.text, b.text
	short := min(len(x), len(y))
	pre := 0
	for pre < short && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < short-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	affix := float64(pre+suf) / float64(max(len(x), len(y)))
	return max(dice, affix)
}
