package markdown

import (
	"bytes"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
)

// highlightStyle is chroma's light, calm "github" style with the one token
// colour that misses WCAG AA on its background (4.49:1) darkened to the
// comment grey. TestCSSContrast checks every colour.
func highlightStyle() *chroma.Style {
	style, err := styles.Get("github").Builder().
		Add(chroma.NameBuiltinPseudo, "#57606a").
		Build()
	if err != nil {
		return styles.Get("github") // the entry above is valid; Build cannot fail
	}
	return style
}

// newHighlighting highlights fenced code that names a language chroma knows.
// It emits classes, not inline styles (the sanitizer drops style
// attributes), and never guesses a language: guessing would run every lexer
// over every code block. Code without a known language stays plain
// <pre><code>.
func newHighlighting() goldmark.Extender {
	return highlighting.NewHighlighting(
		highlighting.WithCustomStyle(highlightStyle()),
		highlighting.WithGuessLanguage(false),
		highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
	)
}

// CSS returns the stylesheet for the highlighting classes in rendered
// articles.
func CSS() []byte {
	var buf bytes.Buffer
	// WriteCSS only fails when the writer does; a bytes.Buffer does not.
	_ = chromahtml.New(chromahtml.WithClasses(true)).WriteCSS(&buf, highlightStyle())
	return buf.Bytes()
}
