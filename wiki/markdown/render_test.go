package markdown

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// render renders src for Lübeck with all link targets existing.
func render(t *testing.T, src string) Result {
	t.Helper()
	res, err := New().Render([]byte(src), "luebeck", nil)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	return res
}

func TestRenderFeatures(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []string
		notWant []string
	}{
		{
			name: "table with alignment",
			src:  "| Stadtteil | Fläche | Anteil |\n|:--|:-:|--:|\n| St. Jürgen | 31,8 km² | 4,3 % |\n",
			want: []string{"<table>", `<th align="left">Stadtteil</th>`, `<th align="center">Fläche</th>`,
				`<td align="right">4,3 %</td>`},
			notWant: []string{"style="},
		},
		{
			name: "task list",
			src:  "- [x] Karte prüfen\n- [ ] Rückstausicherung\n",
			want: []string{`<li><input aria-label="erledigt" checked="" disabled="" type="checkbox"> Karte prüfen</li>`,
				`<li><input aria-label="offen" disabled="" type="checkbox"> Rückstausicherung</li>`},
		},
		{
			name: "strikethrough",
			src:  "Die Frist endet ~~im Mai~~ im Juni.",
			want: []string{"<del>im Mai</del>"},
		},
		{
			name: "autolinks and linkify",
			src:  "Siehe <https://www.luebeck.de/klima>, www.hamburg.de und klima@luebeck.de.",
			want: []string{
				`<a href="https://www.luebeck.de/klima" rel="nofollow noopener">https://www.luebeck.de/klima</a>`,
				`<a href="http://www.hamburg.de" rel="nofollow noopener">www.hamburg.de</a>`,
				`<a href="mailto:klima@luebeck.de">klima@luebeck.de</a>`,
			},
		},
		{
			name: "links: external get rel, internal do not",
			src:  "[Förderung](https://www.luebeck.de/foerderung \"Richtlinie\") und [Karte](/c/luebeck/karte#ost)",
			want: []string{
				`<a href="https://www.luebeck.de/foerderung" title="Richtlinie" rel="nofollow noopener">Förderung</a>`,
				`<a href="/c/luebeck/karte#ost">Karte</a>`,
			},
		},
		{
			name: "footnotes",
			src:  "Empfohlen[^bbsr].\n\n[^bbsr]: Leitfaden Starkregen, Bonn 2018.\n",
			want: []string{
				`<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>`,
				`<div class="footnotes" role="doc-endnotes">`,
				`<li id="fn:1">`,
				`<a href="#fnref:1" class="footnote-backref" role="doc-backlink">`,
			},
		},
		{
			name: "heading IDs with umlauts and duplicates",
			src:  "## Über uns\n\n## Über uns\n\n### Über uns\n\n## Straßenbäume & Gründächer\n\n## ???\n\n## ???\n",
			want: []string{`<h2 id="ueber-uns">Über uns</h2>`, `<h2 id="ueber-uns-1">`, `<h3 id="ueber-uns-2">`,
				`<h2 id="strassenbaeume-gruendaecher">`, `<h2 id="abschnitt">`, `<h2 id="abschnitt-1">`},
			notWant: []string{`id="ber-uns"`},
		},
		{
			name: "heading IDs never look like footnote IDs",
			src:  "## fn:1\n\n## fnref:1\n\nText[^1].\n\n[^1]: Fußnote.\n",
			want: []string{`<h2 id="fn-1">`, `<h2 id="fnref-1">`, `<li id="fn:1">`, `<sup id="fnref:1">`},
		},
		{
			name: "heading ID from visible text only",
			src:  "## [Satzung](https://example.org/satzung) <kbd>neu</kbd>\n\n## Förderung [[gruendach|Gründach]]\n",
			want: []string{`<h2 id="satzung-neu">`, `<h2 id="foerderung-gruendach">`},
		},
		{
			name:    "highlighted code uses classes",
			src:     "```go\nfunc main() {\n\tprintln(\"Moin\")\n}\n```\n",
			want:    []string{`<pre class="chroma"><code>`, `<span class="kd">func</span>`, `<span class="nf">main</span>`},
			notWant: []string{"style="},
		},
		{
			name:    "unknown language stays plain",
			src:     "```klingonisch\nQapla'\n```\n",
			want:    []string{`<pre><code class="language-klingonisch">Qapla'`},
			notWant: []string{"chroma"},
		},
		{
			name:    "code without language stays plain",
			src:     "```\n<b>kein HTML</b>\n```\n",
			want:    []string{"<pre><code>&lt;b&gt;kein HTML&lt;/b&gt;\n</code></pre>"},
			notWant: []string{"chroma", "<b>"},
		},
		{
			name:    "typographer off: quotes and dashes stay as written",
			src:     "„Schwammstadt\" -- so heißt es... 'gut'",
			want:    []string{"„Schwammstadt&quot; -- so heißt es... 'gut'"},
			notWant: []string{"&ldquo;", "&ndash;", "&hellip;", "“", "–"},
		},
		{
			name: "harmless raw HTML survives",
			src: "Drücken Sie <kbd>Strg</kbd>+<kbd>F</kbd>, m<sup>2</sup>, H<sub>2</sub>O, <mark>wichtig</mark>, " +
				"<abbr title=\"Deutscher Wetterdienst\">DWD</abbr>, <ins>neu</ins>.\n\n" +
				"<details>\n<summary>Mehr lesen</summary>\n\nWeitere **Hinweise**.\n\n</details>\n\n<dl><dt>Rigole</dt><dd>Speicher</dd></dl>\n",
			want: []string{"<kbd>Strg</kbd>", "<sup>2</sup>", "<sub>2</sub>", "<mark>wichtig</mark>",
				`<abbr title="Deutscher Wetterdienst">DWD</abbr>`, "<ins>neu</ins>",
				"<details>\n<summary>Mehr lesen</summary>", "<strong>Hinweise</strong>", "</details>",
				"<dl><dt>Rigole</dt><dd>Speicher</dd></dl>"},
		},
		{
			name: "raw links get nofollow",
			src:  `<a href="https://example.org/x">extern</a> <a href="/c/kiel/start">intern</a>`,
			want: []string{`<a href="https://example.org/x" rel="nofollow">extern</a>`, `<a href="/c/kiel/start">intern</a>`},
		},
		{
			name:    "stray end tags cannot close page containers",
			src:     "Vorher\n\n</div></div></main>\n\nNachher\n",
			want:    []string{"<p>Vorher</p>", "<p>Nachher</p>"},
			notWant: []string{"</div>", "</main>"},
		},
		{
			name: "elements left open are closed at the end",
			src:  "<div>\n\nText\n\n<blockquote><a href=\"https://example.org\">offen",
			want: []string{"<p>Text</p>", `offen</a></blockquote></div>`},
		},
		{
			name: "inline elements are closed at the end of their block",
			src:  "<b>fett <a href=\"https://example.org\">Link\n\nNicht fett",
			want: []string{`<p><b>fett <a href="https://example.org" rel="nofollow">Link</a></b></p>`, "<p>Nicht fett</p>"},
		},
		{
			// Only <script>, <style>, <pre> and <textarea> blocks run to
			// their end tag (CommonMark HTML block type 1).
			name:    "unclosed raw-text element does not swallow the article",
			src:     "Vorher <iframe src=\"https://example.org\"> weg\n\nMitte\n\n<xmp>\n\n<title>\n\nNachher\n",
			want:    []string{"<p>Vorher", "<p>Mitte</p>", "<p>Nachher</p>"},
			notWant: []string{"<iframe", "<xmp", "<title", "weg"},
		},
		{
			name: "images",
			src:  "![Karte der Senken](/media/karte.png \"Senken\") ![Punkt](data:image/png;base64,iVBORw0KGgo=)",
			want: []string{`<img src="/media/karte.png" alt="Karte der Senken" title="Senken">`,
				`<img src="data:image/png;base64,iVBORw0KGgo=" alt="Punkt">`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.src).HTML
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
		})
	}
}

