package views

import (
	"strings"

	"golang.org/x/net/html"
)

// blockElements end a line in the plain-text view of rendered HTML.
var blockElements = map[string]bool{
	"p": true, "div": true, "li": true, "tr": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "pre": true, "blockquote": true, "br": true, "dt": true, "dd": true, "table": true,
	"section": true, "hr": true, "summary": true, "details": true, "figcaption": true,
}

// plainText turns rendered (already sanitized) article HTML into the text a
// reader sees, one block per line, so reviewers can compare what changes
// for readers rather than in the Markdown source.
func plainText(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	newline := func() {
		s := b.String()
		if len(s) > 0 && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String()) + "\n"
		case html.TextToken:
			t := strings.Join(strings.Fields(string(z.Text())), " ")
			if t != "" {
				if s := b.String(); len(s) > 0 && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " ") {
					b.WriteByte(' ')
				}
				b.WriteString(t)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if blockElements[tok.Data] {
				newline()
			}
			// Cells of a row stay on one line, separated by bars.
			if tok.Type == html.StartTagToken && (tok.Data == "td" || tok.Data == "th") {
				if s := b.String(); len(s) > 0 && !strings.HasSuffix(s, "\n") {
					b.WriteString(" |")
				}
			}
		}
	}
}
