package search

import (
	"html"
	"html/template"
	"strings"
)

// Meilisearch marks matches with these private-use characters instead of
// HTML tags; markedHTML escapes the whole text and only then turns the
// markers into <mark>. Article text can never smuggle markup in, and a
// marker that article text happens to contain can at worst highlight.
// (PostgreSQL search marks matches itself; see highlight.)
const (
	markStart = "\uE000"
	markEnd   = "\uE001"
)

// stripMarkers removes marker characters from article text before a backend
// marks matches in it.
var stripMarkers = strings.NewReplacer(markStart, "", markEnd, "")

// markedHTML returns text escaped, with marked stretches in <mark>; marks
// are balanced even when a backend cut the text inside one.
func markedHTML(text string) template.HTML {
	var b strings.Builder
	b.Grow(len(text) + 32)
	open := false
	for text != "" {
		i := strings.IndexAny(text, markStart+markEnd)
		if i < 0 {
			b.WriteString(html.EscapeString(text))
			break
		}
		b.WriteString(html.EscapeString(text[:i]))
		switch {
		case strings.HasPrefix(text[i:], markStart):
			if !open {
				b.WriteString("<mark>")
				open = true
			}
			text = text[i+len(markStart):]
		default:
			if open {
				b.WriteString("</mark>")
				open = false
			}
			text = text[i+len(markEnd):]
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// plainSnippetRunes is the length of a snippet that shows the start of an
// article (no text query, or no match in the body).
const plainSnippetRunes = 240

// leadSnippet is the escaped start of text, cut at a word boundary.
func leadSnippet(text string) template.HTML {
	r := []rune(text)
	if len(r) <= plainSnippetRunes {
		return template.HTML(html.EscapeString(stripMarkers.Replace(text)))
	}
	cut := string(r[:plainSnippetRunes])
	if i := strings.LastIndexByte(cut, ' '); i > plainSnippetRunes/2 {
		cut = cut[:i]
	}
	return template.HTML(html.EscapeString(stripMarkers.Replace(cut)) + " …")
}
