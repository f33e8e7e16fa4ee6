package markdown

import "bytes"

// Raw HTML may open elements it never closes or close elements it never
// opened. Left alone, "</div></div>" in an article would close the page's
// own containers and let the rest of the article pose as page chrome, and
// an unclosed <a> would turn the rest of the page into a link. The
// sanitizer keeps tags as written, so its output is balanced here against
// a stack of the elements opened by raw HTML: end tags that close nothing
// the region may close are dropped, and what a region leaves open is
// closed at its end (top-level HTML blocks: inline elements at their end,
// the rest at the end of the article). Markdown outside the regions is
// balanced by construction.

// maxOpen bounds the stack; no article nests raw HTML this deep.
const maxOpen = 256

// balanceRegion writes region, which must be sanitizer output (canonical
// tags, "<" escaped everywhere else), to w and keeps stack up to date. An
// end tag that closes an element further down the stack first closes the
// ones above it, so nothing is left for the browser to reconstruct; one
// that closes nothing in stack[base:] is dropped.
func balanceRegion(w *bytes.Buffer, stack []string, base int, region []byte) []string {
	for len(region) > 0 {
		lt := bytes.IndexByte(region, '<')
		if lt < 0 {
			w.Write(region)
			break
		}
		w.Write(region[:lt])
		region = region[lt:]
		gt := bytes.IndexByte(region, '>')
		if gt < 0 {
			w.Write(region)
			break
		}
		tag := region[:gt+1]
		region = region[gt+1:]
		name, closing := tagName(tag)
		switch {
		case closing:
			i := lastIndex(stack[base:], name)
			if i < 0 {
				continue // closes something the region did not open: drop it
			}
			i += base
			closeAbove(w, stack, i)
			stack = stack[:i]
		case isVoid(name) || tag[len(tag)-2] == '/':
		case len(stack) >= maxOpen:
			continue // absurd nesting: keeps lastIndex cheap
		default:
			stack = append(stack, name)
		}
		w.Write(tag)
	}
	return stack
}

// closeAbove writes end tags for stack[i+1:], innermost first. Elements
// whose end tag HTML implies (p, li, td, ...) need none.
func closeAbove(w *bytes.Buffer, stack []string, i int) {
	for j := len(stack) - 1; j > i; j-- {
		if impliedEnd(stack[j]) {
			continue
		}
		w.WriteString("</")
		w.WriteString(stack[j])
		w.WriteByte('>')
	}
}

// closeInline writes end tags for the inline elements on top of the stack
// at the end of a region: a link or <b> opened in raw HTML must not run on
// into the following blocks.
func closeInline(w *bytes.Buffer, stack []string) []string {
	for len(stack) > 0 && isInline(stack[len(stack)-1]) {
		w.WriteString("</")
		w.WriteString(stack[len(stack)-1])
		w.WriteByte('>')
		stack = stack[:len(stack)-1]
	}
	return stack
}

// tagName returns the element name of a canonical tag and whether it is
// an end tag.
func tagName(tag []byte) (string, bool) {
	b := tag[1 : len(tag)-1]
	closing := len(b) > 0 && b[0] == '/'
	if closing {
		b = b[1:]
	}
	if i := bytes.IndexAny(b, " /"); i >= 0 {
		b = b[:i]
	}
	return string(b), closing
}

func lastIndex(stack []string, name string) int {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] == name {
			return i
		}
	}
	return -1
}

func isVoid(name string) bool {
	switch name {
	case "br", "hr", "img", "input", "wbr":
		return true
	}
	return false
}

func isInline(name string) bool {
	switch name {
	case "a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q",
		"s", "samp", "small", "span", "strong", "sub", "sup", "var":
		return true
	}
	return false
}

func impliedEnd(name string) bool {
	switch name {
	case "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "caption":
		return true
	}
	return false
}