func TestRenderTOC(t *testing.T) {
	src := "# Titel\n\n## Über *uns*\n\nText\n\n### Die [Satzung](https://example.org) &amp; `§ 3`\n\n" +
		"#### Förderung für [[gruendach|Gründächer]]\n\n##### Zu tief\n\n## Über uns\n\n> ## Im Zitat\n\n## A \\* B\n"
	want := []Heading{
		{Level: 2, ID: "ueber-uns", Text: "Über uns"},
		{Level: 3, ID: "die-satzung-3", Text: "Die Satzung & § 3"},
		{Level: 4, ID: "foerderung-fuer-gruendaecher", Text: "Förderung für Gründächer"},
		{Level: 2, ID: "ueber-uns-1", Text: "Über uns"},
		{Level: 2, ID: "im-zitat", Text: "Im Zitat"},
		{Level: 2, ID: "a-b", Text: "A * B"},
	}
	res := render(t, src)
	if !reflect.DeepEqual(res.TOC, want) {
		t.Errorf("TOC\n got %+v\nwant %+v", res.TOC, want)
	}
	if strings.Contains(res.HTML, "Inhalt") || strings.Contains(res.HTML, "toc") {
		t.Errorf("TOC must not be injected into HTML:\n%s", res.HTML)
	}
}

