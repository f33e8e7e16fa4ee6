// Package slug turns German titles into URL slugs: ä→ae, ö→oe, ü→ue, ß→ss,
// other accents dropped, everything else that is not a letter or digit
// folded into single hyphens.
package slug

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

var german = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'ß': "ss",
	'Ä': "ae", 'Ö': "oe", 'Ü': "ue", 'ẞ': "ss",
}

// Make returns the slug of s, at most max bytes long (0 means no limit),
// never ending in a hyphen. It returns "" when s has no letters or digits.
func Make(s string, max int) string {
	var b strings.Builder
	b.Grow(len(s))
	hyphen := false
	for _, r := range norm.NFC.String(s) {
		if t, ok := german[r]; ok {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteString(t)
			continue
		}
		// Decompose to drop accents that have no German transliteration (é → e).
		for _, d := range norm.NFD.String(string(r)) {
			switch {
			case d < unicode.MaxASCII && (unicode.IsLetter(d) || unicode.IsDigit(d)):
				if hyphen && b.Len() > 0 {
					b.WriteByte('-')
				}
				hyphen = false
				b.WriteRune(unicode.ToLower(d))
			case unicode.Is(unicode.Mn, d):
				// combining mark: dropped
			default:
				hyphen = true
			}
		}
	}
	out := b.String()
	if max > 0 && len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	return out
}
