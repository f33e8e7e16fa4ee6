package markdown

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// tableRegionOpen makes a wide table scrollable on a phone and that scroll
// region reachable by keyboard (WCAG 2.1.1), with a name for screen
// readers. Article content is German, so is the name.
const tableRegionOpen = `<div class="table-scroll" role="region" tabindex="0" aria-label="Tabelle">`

// tableRegionRenderer wraps goldmark's own table renderer, so table markup
// stays exactly what the extension produces.
type tableRegionRenderer struct {
	inner renderer.NodeRenderer
}

func newTableRegionRenderer() tableRegionRenderer {
	return tableRegionRenderer{inner: extension.NewTableHTMLRenderer(
		extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))}
}

func (t tableRegionRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	t.inner.RegisterFuncs(registerFunc(func(kind ast.NodeKind, fn renderer.NodeRendererFunc) {
		if kind != east.KindTable {
			reg.Register(kind, fn)
			return
		}
		reg.Register(kind, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
			if entering {
				w.WriteString(tableRegionOpen)
			}
			status, err := fn(w, src, n, entering)
			if !entering {
				w.WriteString("</div>\n")
			}
			return status, err
		})
	}))
}

type registerFunc func(ast.NodeKind, renderer.NodeRendererFunc)

func (f registerFunc) Register(k ast.NodeKind, fn renderer.NodeRendererFunc) { f(k, fn) }
