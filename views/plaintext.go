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

// firstParagraph is the text of the first paragraph of rendered article
// HTML, cut at a word to at most max runes: a page's meta description.
func firstParagraph(src string, max int) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	in := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return cutWords(b.String(), max)
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "p" {
				in = true
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "p" && in && strings.TrimSpace(b.String()) != "" {
				return cutWords(b.String(), max)
			}
		case html.TextToken:
			if in {
				b.Write(z.Text())
			}
		}
	}
}

// cutWords collapses spaces and cuts s after a word, with "…", to at most
// max runes.
func cutWords(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	cut := string(r[:max-1])
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:–-") + "…"
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
