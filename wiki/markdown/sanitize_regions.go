package markdown

import (
	"bufio"
	"bytes"
	"errors"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// Only raw HTML goes through bluemonday, together with the smallest block
// around it: an HTML block on its own, inline HTML with the inline content
// of its paragraph, heading or table cell.
//
// Everything else is written by goldmark's renderers and ours, which escape
// all text and attribute values, emit a fixed set of elements and check
// every URL with allowedURL (TestPolicyAcceptsTrustedOutput checks that the
// policy would not change any of it). bluemonday tokenizes and
// re-serializes every tag with several allocations; over a whole article
// it costs more than rendering it (BenchmarkSanitizeWholeDocument), which
// is why it is not run over everything.
//
// Sanitizing a region on its own is safe because bluemonday's output ends
// in the tokenizer's data state (tags complete, no comments, no raw-text or
// foreign elements), so the trusted HTML after it is read by a browser
// exactly as written. Raw-text elements are confined to their region
// (raw_text.go), and the tags regions leave open or close too often are
// balanced (balance.go).

// region is a byte range of the rendered document to sanitize.
type region struct {
	start, end int
	// keepOpen lets elements stay open after the region: only for HTML
	// blocks at the top level, so that "<details>", Markdown, "</details>"
	// works. Everything else must close what it opened.
	keepOpen bool
}

// renderWriter carries the render state into node renderers, which goldmark
// shares between concurrent renders.
type renderWriter struct {
	*bufio.Writer
	st *renderState
}

var errNoRenderWriter = errors.New("markdown: raw HTML rendered outside Renderer.Render")

// stateOf returns the render state behind w, flushed so that st.raw holds
// everything written so far.
func stateOf(w util.BufWriter) (*renderState, error) {
	rw, ok := w.(*renderWriter)
	if !ok {
		// Never write raw HTML that would not be sanitized.
		return nil, errNoRenderWriter
	}
	return rw.st, rw.Flush()
}

var kindRegionMark = ast.NewNodeKind("RegionMark")

// regionMark is put first and last into a block with raw inline HTML.
type regionMark struct{ ast.BaseInline }

func (n *regionMark) Kind() ast.NodeKind { return kindRegionMark }

func (n *regionMark) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

// markInline makes the inline content of block one region.
func markInline(block ast.Node) {
	block.InsertBefore(block, block.FirstChild(), &regionMark{})
	block.AppendChild(block, &regionMark{})
}

type regionRenderer struct{}

func (regionRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindRegionMark, renderRegionMark)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

func renderRegionMark(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	st, err := stateOf(w)
	if err != nil {
		return ast.WalkStop, err
	}
	if n := len(st.regions); n > 0 && st.regions[n-1].end < 0 {
		st.regions[n-1].end = st.raw.Len()
	} else {
		st.regions = append(st.regions, region{start: st.raw.Len(), end: -1})
	}
	return ast.WalkContinue, nil
}

// renderHTMLBlock writes an HTML block as its own region.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	st, err := stateOf(w)
	if err != nil {
		return ast.WalkStop, err
	}
	n := node.(*ast.HTMLBlock)
	r := region{start: st.raw.Len(), keepOpen: n.Parent().Kind() == ast.KindDocument}
	lines := n.Lines()
	for i := range lines.Len() {
		line := lines.At(i)
		html.DefaultWriter.SecureWrite(w, line.Value(source))
	}
	if n.HasClosure() {
		html.DefaultWriter.SecureWrite(w, n.ClosureLine.Value(source))
	}
	if err := w.Flush(); err != nil {
		return ast.WalkStop, err
	}
	r.end = st.raw.Len()
	st.regions = append(st.regions, r)
	return ast.WalkContinue, nil
}

// sanitizeRegions returns the rendered document with its regions passed
// through the policy.
func (r *Renderer) sanitizeRegions(st *renderState) ([]byte, error) {
	out := st.raw.Bytes()
	if len(st.regions) == 0 {
		return out, nil
	}
	st.clean.Reset()
	st.clean.Grow(len(out) + len(out)/8)
	prev := 0
	for _, rg := range st.regions {
		st.clean.Write(out[prev:rg.start])
		src, confined := confineRawText(st.region[:0], out[rg.start:rg.end])
		if confined {
			st.region = src // keep the grown scratch buffer
		}
		st.in.Reset(src)
		st.sanitized.Reset()
		if err := r.policy.SanitizeReaderToWriter(&st.in, &st.sanitized); err != nil {
			return nil, err
		}
		base := len(st.open)
		if rg.keepOpen {
			base = 0
		}
		st.open = balanceRegion(&st.clean, st.open, base, st.sanitized.Bytes())
		if rg.keepOpen {
			st.open = closeInline(&st.clean, st.open)
		} else {
			closeAbove(&st.clean, st.open, base-1)
			st.open = st.open[:base]
		}
		prev = rg.end
	}
	st.clean.Write(out[prev:])
	closeAbove(&st.clean, st.open, -1)
	html := st.clean.Bytes()
	if bytes.Contains(html, inputTag) {
		st.fixed = keepOnlyDisabledCheckboxes(st.fixed[:0], html)
		html = st.fixed
	}
	return html, nil
}
