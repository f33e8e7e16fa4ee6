package markdown

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// collect walks the document once: it resolves wiki links to the home
// city, gathers distinct targets, builds the table of contents and marks
// the blocks whose inline content contains raw HTML for the sanitizer. It
// reports whether n contains raw inline HTML not yet marked.
func (st *renderState) collect(n ast.Node, src []byte, res *Result) (raw bool) {
	switch n := n.(type) {
	case *ast.RawHTML:
		return true // tags are not heading text
	case *ast.HTMLBlock:
		return false // renderHTMLBlock makes it a region
	case *ast.Heading:
		if n.Level < 2 || n.Level > 4 || st.depth > 0 {
			raw = st.collectChildren(n, src, res)
			break
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
	case *ast.Image:
		st.addFile(util.URLEscape(n.Destination, true))
		raw = st.collectChildren(n, src, res)
	case *ast.Link:
		st.addFile(util.URLEscape(n.Destination, true))
		raw = st.collectChildren(n, src, res)
	case *ast.AutoLink:
		if st.depth > 0 {
			st.text = append(st.text, n.Label(src)...)
		}
	default:
		raw = st.collectChildren(n, src, res)
	}
	if raw && n.Type() == ast.TypeBlock {
		markInline(n)
		return false
	}
	return raw
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
