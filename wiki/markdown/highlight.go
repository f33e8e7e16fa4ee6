package markdown

import (
	"bytes"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
)

// highlightStyle is chroma's "github" style: light, calm, and every token
// colour has at least 4.5:1 contrast on its background (WCAG AA), which
// TestCSSContrast checks.
const highlightStyle = "github"

// newHighlighting highlights fenced code that names a language chroma knows.
// It emits classes, not inline styles (the sanitizer drops style
// attributes), and never guesses a language: guessing would run every lexer
// over every code block. Code without a known language stays plain
// <pre><code>.
func newHighlighting() goldmark.Extender {
	return highlighting.NewHighlighting(
		highlighting.WithStyle(highlightStyle),
		highlighting.WithGuessLanguage(false),
		highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
	)
}

// CSS returns the stylesheet for the highlighting classes in rendered
// articles.
func CSS() []byte {
	var buf bytes.Buffer
	style := styles.Get(highlightStyle)
	// WriteCSS only fails when the writer does; a bytes.Buffer does not.
	_ = chromahtml.New(chromahtml.WithClasses(true)).WriteCSS(&buf, style)
	return buf.Bytes()
}
