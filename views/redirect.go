package views

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNextLen bounds a redirect target taken from a request.
const maxNextLen = 2048

// SafeNext is the one check for a redirect target that comes from a request
// (next= after sign-in, the way back after an expired session): it returns
// next if it is a path of this site, else "/". A path of this site starts
// with a single "/", and neither next nor any percent-decoding of it holds a
// backslash, a "//" in the path, control or invisible formatting characters
// or invalid UTF-8: browsers drop tabs and newlines and read "\" as "/", so
// "/\t/evil.example" or "/\\evil.example" would leave the site.
func SafeNext(next string) string {
	if next == "" || len(next) > maxNextLen || !localPath(next) {
		return "/"
	}
	// Whatever decodes it later (a proxy, the browser, a second redirect)
	// must see a local path too.
	for s := next; ; {
		d := unescapeLenient(s)
		if d == s {
			return next
		}
		if !localPath(d) {
			return "/"
		}
		s = d
	}
}

// unescapeLenient decodes every valid %XX and keeps anything else, as a
// forgiving decoder would (url.PathUnescape gives up at the first bad one).
func unescapeLenient(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// localPath checks one decoding of a redirect target.
func localPath(s string) bool {
	if !strings.HasPrefix(s, "/") || !utf8.ValidString(s) || strings.ContainsRune(s, '\\') {
		return false
	}
	path, _, _ := strings.Cut(s, "?")
	path, _, _ = strings.Cut(path, "#")
	if strings.Contains(path, "//") {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
			(unicode.IsSpace(r) && r != ' ') {
			return false
		}
	}
	return true
}