func TestWikiLinkForms(t *testing.T) {
	tests := []struct {
		name, src, want string
		link            Link
	}{
		{"slug", "[[Gründach Förderung]]",
			`<a href="/c/luebeck/gruendach-foerderung" class="wikilink">Gründach Förderung</a>`,
			Link{"luebeck", "gruendach-foerderung"}},
		{"slug with text", "[[gruendach-foerderung|Förderung für Gründächer]]",
			`<a href="/c/luebeck/gruendach-foerderung" class="wikilink">Förderung für Gründächer</a>`,
			Link{"luebeck", "gruendach-foerderung"}},
		{"city and slug", "[[Hamburg/Starkregen Gefahrenkarte]]",
			`<a href="/c/hamburg/starkregen-gefahrenkarte" class="wikilink">Hamburg/Starkregen Gefahrenkarte</a>`,
			Link{"hamburg", "starkregen-gefahrenkarte"}},
		{"city, slug and text", "[[kiel/schwammstadt | Schwammstadt <Kiel> ]]",
			`<a href="/c/kiel/schwammstadt" class="wikilink">Schwammstadt &lt;Kiel&gt;</a>`,
			Link{"kiel", "schwammstadt"}},
		{"city with umlaut", "[[Lüneburg/Übersicht]]",
			`<a href="/c/lueneburg/uebersicht" class="wikilink">Lüneburg/Übersicht</a>`,
			Link{"lueneburg", "uebersicht"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := render(t, "Siehe "+tt.src+".")
			if !strings.Contains(res.HTML, tt.want) {
				t.Errorf("missing %q in\n%s", tt.want, res.HTML)
			}
			if want := []Link{tt.link}; !reflect.DeepEqual(res.Links, want) {
				t.Errorf("Links = %v, want %v", res.Links, want)
			}
		})
	}
}

func TestWikiLinkNotLinks(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"code span", "Schreibe `[[seite]]` für Links.", "<code>[[seite]]</code>"},
		{"code block", "```\n[[seite]]\n```\n", "<pre><code>[[seite]]\n</code></pre>"},
		{"indented code", "    [[seite]]\n", "<pre><code>[[seite]]\n</code></pre>"},
		{"empty slug", "Leer: [[ ]] und [[!!!]] und [[hamburg/]] und [[/seite]].",
			"Leer: [[ ]] und [[!!!]] und [[hamburg/]] und [[/seite]]."},
		{"escaped", `Kein Link: \[[seite]]`, "Kein Link: [[seite]]"},
		{"unclosed", "Offen: [[seite und weiter", "Offen: [[seite und weiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := render(t, tt.src)
			if !strings.Contains(res.HTML, tt.want) {
				t.Errorf("missing %q in\n%s", tt.want, res.HTML)
			}
			if strings.Contains(res.HTML, "wikilink") || len(res.Links) != 0 {
				t.Errorf("unexpected wiki link: %v\n%s", res.Links, res.HTML)
			}
		})
	}
}

func TestWikiLinksBatchedExists(t *testing.T) {
	src := "[[Klimaanpassung]] [[hamburg/starkregen|Hamburg]] [[klimaanpassung|nochmal]]\n\n" +
		"- [[Luebeck/Klimaanpassung]] und [[kiel/fehlt]]\n\n| [[fehlt]] |\n|---|\n| x |\n"
	var calls [][]Link
	exists := func(targets []Link) ([]Target, error) {
		calls = append(calls, targets)
		found := make([]Target, len(targets))
		for i, l := range targets {
			found[i].Exists = !strings.Contains(l.Slug, "fehlt")
		}
		return found, nil
	}
	res, err := New().Render([]byte(src), "Lübeck", exists)
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{"luebeck", "klimaanpassung"}, {"hamburg", "starkregen"}, {"kiel", "fehlt"}, {"luebeck", "fehlt"},
	}
	if len(calls) != 1 {
		t.Fatalf("exists called %d times, want once", len(calls))
	}
	if !reflect.DeepEqual(calls[0], want) {
		t.Errorf("exists got %v, want %v", calls[0], want)
	}
	if !reflect.DeepEqual(res.Links, want) {
		t.Errorf("Links = %v, want %v", res.Links, want)
	}
	for _, w := range []string{
		`<a href="/c/luebeck/klimaanpassung" class="wikilink">Klimaanpassung</a>`,
		`<a href="/c/luebeck/klimaanpassung" class="wikilink">nochmal</a>`,
		`<a href="/c/hamburg/starkregen" class="wikilink">Hamburg</a>`,
		`<a href="/c/kiel/fehlt" class="wikilink wikilink-missing" title="Seite existiert noch nicht / page does not exist yet">kiel/fehlt</a>`,
		`<a href="/c/luebeck/fehlt" class="wikilink wikilink-missing" title="Seite existiert noch nicht / page does not exist yet">fehlt</a>`,
	} {
		if !strings.Contains(res.HTML, w) {
			t.Errorf("missing %q in\n%s", w, res.HTML)
		}
	}
}

