package markdown

import (
	"bytes"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Warning is an accessibility problem found while writing (BITV 2.0 applies
// to what the cities publish). Warnings never block a change.
type Warning struct {
	Code    string `json:"code"`    // image.alt, heading.order, link.text
	Message string `json:"message"` // English, with the detail
	Line    int    `json:"line"`    // 1-based line of the Markdown, 0 if unknown
	Detail  string `json:"detail"`  // the link text, or "h2 → h4"
}

// Codes of the authoring checks.
const (
	WarnImageAlt     = "image.alt"
	WarnHeadingOrder = "heading.order"
	WarnLinkText     = "link.text"
)

// maxWarnings bounds the list: after that many, the text needs work anyway.
const maxWarnings = 50

// vagueLinkTexts say nothing about where a link leads.
var vagueLinkTexts = map[string]bool{
	"hier": true, "mehr": true, "link": true, "klicken sie hier": true, "hier klicken": true,
	"weiter": true, "weiterlesen": true, "mehr erfahren": true, "mehr dazu": true, "dieser link": true,
	"here": true, "click here": true, "more": true, "read more": true, "this link": true,
}

// Check finds the authoring problems of a Markdown text: images without alt
// text, skipped heading levels (the page title is the h1) and links whose
// text says nothing ("hier", "mehr", a bare address). It parses like
// Render, with the same bounds, so it is linear in the size of src.
func (r *Renderer) Check(src []byte) []Warning {
	src = limitSyntax(limitNesting(src))
	doc := r.md.Parser().Parse(text.NewReader(src))
	out := []Warning{}
	level := 1
	add := func(w Warning, pos int) {
		if len(out) < maxWarnings {
			if pos >= 0 && pos <= len(src) {
				w.Line = bytes.Count(src[:pos], []byte("\n")) + 1
			}
			out = append(out, w)
		}
	}
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level > level+1 {
				add(Warning{Code: WarnHeadingOrder, Detail: "h" + itoa(level) + " → h" + itoa(n.Level),
					Message: "heading level " + itoa(n.Level) + " follows level " + itoa(level) + ": a level is skipped"}, start(n))
			}
			level = n.Level
		case *ast.Image:
			if !hasAltText(src, n) {
				add(Warning{Code: WarnImageAlt, Detail: string(n.Destination),
					Message: "the image " + string(n.Destination) + " has no alt text"}, start(n))
			}
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			label := plainLabel(n, src)
			if vague(label, string(n.Destination)) {
				add(Warning{Code: WarnLinkText, Detail: label,
					Message: "the link text \"" + label + "\" does not say where the link leads"}, start(n))
			}
		case *ast.AutoLink:
			label := string(n.Label(src))
			add(Warning{Code: WarnLinkText, Detail: label,
				Message: "the link text is a bare address: " + label}, start(n))
		}
		return ast.WalkContinue, nil
	})
	return out
}

// vague reports link text that names no destination.
func vague(label, dest string) bool {
	t := strings.ToLower(strings.TrimFunc(label, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	t = strings.Join(strings.Fields(t), " ")
	if t == "" {
		return true
	}
	if vagueLinkTexts[t] {
		return true
	}
	// A bare address as text.
	return strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "www.") ||
		t == strings.ToLower(strings.TrimSpace(dest))
}

// plainLabel is the visible text of a link.
func plainLabel(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.Image:
			b.WriteString("[Bild]") // an image link is named by its alt text
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// start is the byte offset where a node's text begins, or -1.
func start(n ast.Node) int {
	if n.Type() == ast.TypeBlock {
		if l := n.Lines(); l != nil && l.Len() > 0 {
			return l.At(0).Start
		}
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start
		}
		if p := start(c); p >= 0 {
			return p
		}
	}
	if p := n.Parent(); p != nil && p.Type() == ast.TypeBlock {
		if l := p.Lines(); l != nil && l.Len() > 0 {
			return l.At(0).Start
		}
	}
	return -1
}

func itoa(n int) string {
	if n < 0 || n > 9 {
		return "?"
	}
	return string(rune('0' + n))
}
