package markdown

import (
	"fmt"
	"testing"
)

func TestCheckFindsAuthoringProblems(t *testing.T) {
	r := New()
	cases := []struct {
		src  string
		want []string // code:line
	}{
		{"## Ausgangslage\n\n### Details\n\n![Luftbild der Altstadt](/x.png)\n\n[Förderaufruf des Landes](https://example.org)\n", nil},
		{"## A\n\n![](/x.png)\n", []string{"image.alt:3"}},
		{"#### Zu tief\n", []string{"heading.order:1"}},
		{"## A\n\n#### B\n\n### C\n", []string{"heading.order:3"}},
		{"Mehr dazu [hier](https://example.org).\n\nUnd [Klicken Sie hier!](x) und [mehr](y).\n", []string{"link.text:1", "link.text:3", "link.text:3"}},
		{"Siehe https://example.org/bericht\n", []string{"link.text:1"}},
		{"[https://example.org](https://example.org)\n", []string{"link.text:1"}},
		{"[![Lageplan](/l.png)](/l.png)\n", nil},
	}
	for _, c := range cases {
		var got []string
		for _, w := range r.Check([]byte(c.src)) {
			got = append(got, fmt.Sprintf("%s:%d", w.Code, w.Line))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Check(%q) = %v, want %v", c.src, got, c.want)
		}
	}
}
