package markdown

// Footnotes in linear time. goldmark's footnote extension (v1.8) looks
// each reference up by walking the list of definitions and sorts that list
// by insertion sort: both quadratic, so 40,000 footnotes in a body under
// the 1 MiB limit took seconds. This is the same syntax and the same AST
// (goldmark's footnote nodes and HTML renderer), with the definitions
// indexed by label and sorted in O(n log n). Parsers adapted from
// github.com/yuin/goldmark/extension/footnote.go (MIT licence).

import (
	"slices"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	fast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// footnoteLabelLimit is CommonMark's limit for link labels.
const footnoteLabelLimit = 999

// footnoteKey holds a document's *footnoteIndex in the parser context.
var footnoteKey = parser.NewContextKey()

// footnoteIndex is one document's footnotes: the list node, the first
// definition of each label, and every reference in document order.
type footnoteIndex struct {
	list  *fast.FootnoteList
	byRef map[string]*fast.Footnote
	links []*fast.FootnoteLink
}

func footnotesOf(pc parser.Context) *footnoteIndex {
	if v := pc.Get(footnoteKey); v != nil {
		return v.(*footnoteIndex)
	}
	return nil
}

// footnotes is the goldmark extension.
type footnotes struct{}

func (footnotes) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithBlockParsers(util.Prioritized(footnoteBlockParser{}, 999)),
		parser.WithInlineParsers(util.Prioritized(footnoteRefParser{}, 101)),
		parser.WithASTTransformers(util.Prioritized(footnoteTransformer{}, 999)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(
		util.Prioritized(extension.NewFootnoteHTMLRenderer(), 500),
	))
}

// footnoteBlockParser reads a definition "[^label]: text".
type footnoteBlockParser struct{}

func (footnoteBlockParser) Trigger() []byte { return []byte{'['} }

func (footnoteBlockParser) Open(_ gast.Node, reader text.Reader, pc parser.Context) (gast.Node, parser.State) {
	line, segment := reader.PeekLine()
	pos := pc.BlockOffset()
	if pos < 0 || line[pos] != '[' {
		return nil, parser.NoChildren
	}
	pos++
	if pos > len(line)-1 || line[pos] != '^' {
		return nil, parser.NoChildren
	}
	open := pos + 1
	//lint:ignore SA1019 the label is searched within one line (PeekLine), the case the deprecated function handles
	closure := util.FindClosure(line[pos+1:min(len(line), pos+1+footnoteLabelLimit)], '[', ']', false, false)
	if closure < 0 {
		return nil, parser.NoChildren
	}
	closes := pos + 1 + closure
	next := closes + 1
	if next >= len(line) || line[next] != ':' {
		return nil, parser.NoChildren
	}
	padding := segment.Padding
	label := reader.Value(text.NewSegment(segment.Start+open-padding, segment.Start+closes-padding))
	if util.IsBlank(label) {
		return nil, parser.NoChildren
	}
	item := fast.NewFootnote(label)
	pos = next + 1 - padding
	if pos >= len(line) {
		reader.Advance(pos)
		return item, parser.NoChildren
	}
	reader.AdvanceAndSetPadding(pos, padding)
	return item, parser.HasChildren
}

func (footnoteBlockParser) Continue(_ gast.Node, reader text.Reader, _ parser.Context) parser.State {
	line, _ := reader.PeekLine()
	if util.IsBlank(line) {
		return parser.Continue | parser.HasChildren
	}
	childpos, padding := util.IndentPosition(line, reader.LineOffset(), 4)
	if childpos < 0 {
		return parser.Close
	}
	reader.AdvanceAndSetPadding(childpos, padding)
	return parser.Continue | parser.HasChildren
}

