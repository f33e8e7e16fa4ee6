package markdown

import (
	"bytes"
	"sort"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Bounds that keep rendering linear in the size of the Markdown. Normal
// documents never come near them.

// maxNesting bounds how deeply block quotes and lists nest. goldmark asks
// every open block whether each line continues it, so a few thousand
// nested quotes followed by many short lines took time depth × lines.
const maxNesting = 32

// limitNesting escapes the container marker ("> ", "- ", "1. ") that would
// open block number maxNesting+1 on a line, so the rest of the line is
// text. Indentation counts as nesting too (a nested list item is indented
// by at least two columns per level). It returns src itself when no line
// needs it.
func limitNesting(src []byte) []byte {
	var out []byte // nil until a line changes
	copied := 0    // src[:copied] is in out
	for start := 0; start < len(src); {
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		if at := deepMarker(src[start:end]); at >= 0 {
			if out == nil {
				out = make([]byte, 0, len(src)+len(src)/64)
			}
			out = append(out, src[copied:start+at]...)
			out = append(out, '\\')
			copied = start + at
		}
		start = end + 1
	}
	if out == nil {
		return src
	}
	return append(out, src[copied:]...)
}

// deepMarker returns the offset of the container marker on line that
// would nest deeper than maxNesting, or -1.
func deepMarker(line []byte) int {
	depth, col := 0, 0
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ':
			col++
			i++
			continue
		case c == '\t':
			col += 4 - col%4
			i++
			continue
		case c == '>':
			depth++
			if depth+col/2 > maxNesting {
				return i
			}
			i++
			col++
			continue
		case c == '-' || c == '+' || c == '*':
			if i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t') {
				depth++
				if depth+col/2 > maxNesting {
					return i
				}
				i++
				col++
				continue
			}
		case '0' <= c && c <= '9':
			j := i
			for j < len(line) && j-i < 9 && '0' <= line[j] && line[j] <= '9' {
				j++
			}
			if j+1 < len(line) && (line[j] == '.' || line[j] == ')') && (line[j+1] == ' ' || line[j+1] == '\t') {
				depth++
				if depth+col/2 > maxNesting {
					return j // "1\. " keeps the number as text
				}
				col += j + 1 - i
				i = j + 1
				continue
			}
		}
		return -1
	}
	return -1
}

// boundedTables is goldmark's table extension, except that a table is not
// formed when padding its short rows to the header's width would create
// far more cells than the text holds: GFM fills every row up to the
// header's column count, so a header of 100,000 columns above 100,000
// one-character lines would become 10^10 cells.
type boundedTables struct{}

func (boundedTables) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(util.Prioritized(tableBound{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(
		util.Prioritized(extension.NewTableHTMLRenderer(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500),
	))
}

type tableBound struct{ inner parser.ParagraphTransformer }

// cellsPerByte bounds a table's cells by the bytes of its paragraph: a
// written cell takes at least two bytes ("|x").
const cellsPerByte = 2

// maxTableCells bounds the cells of all tables of a document together (the
// syntax budget of tables, see budget.go); a table beyond it stays a
// paragraph. The 20 KB test article has about 360 cells, so a 1 MiB article
// of nothing but such tables about 19,000.
const maxTableCells = 50_000

// tableCellsKey holds the number of table cells a document has so far.
var tableCellsKey = parser.NewContextKey()

func (t tableBound) Transform(node *gast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	src := reader.Source()
	cols, rows, size := 0, 0, 0
	for i := range lines.Len() {
		seg := lines.At(i)
		size += seg.Len()
		switch line := seg.Value(src); {
		case cols > 0:
			rows++
		case i > 0 && isDelimiterRow(line):
			cols = bytes.Count(line, []byte{'|'}) + 1
			rows = 1 // the header
		}
	}
	if cols > 0 {
		if cols*rows > cellsPerByte*size+64 {
			return // stays a paragraph
		}
		used, _ := pc.Get(tableCellsKey).(int)
		if used+cols*rows > maxTableCells {
			return
		}
		pc.Set(tableCellsKey, used+cols*rows)
	}
	t.inner.Transform(node, reader, pc)
}

// isDelimiterRow is a quick test for a table's "|---|:-:|" line.
func isDelimiterRow(line []byte) bool {
	dash := false
	for _, c := range line {
		switch c {
		case '-':
			dash = true
		case '|', ':', ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return dash
}

// newParser is goldmark's default parser with its inline parsers given a
// reader whose Value is logarithmic in the lines of the block. goldmark's
// own searches the block's lines backwards from the last one, and its link
// parser calls it for every "]" (to look the label up as a reference), so
// 10,000 "[a]" followed by 500,000 lines of one paragraph took 7 s.
func newParser() parser.Parser {
	inline := parser.DefaultInlineParsers()
	for i, p := range inline {
		inline[i] = util.Prioritized(fastValueParser{p.Value.(parser.InlineParser)}, p.Priority)
	}
	return parser.NewParser(
		parser.WithBlockParsers(parser.DefaultBlockParsers()...),
		parser.WithInlineParsers(inline...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)
}

// fastValueParser passes an inline parser the block's reader with a fast
// Value. The block is always parent: goldmark reads parent.Lines().
type fastValueParser struct{ parser.InlineParser }

func (p fastValueParser) Parse(parent gast.Node, block text.Reader, pc parser.Context) gast.Node {
	return p.InlineParser.Parse(parent, fastValueReader{block, parent.Lines()}, pc)
}

func (p fastValueParser) CloseBlock(parent gast.Node, block text.Reader, pc parser.Context) {
	if cb, ok := p.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, fastValueReader{block, parent.Lines()}, pc)
	}
}

type fastValueReader struct {
	text.Reader
	lines *text.Segments
}

// Value is text.blockReader's Value with a binary search for the first
// line.
func (r fastValueReader) Value(seg text.Segment) []byte {
	n := r.lines.Len()
	// The last line that starts at or before seg.
	line := sort.Search(n, func(i int) bool { return r.lines.At(i).Start > seg.Start }) - 1
	line = max(line, 0)
	src := r.Source()
	ret := make([]byte, 0, seg.Stop-seg.Start+1)
	i := seg.Start
	for ; line < n; line++ {
		s := r.lines.At(line)
		if i < 0 {
			i = s.Start
		}
		ret = s.ConcatPadding(ret)
		for ; i < seg.Stop && i < s.Stop; i++ {
			ret = append(ret, src[i])
		}
		i = -1
		if s.Stop > seg.Stop {
			break
		}
	}
	return ret
}
