package markdown

import (
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// taskCheckBoxRenderer renders task-list boxes with an accessible name
// (WCAG 4.1.2: a form control needs one even when it is disabled). Article
// content is German, so is the name.
type taskCheckBoxRenderer struct{}

func (taskCheckBoxRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(east.KindTaskCheckBox, renderTaskCheckBox)
}

func renderTaskCheckBox(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	if node.(*east.TaskCheckBox).IsChecked {
		w.WriteString(`<input aria-label="erledigt" checked="" disabled="" type="checkbox"> `)
	} else {
		w.WriteString(`<input aria-label="offen" disabled="" type="checkbox"> `)
	}
	return ast.WalkContinue, nil
}
