package markdown

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// renderState is the per-render scratch space, pooled by Renderer.
type renderState struct {
	ids  headingIDs
	home string // slug of the article's city

	// Wiki links in document order, each with the index of its target in
	// targets (distinct, in order of first appearance).
	wikis      []*wikiLink
	wikiTarget []int
	targets    []Link
	index      map[Link]int

	text  []byte // heading text being collected
	depth int    // >0 while inside a TOC heading

	bw    *bufio.Writer
	raw   bytes.Buffer // goldmark output
	in    bytes.Reader
	clean bytes.Buffer // final output when there are regions to sanitize

	sanitized bytes.Buffer // sanitizer output for one region
	fixed     []byte
	region    []byte   // a region with raw-text elements confined
	marks     []int    // output offsets: start and end of each region to sanitize
	open      []string // elements opened by raw HTML and not yet closed
}

// collectDocument walks the document once: it resolves wiki links to the
// home city, gathers distinct targets, builds the table of contents and
// marks the top-level blocks that contain raw HTML for the sanitizer.
func (st *renderState) collectDocument(doc ast.Node, src []byte, res *Result) {
	var run ast.Node // first block of the current run of raw-HTML blocks
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if st.collect(c, src, res) {
			if run == nil {
				run = c
			}
			continue
		}
		if run != nil {
			st.markRegion(doc, run, c)
			run = nil
		}
	}
	if run != nil {
		st.markRegion(doc, run, nil)
	}
}

// collect handles n and its descendants and reports whether they contain
// raw HTML.
func (st *renderState) collect(n ast.Node, src []byte, res *Result) (raw bool) {
	switch n := n.(type) {
	case *ast.RawHTML:
		return true // tags are not heading text
	case *ast.HTMLBlock:
		return true
	case *ast.Heading:
		if n.Level < 2 || n.Level > 4 || st.depth > 0 {
			return st.collectChildren(n, src, res)
		}
		st.depth++
		st.text = st.text[:0]
		raw = st.collectChildren(n, src, res)
		st.depth--
		id, _ := n.AttributeString("id")
		idb, _ := id.([]byte)
		res.TOC = append(res.TOC, Heading{
			Level: n.Level,
			ID:    string(idb),
			Text:  strings.Join(strings.Fields(string(st.text)), " "),
		})
		return raw
	case *wikiLink:
		st.addWikiLink(n)
		if st.depth > 0 {
			st.text = append(st.text, n.label...)
		}
	case *ast.Text:
		if st.depth > 0 {
			st.appendText(n, src)
		}
	case *ast.String:
		if st.depth > 0 {
			st.text = append(st.text, n.Value...)
		}
	case *ast.AutoLink:
		if st.depth > 0 {
			st.text = append(st.text, n.Label(src)...)
		}
	default:
		return st.collectChildren(n, src, res)
	}
	return false
}

func (st *renderState) collectChildren(n ast.Node, src []byte, res *Result) (raw bool) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if st.collect(c, src, res) {
			raw = true
		}
	}
	return raw
}

// appendText adds the visible text of a text node: outside code spans,
// backslash escapes and entities are resolved as the HTML renderer does.
func (st *renderState) appendText(t *ast.Text, src []byte) {
	v := t.Segment.Value(src)
	if _, code := t.Parent().(*ast.CodeSpan); !code && bytes.ContainsAny(v, `\&`) {
		v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
	}
	st.text = append(st.text, v...)
	if t.SoftLineBreak() || t.HardLineBreak() {
		st.text = append(st.text, ' ')
	}
}

func (st *renderState) addWikiLink(n *wikiLink) {
	if n.target.City == "" {
		n.target.City = st.home
	}
	if st.index == nil {
		st.index = make(map[Link]int)
	}
	i, ok := st.index[n.target]
	if !ok {
		i = len(st.targets)
		st.index[n.target] = i
		st.targets = append(st.targets, n.target)
	}
	st.wikis = append(st.wikis, n)
	st.wikiTarget = append(st.wikiTarget, i)
}
