package textdiff

import (
	"html"
	"strconv"
	"strings"
)

// contextLines is how many unchanged lines HTML shows around each change.
const contextLines = 3

// HTML renders a Prose diff as
//
//	<div class="diff">
//	<p class="diff-line diff-same">…</p>
//	<p class="diff-skip">… 12 unveränderte Zeilen …</p>
//	<p class="diff-line diff-changed">Die <del>Straßenbäume</del><ins>Straßenbäumen</ins> …</p>
//	<p class="diff-line diff-added"><ins>…</ins></p>
//	<p class="diff-line diff-removed"><del>…</del></p>
//	</div>
//
// Unchanged lines further than three lines from a change are collapsed into
// a diff-skip marker (runs of one line are shown instead). A blank line is
// rendered as <br> so it keeps its height. All text is escaped, since the
// input is untrusted Markdown source, so the result is safe to embed as
// template.HTML.
func HTML(lines []Line) string { return HTMLSkip(lines, skipText) }

// HTMLSkip is HTML with the text of a diff-skip marker in the reader's
// language: skip(n) says that n unchanged lines were left out.
func HTMLSkip(lines []Line, skip func(n int) string) string {
	show := make([]bool, len(lines))
	for i, l := range lines {
		if l.Kind != Unchanged {
			for k := max(0, i-contextLines); k <= min(len(lines)-1, i+contextLines); k++ {
				show[k] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("<div class=\"diff\">\n")
	for i := 0; i < len(lines); {
		if !show[i] {
			j := i
			for j < len(lines) && !show[j] {
				j++
			}
			if j-i > 1 {
				b.WriteString("<p class=\"diff-skip\">… ")
				b.WriteString(html.EscapeString(skip(j - i)))
				b.WriteString(" …</p>\n")
				i = j
				continue
			}
		}
		writeLine(&b, lines[i])
		i++
	}
	b.WriteString("</div>\n")
	return b.String()
}

var lineClass = [...]string{
	Unchanged: "diff-same",
	Added:     "diff-added",
	Removed:   "diff-removed",
	Changed:   "diff-changed",
}

func writeLine(b *strings.Builder, l Line) {
	class := "diff-same"
	if int(l.Kind) >= 0 && int(l.Kind) < len(lineClass) {
		class = lineClass[l.Kind]
	}
	b.WriteString(`<p class="diff-line `)
	b.WriteString(class)
	b.WriteString(`">`)
	empty := true
	for _, c := range l.Chunks {
		if c.Text == "" {
			continue
		}
		empty = false
		switch c.Op {
		case Insert:
			b.WriteString("<ins>")
			b.WriteString(html.EscapeString(c.Text))
			b.WriteString("</ins>")
		case Delete:
			b.WriteString("<del>")
			b.WriteString(html.EscapeString(c.Text))
			b.WriteString("</del>")
		default:
			b.WriteString(html.EscapeString(c.Text))
		}
	}
	if empty {
		b.WriteString("<br>")
	}
	b.WriteString("</p>\n")
}

// skipText says how many lines were skipped, in German (the default of HTML).
func skipText(n int) string {
	if n == 1 {
		return "1 unveränderte Zeile"
	}
	return Thousands(n, '.') + " unveränderte Zeilen"
}

// Thousands writes n with sep between groups of three digits.
func Thousands(n int, sep byte) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
