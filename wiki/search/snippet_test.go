package search

import (
	"encoding/json"
	"testing"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Snippets are the one place where article text becomes HTML in search:
// everything is escaped, and only balanced <mark> elements come out.
func TestMarkedHTML(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Der " + markStart + "Starkregen" + markEnd + " kam", "Der <mark>Starkregen</mark> kam"},
		{`<script>alert("x")</script> & <b>` + markStart + "fett" + markEnd + "</b>",
			`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;<mark>fett</mark>&lt;/b&gt;`},
		{"cut " + markStart + "inside", "cut <mark>inside</mark>"},
		{"stray " + markEnd + "end", "stray end"},
		{markStart + markStart + "twice" + markEnd + markEnd, "<mark>twice</mark>"},
	} {
		if got := string(markedHTML(c.in)); got != c.want {
			t.Errorf("markedHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
