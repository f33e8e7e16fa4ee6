package markdown

import (
	"math"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
)

func TestCSS(t *testing.T) {
	css := string(CSS())
	for _, want := range []string{".chroma {", ".chroma .kd {", ".chroma .s {", ".chroma .c {"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS lacks %q:\n%s", want, css)
		}
	}
	if strings.Contains(css, "#6a737d") {
		t.Errorf("CSS still has the low-contrast colour #6a737d")
	}
	// Rendered code uses the classes the stylesheet defines.
	res := render(t, "```go\nfunc main() { /* x */ }\n```\n")
	for _, class := range []string{"kd", "nf", "cm"} {
		if !strings.Contains(res.HTML, `class="`+class+`"`) || !strings.Contains(css, ".chroma ."+class+" ") {
			t.Errorf("class %q missing in HTML or CSS", class)
		}
	}
}

// TestCSSContrast checks WCAG 2.1 AA (4.5:1) for every token colour of the
// highlighting style on its background.
func TestCSSContrast(t *testing.T) {
	style := highlightStyle()
	if style.Name != "github" {
		t.Fatalf("style is %q, want github", style.Name)
	}
	page := style.Get(chroma.Background).Background
	for _, tt := range style.Types() {
		if tt == chroma.TextWhitespace || tt == chroma.Background {
			continue // whitespace has no glyphs to read
		}
		e := style.Get(tt)
		if !e.Colour.IsSet() {
			continue
		}
		bg := page
		if e.Background.IsSet() {
			bg = e.Background
		}
		if r := contrast(e.Colour, bg); r < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f, want >= 4.5", tt, e.Colour, bg, r)
		}
	}
}

func contrast(a, b chroma.Colour) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(c chroma.Colour) float64 {
	channel := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(c.Red()) + 0.7152*channel(c.Green()) + 0.0722*channel(c.Blue())
}