// A link written without text shows the target's title, escaped; a label
// the author wrote, a missing target or a target without a usable title
// keep what was written.
func TestWikiLinksShowTargetTitles(t *testing.T) {
	src := "[[starkregen-karte]], [[starkregen-karte|die Karte]], [[schwerin/intern]], [[fehlt]], [[rostock/a-und-b]]"
	titles := map[string]Target{
		"luebeck/starkregen-karte": {Exists: true, Title: "Starkregen-Hinweiskarte"},
		"schwerin/intern":          {Exists: true}, // not for every reader
		"rostock/a-und-b":          {Exists: true, Title: "Wärme & <Kälte>"},
	}
	res, err := New().Render([]byte(src), "luebeck", func(targets []Link) ([]Target, error) {
		out := make([]Target, len(targets))
		for i, l := range targets {
			out[i] = titles[l.City+"/"+l.Slug]
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`<a href="/c/luebeck/starkregen-karte" class="wikilink">Starkregen-Hinweiskarte</a>`,
		`<a href="/c/luebeck/starkregen-karte" class="wikilink">die Karte</a>`,
		`<a href="/c/schwerin/intern" class="wikilink">schwerin/intern</a>`,
		`class="wikilink wikilink-missing" title="Seite existiert noch nicht / page does not exist yet">fehlt</a>`,
		`<a href="/c/rostock/a-und-b" class="wikilink">Wärme &amp; &lt;Kälte&gt;</a>`,
	} {
		if !strings.Contains(res.HTML, w) {
			t.Errorf("missing %q in\n%s", w, res.HTML)
		}
	}
}

func TestWikiLinksExistsNotCalledWithoutLinks(t *testing.T) {
	exists := func([]Link) ([]Target, error) {
		t.Error("exists called for a document without wiki links")
		return nil, nil
	}
	if _, err := New().Render([]byte("Nur Text."), "luebeck", exists); err != nil {
		t.Fatal(err)
	}
}

func TestWikiLinksExistsErrors(t *testing.T) {
	boom := errors.New("datenbank weg")
	tests := []struct {
		name   string
		exists Resolve
		want   error
	}{
		{"error", func([]Link) ([]Target, error) { return nil, boom }, boom},
		{"wrong length", func([]Link) ([]Target, error) { return []Target{{Exists: true}}, nil }, errResolveLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Render([]byte("[[a]] [[b]]"), "luebeck", tt.exists)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRenderConcurrent shares one Renderer between goroutines (run with
// -race) and checks that pooled state does not leak between renders.
func TestRenderConcurrent(t *testing.T) {
	r := New()
	docs := []string{
		"## Über uns\n\n[[a]] <kbd>x</kbd>\n",
		"## Über uns\n\n| a |\n|---|\n| [[hamburg/b]] |\n",
		"<div>\n\noffen\n",
		"```go\nvar x = 1\n```\n",
	}
	want := make([]Result, len(docs))
	for i, d := range docs {
		res, err := r.Render([]byte(d), "luebeck", nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(docs)
				res, err := r.Render([]byte(docs[k]), "luebeck", nil)
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(res, want[k]) {
					t.Errorf("doc %d: got %+v, want %+v", k, res, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// Wide tables scroll inside a region that keyboard users can focus.
func TestTablesScrollInAFocusableRegion(t *testing.T) {
	res, err := New().Render([]byte("| Jahr | Kosten |\n|---|---:|\n| 2024 | 10 |\n"), "rostock", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `<div class="table-scroll" role="region" tabindex="0" aria-label="Tabelle"><table>`
	if !strings.Contains(res.HTML, want) || !strings.Contains(res.HTML, "</table>\n</div>") {
		t.Fatalf("table not wrapped in a scroll region:\n%s", res.HTML)
	}
	if !strings.Contains(res.HTML, `<td align="right">10</td>`) {
		t.Fatalf("table markup changed:\n%s", res.HTML)
	}
}

// Task-list boxes have an accessible name (screen readers announce them).
func TestTaskListCheckboxesHaveNames(t *testing.T) {
	res, err := New().Render([]byte("- [x] Karte veröffentlicht\n- [ ] Schulung\n"), "wismar", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<input aria-label="erledigt" checked="" disabled="" type="checkbox">`, `<input aria-label="offen" disabled="" type="checkbox">`} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %s in\n%s", want, res.HTML)
		}
	}
}
