package markdown

import (
	"bytes"
	"strconv"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"

	"hansewiki/wiki/slug"
)

const (
	// maxIDLen keeps anchors readable in URLs; long headings still differ early.
	maxIDLen = 80
	// emptyID is used for headings without letters or digits ("## ???").
	emptyID = "abschnitt"
)

// headingIDs implements parser.IDs with German transliteration, so that
// "## Über uns" gets "ueber-uns" (goldmark's default would drop the Ü).
// Footnote anchors are "fn:1" and "fnref:1"; slugs never contain a colon,
// so heading IDs cannot collide with them.
type headingIDs struct {
	// used maps every ID handed out to the next suffix to try when the
	// same base comes again, so n equal headings cost O(n), not O(n²).
	used map[string]int
	buf  []byte
}

func (h *headingIDs) reset() {
	if h.used == nil {
		h.used = make(map[string]int)
	}
	clear(h.used)
}

// Generate is called by goldmark with the raw Markdown of the heading line.
func (h *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	h.buf = headingPlain(h.buf[:0], value)
	base := slug.Make(string(h.buf), maxIDLen)
	if base == "" {
		base = emptyID
	}
	next, taken := h.used[base]
	if !taken {
		h.used[base] = 1
		return []byte(base)
	}
	for n := next; ; n++ {
		id := base + "-" + strconv.Itoa(n)
		if _, taken := h.used[id]; !taken {
			h.used[base] = n + 1
			h.used[id] = 1
			return []byte(id)
		}
	}
}

// Put records an ID set explicitly so generated ones avoid it.
func (h *headingIDs) Put(value []byte) {
	if _, ok := h.used[string(value)]; !ok {
		h.used[string(value)] = 1
	}
}

// headingPlain appends the visible text of one line of heading Markdown to
// dst: link destinations, footnote references, HTML tags and wiki-link
// targets that have a label are dropped, so that "## [Satzung](https://x)"
// gets the ID "satzung". Emphasis and other punctuation can stay: slug.Make
// folds it away.
func headingPlain(dst, src []byte) []byte {
	if !bytes.ContainsAny(src, "[<&\\") {
		return append(dst, src...)
	}
	// unclosed remembers closing delimiters that do not occur after some
	// position, so a line full of "[[" stays linear.
	var unclosed [4]bool
	closeAt := func(kind int, b []byte, sep string) int {
		if unclosed[kind] {
			return -1
		}
		i := bytes.Index(b, []byte(sep))
		unclosed[kind] = i < 0
		return i
	}
	for i := 0; i < len(src); {
		c := src[i]
		next := byte(0)
		if i+1 < len(src) {
			next = src[i+1]
		}
		switch {
		case c == '\\' && util.IsPunct(next):
			dst = append(dst, next)
			i += 2
			continue
		case c == '[' && next == '[':
			if end := closeAt(0, src[i+2:], "]]"); end >= 0 {
				inner := src[i+2 : i+2+end]
				if bar := bytes.IndexByte(inner, '|'); bar >= 0 {
					inner = inner[bar+1:]
				}
				dst = append(dst, ' ')
				dst = append(dst, inner...)
				dst = append(dst, ' ')
				i += end + 4
				continue
			}
		case c == '[' && next == '^':
			if end := closeAt(1, src[i:], "]"); end >= 0 {
				i += end + 1
				continue
			}
		case c == ']' && next == '(':
			if end := closeAt(2, src[i:], ")"); end >= 0 {
				i += end + 1
				continue
			}
		case c == '<' && (util.IsAlphaNumeric(next) || next == '/' || next == '!'):
			if end := closeAt(3, src[i:], ">"); end >= 0 {
				inner := src[i+1 : i+end]
				// <https://example.org> is an autolink: its text is visible.
				if bytes.IndexByte(inner, ' ') < 0 && bytes.ContainsAny(inner, ":@") {
					dst = append(dst, inner...)
				}
				dst = append(dst, ' ')
				i += end + 1
				continue
			}
		case c == '&':
			if end := bytes.IndexByte(src[i:min(i+12, len(src))], ';'); end > 1 {
				ref := util.ResolveEntityNames(util.ResolveNumericReferences(src[i : i+end+1]))
				dst = append(dst, ref...)
				i += end + 1
				continue
			}
		}
		dst = append(dst, c)
		i++
	}
	return dst
}
