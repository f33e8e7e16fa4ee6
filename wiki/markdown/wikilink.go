package markdown

import (
	"bytes"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"hansewiki/wiki/slug"
)

// maxSlugLen matches the article slug limit, so a link written with the
// full title finds the article.
const maxSlugLen = 120

// missingTitle is shown on links to articles that do not exist yet.
const missingTitle = "Seite existiert noch nicht / page does not exist yet"

var kindWikiLink = ast.NewNodeKind("WikiLink")

// wikiLink is [[slug]], [[city/slug]], [[slug|text]] or [[city/slug|text]].
// The label is plain text: it is not parsed as Markdown.
type wikiLink struct {
	ast.BaseInline
	target   Link   // City is "" until resolved to the article's city
	label    []byte // slice of the source, or the target's title
	labelled bool   // the author wrote a label; otherwise the title replaces it
	missing  bool
}

func (n *wikiLink) Kind() ast.NodeKind { return kindWikiLink }

func (n *wikiLink) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{
		"City": n.target.City, "Slug": n.target.Slug, "Label": string(n.label),
	}, nil)
}

// wikiLinks is the goldmark extension for wiki links.
type wikiLinks struct{}

func (wikiLinks) Extend(m goldmark.Markdown) {
	// 199 runs before goldmark's link parser (200), which also starts at '['.
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(wikiLinkParser{}, 199)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(wikiLinkRenderer{}, 500)))
}

type wikiLinkParser struct{}

var wikiLinkTrigger = []byte{'['}

func (wikiLinkParser) Trigger() []byte { return wikiLinkTrigger }

// Parse reads one wiki link from the current line. It returns nil for
// anything that is not a valid link, which leaves the text to the other
// parsers, so "[[ ]]" or "[[!!]]" stay as written.
func (wikiLinkParser) Parse(_ ast.Node, block text.Reader, _ parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if len(line) < 5 || line[1] != '[' {
		return nil
	}
	end := -1
	for i := 2; i+1 < len(line); i++ {
		c := line[i]
		if c == '[' || c == '\n' || c == '\r' {
			return nil
		}
		if c == ']' {
			if line[i+1] != ']' {
				return nil
			}
			end = i
			break
		}
	}
	if end < 0 {
		return nil
	}
	inner := line[2:end]
	target, label := inner, []byte(nil)
	if bar := bytes.IndexByte(inner, '|'); bar >= 0 {
		target, label = inner[:bar], bytes.TrimSpace(inner[bar+1:])
	}
	target = bytes.TrimSpace(target)
	labelled := len(label) > 0
	if !labelled {
		label = target
	}
	link, ok := parseTarget(target)
	if !ok {
		return nil
	}
	block.Advance(end + 2)
	return &wikiLink{target: link, label: label, labelled: labelled}
}

// parseTarget normalises "slug" or "city/slug"; City stays "" for the
// article's own city. Everything after the first slash is the slug.
func parseTarget(target []byte) (Link, bool) {
	var link Link
	if slash := bytes.IndexByte(target, '/'); slash >= 0 {
		link.City = slug.Make(string(target[:slash]), maxSlugLen)
		if link.City == "" {
			return Link{}, false
		}
		target = target[slash+1:]
	}
	link.Slug = slug.Make(string(target), maxSlugLen)
	return link, link.Slug != ""
}

type wikiLinkRenderer struct{}

func (wikiLinkRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindWikiLink, renderWikiLink)
}

// renderWikiLink writes the link; city and slug are slugs, so they need no
// escaping.
func renderWikiLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*wikiLink)
	_, _ = w.WriteString(`<a href="/c/`)
	_, _ = w.WriteString(n.target.City)
	_ = w.WriteByte('/')
	_, _ = w.WriteString(n.target.Slug)
	if n.missing {
		_, _ = w.WriteString(`" class="wikilink wikilink-missing" title="` + missingTitle + `">`)
	} else {
		_, _ = w.WriteString(`" class="wikilink">`)
	}
	html.DefaultWriter.Write(w, n.label)
	_, _ = w.WriteString("</a>")
	return ast.WalkSkipChildren, nil
}
