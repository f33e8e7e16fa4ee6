package markdown

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// Only top-level blocks that contain raw HTML go through bluemonday.
//
// Everything else is written by goldmark's renderers and ours, which escape
// all text and attribute values, emit a fixed set of elements and check
// every URL with allowedURL. bluemonday tokenizes and re-serializes each tag
// with several allocations, so running it over the whole document would
// cost three to four times as much as rendering it (see bench_test.go).
//
// Sanitizing a block on its own is safe because bluemonday's output ends in
// the tokenizer's data state (tags complete, no comments, no raw-text or
// foreign elements), so the trusted HTML after it is read by a browser
// exactly as written. A run of adjacent raw blocks is one region. Raw-text
// elements are confined to their region (raw_text.go), and tags the regions
// leave open or close too often are balanced (balance.go).

var kindSanitizeMark = ast.NewNodeKind("SanitizeMark")

// sanitizeMark is inserted around a region; rendering it records the
// current output offset in the render state.
type sanitizeMark struct {
	ast.BaseBlock
	st *renderState
}

func (n *sanitizeMark) Kind() ast.NodeKind { return kindSanitizeMark }

func (n *sanitizeMark) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, nil, nil)
}

type sanitizeMarkRenderer struct{}

func (sanitizeMarkRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindSanitizeMark, renderSanitizeMark)
}

func renderSanitizeMark(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	st := node.(*sanitizeMark).st
	if err := w.Flush(); err != nil {
		return ast.WalkStop, err
	}
	st.marks = append(st.marks, st.raw.Len())
	return ast.WalkContinue, nil
}

// markRegion puts marks before first and before end (nil: document end).
func (st *renderState) markRegion(doc, first, end ast.Node) {
	doc.InsertBefore(doc, first, &sanitizeMark{st: st})
	if end == nil {
		doc.AppendChild(doc, &sanitizeMark{st: st})
	} else {
		doc.InsertBefore(doc, end, &sanitizeMark{st: st})
	}
}

// sanitizeRegions copies the rendered document to st.clean, passing the
// marked regions through the policy.
func (r *Renderer) sanitizeRegions(st *renderState) ([]byte, error) {
	out := st.raw.Bytes()
	if len(st.marks) == 0 {
		return out, nil
	}
	st.clean.Reset()
	st.clean.Grow(len(out))
	prev := 0
	for i := 0; i+1 < len(st.marks); i += 2 {
		start, end := st.marks[i], st.marks[i+1]
		st.clean.Write(out[prev:start])
		region, confined := confineRawText(st.region[:0], out[start:end])
		if confined {
			st.region = region // keep the grown scratch buffer
		}
		st.in.Reset(region)
		st.sanitized.Reset()
		if err := r.policy.SanitizeReaderToWriter(&st.in, &st.sanitized); err != nil {
			return nil, err
		}
		st.open = balanceRegion(&st.clean, st.open, st.sanitized.Bytes())
		st.open = closeInline(&st.clean, st.open)
		prev = end
	}
	st.clean.Write(out[prev:])
	closeOpen(&st.clean, st.open)
	html := st.clean.Bytes()
	if bytes.Contains(html, inputTag) {
		st.fixed = keepOnlyDisabledCheckboxes(st.fixed[:0], html)
		html = st.fixed
	}
	return html, nil
}
