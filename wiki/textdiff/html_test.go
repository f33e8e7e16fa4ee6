package textdiff

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestHTMLEscapes(t *testing.T) {
	a := "Ein <b>Absatz</b> & mehr.\n"
	b := "Ein <script>alert(\"x\")</script> & mehr.\nNeu: <img src=x onerror=alert(1)>\n"
	got := HTML(Prose(a, b))
	for _, bad := range []string{"<script", "<b>", "<img", "\"x\""} {
		if strings.Contains(got, bad) {
			t.Errorf("HTML contains %q unescaped:\n%s", bad, got)
		}
	}
	for _, want := range []string{
		`<div class="diff">`,
		`<ins>script&gt;alert(&#34;x&#34;)&lt;/script</ins>`,
		`<p class="diff-line diff-added"><ins>Neu: &lt;img src=x onerror=alert(1)&gt;</ins></p>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q:\n%s", want, got)
		}
	}
}

func TestHTMLLineKinds(t *testing.T) {
	got := HTML(Prose("gleich\nweg\n\nalt", "gleich\n\nalt\nneu"))
	want := `<div class="diff">
<p class="diff-line diff-same">gleich</p>
<p class="diff-line diff-removed"><del>weg</del></p>
<p class="diff-line diff-same"><br></p>
<p class="diff-line diff-same">alt</p>
<p class="diff-line diff-added"><ins>neu</ins></p>
</div>
`
	if got != want {
		t.Errorf("HTML =\n%s\nwant\n%s", got, want)
	}
	if got := HTML(nil); got != "<div class=\"diff\">\n</div>\n" {
		t.Errorf("HTML(nil) = %q", got)
	}
}

// numbered returns n lines "Zeile i", with the lines in changed replaced.
func numbered(n int, changed ...int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if slices.Contains(changed, i) {
			fmt.Fprintf(&b, "geändert %d\n", i)
		} else {
			fmt.Fprintf(&b, "Zeile %d\n", i)
		}
	}
	return b.String()
}

var (
	paragraph = regexp.MustCompile(`<p class="([^"]*)">(.*)</p>`)
	tag       = regexp.MustCompile(`<[^>]*>`)
)

// shown lists what HTML shows: line texts, "+text"/"-text" for added and
// removed lines, "~" for changed ones and "…N" for skip markers.
func shown(h string) []string {
	var out []string
	for _, m := range paragraph.FindAllStringSubmatch(h, -1) {
		text := tag.ReplaceAllString(m[2], "")
		switch m[1] {
		case "diff-skip":
			var n int
			fmt.Sscanf(text, "… %d", &n)
			out = append(out, fmt.Sprint("…", n))
		case "diff-line diff-added":
			out = append(out, "+"+text)
		case "diff-line diff-removed":
			out = append(out, "-"+text)
		case "diff-line diff-changed":
			out = append(out, "~")
		default:
			out = append(out, text)
		}
	}
	return out
}

func TestHTMLCollapsesContext(t *testing.T) {
	z := func(from, to int) []string {
		var s []string
		for i := from; i <= to; i++ {
			s = append(s, fmt.Sprint("Zeile ", i))
		}
		return s
	}
	tests := []struct {
		name string
		a, b string
		want []string
	}{
		{"change in the middle", numbered(20), numbered(20, 10),
			slices.Concat([]string{"…6"}, z(7, 9), []string{"~"}, z(11, 13), []string{"…7"})},
		{"changes at both ends", numbered(20), numbered(20, 1, 20),
			slices.Concat([]string{"~"}, z(2, 4), []string{"…12"}, z(17, 19), []string{"~"})},
		{"a gap of one line is shown, not collapsed", numbered(12), numbered(12, 2, 10),
			slices.Concat(z(1, 1), []string{"~"}, z(3, 9), []string{"~"}, z(11, 12))},
		{"a gap of two lines is collapsed", numbered(14), numbered(14, 2, 11),
			slices.Concat(z(1, 1), []string{"~"}, z(3, 5), []string{"…2"}, z(8, 10), []string{"~"}, z(12, 14))},
		{"nothing changed", numbered(20), numbered(20), []string{"…20"}},
		{"appended line", numbered(20), numbered(20) + "neu\n",
			slices.Concat([]string{"…17"}, z(18, 20), []string{"+neu"})},
		{"removed line", numbered(20), strings.Replace(numbered(20), "Zeile 1\n", "", 1),
			slices.Concat([]string{"-Zeile 1"}, z(2, 4), []string{"…16"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shown(HTML(Prose(tt.a, tt.b)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("shown\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if got := HTML(Prose(numbered(20), numbered(20))); !strings.Contains(got, `<p class="diff-skip">… 20 unveränderte Zeilen …</p>`) {
		t.Errorf("skip marker missing:\n%s", got)
	}
}

func TestSkipText(t *testing.T) {
	for n, want := range map[int]string{
		1:       "1 unveränderte Zeile",
		12:      "12 unveränderte Zeilen",
		999:     "999 unveränderte Zeilen",
		1234:    "1.234 unveränderte Zeilen",
		1234567: "1.234.567 unveränderte Zeilen",
	} {
		if got := skipText(n); got != want {
			t.Errorf("skipText(%d) = %q, want %q", n, got, want)
		}
	}
}