// Close moves the definition into the document's footnote list, which
// stands where the first definition was.
func (footnoteBlockParser) Close(node gast.Node, _ text.Reader, pc parser.Context) {
	idx := footnotesOf(pc)
	if idx == nil {
		idx = &footnoteIndex{list: fast.NewFootnoteList(), byRef: map[string]*fast.Footnote{}}
		pc.Set(footnoteKey, idx)
		node.Parent().InsertBefore(node.Parent(), node, idx.list)
	}
	node.Parent().RemoveChild(node.Parent(), node)
	idx.list.AppendChild(idx.list, node)
	fn := node.(*fast.Footnote)
	if _, dup := idx.byRef[string(fn.Ref)]; !dup {
		idx.byRef[string(fn.Ref)] = fn // the first definition of a label wins
	}
}

func (footnoteBlockParser) CanInterruptParagraph() bool { return true }
func (footnoteBlockParser) CanAcceptIndentedLine() bool { return false }

// footnoteRefParser reads a reference "[^label]" to a defined footnote.
type footnoteRefParser struct{}

// Trigger includes '!' because "![^1]" would otherwise start an image.
func (footnoteRefParser) Trigger() []byte { return []byte{'!', '['} }

func (footnoteRefParser) Parse(parent gast.Node, block text.Reader, pc parser.Context) gast.Node {
	line, segment := block.PeekLine()
	pos := 1
	if len(line) > 0 && line[0] == '!' {
		pos++
	}
	if pos >= len(line) || line[pos] != '^' {
		return nil
	}
	pos++
	if pos >= len(line) {
		return nil
	}
	open := pos
	//lint:ignore SA1019 the label is searched within one line (PeekLine), the case the deprecated function handles
	closure := util.FindClosure(line[pos:min(len(line), pos+footnoteLabelLimit)], '[', ']', false, false)
	if closure < 0 {
		return nil
	}
	closes := pos + closure
	idx := footnotesOf(pc)
	if idx == nil {
		return nil
	}
	// The label lies within this line; block.Value would walk every line
	// of the paragraph, for every reference.
	fn := idx.byRef[string(line[open:closes])]
	if fn == nil {
		return nil
	}
	block.Advance(closes + 1)
	if fn.Index < 0 {
		idx.list.Count++
		fn.Index = idx.list.Count
	}
	link := fast.NewFootnoteLink(fn.Index)
	idx.links = append(idx.links, link)
	if line[0] == '!' {
		parent.AppendChild(parent, gast.NewTextSegment(text.NewSegment(segment.Start, segment.Start+1)))
	}
	return link
}

// footnoteTransformer numbers the references, adds back links, drops
// definitions nobody refers to and moves the list, in reference order, to
// the end of the document.
type footnoteTransformer struct{}

func (footnoteTransformer) Transform(doc *gast.Document, _ text.Reader, pc parser.Context) {
	idx := footnotesOf(pc)
	pc.Set(footnoteKey, nil)
	if idx == nil {
		return
	}
	counter := make(map[int]int, idx.list.Count)
	for _, l := range idx.links {
		counter[l.Index]++
	}
	seen := make(map[int]int, idx.list.Count)
	for _, l := range idx.links {
		l.RefCount = counter[l.Index]
		l.RefIndex = seen[l.Index]
		seen[l.Index]++
	}
	var used []*fast.Footnote
	for n := idx.list.FirstChild(); n != nil; {
		next := n.NextSibling()
		fn := n.(*fast.Footnote)
		idx.list.RemoveChild(idx.list, n)
		if fn.Index >= 0 {
			var container gast.Node = fn
			if last := fn.LastChild(); last != nil && gast.IsParagraph(last) {
				container = last
			}
			refs := counter[fn.Index]
			for i := range max(refs, 1) {
				b := fast.NewFootnoteBacklink(fn.Index)
				b.RefCount, b.RefIndex = refs, i
				container.AppendChild(container, b)
			}
			used = append(used, fn)
		}
		n = next
	}
	slices.SortFunc(used, func(a, b *fast.Footnote) int { return a.Index - b.Index })
	for _, fn := range used {
		idx.list.AppendChild(idx.list, fn)
	}
	if idx.list.Count <= 0 {
		idx.list.Parent().RemoveChild(idx.list.Parent(), idx.list)
		return
	}
	doc.AppendChild(doc, idx.list)
}
