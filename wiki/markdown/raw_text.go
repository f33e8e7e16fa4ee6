package markdown

import "bytes"

// Elements like <script>, <style> or <iframe> make the HTML tokenizer read
// everything up to their end tag as raw text, and the sanitizer drops that
// text with the element. Unclosed in raw HTML, they would swallow the rest
// of the article. Each sanitizer region is therefore confined: an element
// left open is closed at the end of its region, and <plaintext>, which has
// no end tag at all, is escaped. This keeps text; it is not about safety,
// since the sanitizer sees exactly what a browser would.

// rawTextTags are the elements after whose start tag the tokenizer reads
// raw text (see golang.org/x/net/html).
var rawTextTags = [...]string{
	"iframe", "noembed", "noframes", "noscript", "plaintext",
	"script", "style", "textarea", "title", "xmp",
}

// confineRawText returns region itself when it needs no change, which is
// the common case, and otherwise the changed copy appended to dst and true.
func confineRawText(dst, region []byte) ([]byte, bool) {
	copied := 0 // region[:copied] is in dst already
	for i := 0; ; {
		j := bytes.IndexByte(region[i:], '<')
		if j < 0 {
			break
		}
		i += j + 1
		name := rawTextTagAt(region[i:])
		if name == "" {
			continue
		}
		if name == "plaintext" {
			dst = append(dst, region[copied:i-1]...)
			dst = append(dst, "&lt;"...)
			copied = i
			continue
		}
		i += len(name)
		k := indexEndTag(region[i:], name)
		if k < 0 {
			dst = append(dst, region[copied:]...)
			dst = append(dst, "</"...)
			dst = append(dst, name...)
			return append(dst, '>'), true
		}
		i += k + 2 + len(name)
	}
	if copied == 0 {
		return region, false
	}
	return append(dst, region[copied:]...), true
}

// rawTextTagAt returns the raw-text element whose name starts b (the bytes
// after "<"), or "".
func rawTextTagAt(b []byte) string {
	for _, name := range rawTextTags {
		if hasPrefixFold(b, name) && (len(b) == len(name) || isTagNameEnd(b[len(name)])) {
			return name
		}
	}
	return ""
}

// indexEndTag finds "</name" followed by a character that ends a tag name,
// as the tokenizer does in raw-text state.
func indexEndTag(b []byte, name string) int {
	for off := 0; ; {
		j := bytes.Index(b[off:], []byte("</"))
		if j < 0 {
			return -1
		}
		at := off + j
		rest := b[at+2:]
		if hasPrefixFold(rest, name) && len(rest) > len(name) && isTagNameEnd(rest[len(name)]) {
			return at
		}
		off = at + 2
	}
}

func isTagNameEnd(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		return true
	}
	return false
}
