package markdown

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// hostileInputs are attacks on the sanitizer. Each is wrapped in harmless
// text that must survive; a few are inline and wrapped by the test itself.
var hostileInputs = []struct {
	name   string
	attack string
	inline bool // within a paragraph: "Vorher <attack> Nachher"
}{
	{"script block", "<script>alert(1)</script>", false},
	{"script inline", "<script>alert(1)</script>", true},
	{"script uppercase", "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>", false},
	{"split script", "<scr<script>ipt>alert(1)</scr</script>ipt>", true},
	{"img onerror", "<img src=x onerror=alert(1)>", true},
	{"img onerror self-closing", `<img src="x" onerror="alert(1)"/>`, false},
	{"svg onload", "<svg onload=alert(1)>", false},
	{"svg script", "<svg><script>alert(1)</script></svg>", false},
	{"svg xlink", `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>`, false},
	{"mathml style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", false},
	{"mathml comment", `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">`, false},
	{"markdown javascript link", "[x](javascript:alert(1))", true},
	{"markdown mixed case", "[x](JaVaScRiPt:alert(1))", true},
	{"markdown tab entity", "[x](java&#x09;script:alert(1))", true},
	{"markdown decimal entity", "[x](&#106;avascript:alert(1))", true},
	{"markdown named entity colon", "[x](javascript&colon;alert(1))", true},
	{"markdown angle destination", "[x](<javascript:alert(1)>)", true},
	{"markdown reference", "[x][boom]\n\n[boom]: javascript:alert(1)", false},
	{"markdown data html", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", true},
	{"markdown image javascript", "![x](javascript:alert(1))", true},
	{"markdown image svg", "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", true},
	{"autolink javascript", "<javascript:alert(1)>", true},
	{"autolink vbscript", "<VBScript:msgbox(1)>", true},
	{"vbscript href", `<a href="vbscript:msgbox(1)">x</a>`, true},
	{"data html href", `<a href="data:text/html,<script>alert(1)</script>">x</a>`, true},
	{"data image href", `<a href="data:image/png;base64,iVBORw0KGgo=">x</a>`, true},
	{"data html img", `<img src="data:text/html;base64,PHNjcmlwdD4=">`, true},
	{"data svg img", `<img src="data:image/svg+xml,<svg onload=alert(1)>">`, true},
	{"vbscript img", `<img src="vbscript:msgbox(1)">`, true},
	{"leading space", `<a href=" javascript:alert(1)">x</a>`, true},
	{"leading control", "<a href=\"\x01javascript:alert(1)\">x</a>", true},
	{"entity encoded", `<a href="&#x6A;avascript&#x3A;alert(1)">x</a>`, true},
	{"decimal entities", `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`, true},
	{"newline in scheme", `<a href="jav&#x0A;ascript:alert(1)">x</a>`, true},
	{"tab in scheme", "<a href=\"java\tscript:alert(1)\">x</a>", true},
	{"colon entity", `<a href="javascript&colon;alert(1)">x</a>`, true},
	{"onclick on allowed link", `<a href="https://example.org" onclick="alert(1)">x</a>`, true},
	{"iframe", `<iframe src="https://evil.example"></iframe>`, false},
	{"iframe srcdoc unclosed", `<iframe srcdoc="<script>alert(1)</script>">`, false},
	{"object embed", `<object data="x.swf"><embed src="x.swf"></object>`, false},
	{"embed javascript", `<embed src="javascript:alert(1)">`, true},
	{"form", `<form action="https://evil.example"><input name="pw"><button formaction="javascript:alert(1)">Senden</button><select><option>a</option></select><textarea>b</textarea></form>`, false},
	{"input autofocus", `<input type="text" onfocus="alert(1)" autofocus>`, true},
	{"enabled checkbox", `<input type="checkbox" checked>`, true},
	{"isindex", `<isindex action="javascript:alert(1)" type="image">`, true},
	{"base", `<base href="https://evil.example/">`, false},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`, false},
	{"link stylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">`, false},
	{"style url", `<p style="background:url(javascript:alert(1))">Text</p>`, false},
	{"style expression", `<div style="width: expression(alert(1))">x</div>`, false},
	{"style element", `<style>body{background:url("javascript:alert(1)")}</style>`, false},
	{"style inline", `<style>*{display:none}</style>`, true},
	{"nested unclosed", `<div><p><b><i>offen <a href="javascript:alert(1)">x`, false},
	{"html comment", "<!--><script>alert(1)</script>-->", false},
	{"comment inline", "<!-- <script>alert(1)</script> -->", true},
	{"cdata", "<![CDATA[<script>alert(1)</script>]]>", false},
	{"details ontoggle", "<details open ontoggle=alert(1)><summary>x</summary></details>", false},
	{"textarea breakout", "<textarea><script>alert(1)</script></textarea>", false},
	{"noscript breakout", `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`, false},
	{"xmp", "<xmp><script>alert(1)</script></xmp>", false},
	{"plaintext", "<plaintext><script>alert(1)</script>", true},
	{"video source", `<video><source onerror="alert(1)"></video>`, false},
	{"template", "<template><script>alert(1)</script></template>", false},
	{"wiki link label", "[[seite|<script>alert(1)</script>]]", true},
	{"footnote", "Text[^1]\n\n[^1]: <img src=x onerror=alert(1)> [x](javascript:alert(1))", false},
	{"table cell", "| a |\n|---|\n| <img src=x onerror=alert(1)> |", false},
	{"list item", "- <a href=javascript:alert(1)>x</a>\n- [ ] <svg onload=alert(1)>", false},
	{"code info string", "```go {hl_style=monokai onload=alert(1)}\nx := 1\n```", false},
	{"unclosed attribute", "<div title=\"\n\n[x](https://example.org/?onmouseover=alert(1)//)", false},
}

func hostileDocument(attack string, inline bool) string {
	if inline {
		return "Vorher " + attack + " Nachher\n"
	}
	return "Vorher\n\n" + attack + "\n\nNachher\n"
}

func TestSanitizeHostileInputs(t *testing.T) {
	if len(hostileInputs) < 30 {
		t.Fatalf("only %d hostile inputs", len(hostileInputs))
	}
	r := New()
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Render([]byte(hostileDocument(tt.attack, tt.inline)), "luebeck", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range executableContent(res.HTML) {
				t.Errorf("%s in\n%s", problem, res.HTML)
			}
			for _, text := range []string{"Vorher", "Nachher"} {
				if !strings.Contains(res.HTML, text) {
					t.Errorf("harmless text %q lost:\n%s", text, res.HTML)
				}
			}
		})
	}
}

// forbiddenElements must never appear in rendered output.
var forbiddenElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "svg": true, "math": true,
	"form": true, "button": true, "textarea": true, "select": true, "option": true,
	"base": true, "meta": true, "link": true, "template": true, "noscript": true,
	"xmp": true, "plaintext": true, "isindex": true, "video": true, "audio": true, "source": true,
}

// urlAttrs hold URLs that a browser may load or navigate to.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"background": true, "cite": true, "data": true, "xlink:href": true, "srcset": true,
}

// executableContent parses rendered HTML as a browser would and lists
// everything that could run script or load active content.
func executableContent(out string) []string {
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		return []string{"unparsable output: " + err.Error()}
	}
	var problems []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			problems = append(problems, checkElement(n)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return problems
}

func checkElement(n *html.Node) []string {
	var problems []string
	if n.Namespace != "" {
		problems = append(problems, fmt.Sprintf("foreign element <%s:%s>", n.Namespace, n.Data))
	}
	if forbiddenElements[n.Data] {
		problems = append(problems, fmt.Sprintf("element <%s>", n.Data))
	}
	attr := map[string]string{}
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		if a.Namespace != "" {
			key = a.Namespace + ":" + key
		}
		attr[key] = a.Val
		switch {
		case strings.HasPrefix(key, "on"):
			problems = append(problems, fmt.Sprintf("event handler %s on <%s>", key, n.Data))
		case key == "style" || key == "srcdoc":
			problems = append(problems, fmt.Sprintf("%s attribute on <%s>", key, n.Data))
		case urlAttrs[key]:
			if scheme, rest := urlScheme(a.Val); scheme == "javascript" || scheme == "vbscript" ||
				scheme == "data" && !(n.Data == "img" && key == "src" && isRasterImageData([]byte(rest))) {
				problems = append(problems, fmt.Sprintf("%s URL in %s of <%s>: %q", scheme, key, n.Data, a.Val))
			}
		}
	}
	if n.Data == "input" {
		if _, disabled := attr["disabled"]; !disabled || strings.ToLower(attr["type"]) != "checkbox" {
			problems = append(problems, fmt.Sprintf("input that is not a disabled checkbox: %v", n.Attr))
		}
	}
	return problems
}

// urlScheme returns the lower-case scheme of a URL the way a browser reads
// it (leading and trailing controls and spaces trimmed, tabs and newlines
// removed) and the rest after the colon.
func urlScheme(u string) (scheme, rest string) {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u)
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return "", u
	}
	return strings.ToLower(u[:i]), u[i+1:]
}

// TestPolicyAcceptsTrustedOutput checks that Markdown rendered outside
// raw-HTML regions (which skips bluemonday) is exactly what the policy
// would let through: sanitizing it again changes no token. If a goldmark
// upgrade or a new extension emits something the policy does not allow,
// this fails.
func TestPolicyAcceptsTrustedOutput(t *testing.T) {
	docs := map[string]string{
		"benchmark article": string(readBenchDocument(t)),
		"features": "# Titel\n\n## Über uns\n\n| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n- [x] ja\n- [ ] nein\n\n" +
			"1. eins\n2. zwei\n\n3. drei\n4. vier\n\n> Zitat mit ~~alt~~ *neu* **fett** `code`\n\n---\n\n" +
			"Ein Satz mit Fußnote[^1] und noch einer[^1], [[seite]], [[hamburg/karte|Karte]], [[fehlt]],\n" +
			"https://example.org/a?b=c&d=e, <mailto:a@b.de>, [rel](../x \"Titel\"), ![Bild](https://example.org/b.png \"T\")\n" +
			"und ![Punkt](data:image/gif;base64,R0lGODlhAQABAAAAACw=).\\\nZeilenumbruch.\n\n" +
			"```go\nfunc main() { fmt.Println(\"<b>\") }\n```\n\n```unbekannt\nx\n```\n\n    eingerückt\n\n[^1]: Quelle.\n",
		"attachments": "![Lageplan](/files/0123456789abcdef0123456789abcdef/lageplan.png) ![](/files/0123456789abcdef0123456789abcdef/lageplan.png)\n\n" +
			"[![Foto](/files/0123456789abcdef0123456789abcdef/lageplan.png)](https://example.org) [Bericht](/files/fedcba9876543210fedcba9876543210/bericht.pdf)\n",
	}
	files := func(ids []string) (map[string]File, error) {
		return map[string]File{"0123456789abcdef0123456789abcdef": {Size: 123456, Width: 1600, Height: 900},
			"fedcba9876543210fedcba9876543210": {Size: 1234567}}, nil
	}
	missing := func(targets []Link) ([]Target, error) {
		found := make([]Target, len(targets))
		for i, l := range targets {
			found[i] = Target{Exists: l.Slug != "fehlt", Title: "Titel & <Seite> " + l.Slug}
		}
		return found, nil
	}
	r := New()
	for name, src := range docs {
		t.Run(name, func(t *testing.T) {
			res, err := r.RenderWithFiles(context.Background(), []byte(src), "luebeck", missing, files)
			if err != nil {
				t.Fatal(err)
			}
			again := r.policy.Sanitize(res.HTML)
			got, want := tokens(again), tokens(res.HTML)
			for i := range max(len(got), len(want)) {
				var g, w html.Token
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("token %d: policy made %q of %q", i, g.String(), w.String())
				}
			}
		})
	}
}

func tokens(s string) []html.Token {
	var out []html.Token
	z := html.NewTokenizer(strings.NewReader(s))
	for z.Next() != html.ErrorToken {
		out = append(out, z.Token())
	}
	if z.Err() != io.EOF {
		panic(z.Err())
	}
	return out
}

func TestAllowedURL(t *testing.T) {
	tests := []struct {
		url         string
		link, image bool
	}{
		{"https://www.luebeck.de/x", true, true},
		{"HTTP://example.org", true, true},
		{"/c/luebeck/karte", true, true},
		{"../bild.png", true, true},
		{"#fn:1", true, true},
		{"?seite=2", true, true},
		{"bild.png", true, true},
		{"", true, true},
		{"mailto:a@b.de", true, false},
		{"javascript:alert(1)", false, false},
		{"JavaScript:alert(1)", false, false},
		{"java%09script:alert(1)", false, false},
		{"%20javascript:alert(1)", false, false},
		{"vbscript:x", false, false},
		{"data:text/html,x", false, false},
		{"data:image/png;base64,iVBOR", false, true},
		{"data:image/webp,x", false, true},
		{"data:image/svg+xml;base64,PHN2Zz4=", false, false},
		{"data:image/pngx,x", false, false},
		{"ftp://example.org", false, false},
		{"foo:bar", false, false},
	}
	for _, tt := range tests {
		if got := allowedURL([]byte(tt.url), false); got != tt.link {
			t.Errorf("allowedURL(%q, link) = %v, want %v", tt.url, got, tt.link)
		}
		if got := allowedURL([]byte(tt.url), true); got != tt.image {
			t.Errorf("allowedURL(%q, image) = %v, want %v", tt.url, got, tt.image)
		}
	}
}

func TestKeepOnlyDisabledCheckboxes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<li><input checked="" disabled="" type="checkbox"> a</li>`, `<li><input checked="" disabled="" type="checkbox"> a</li>`},
		{`<p><input type="checkbox"> a</p>`, `<p><input disabled="" type="checkbox"> a</p>`},
		{`<p><input checked=""> a <input/> b</p>`, `<p> a  b</p>`},
		{`<p>x &lt;input type="text"&gt;</p>`, `<p>x &lt;input type="text"&gt;</p>`},
	}
	for _, tt := range tests {
		if got := string(keepOnlyDisabledCheckboxes(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("keepOnlyDisabledCheckboxes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExecutableContentFindsProblems checks the checker used by the
// hostile-input and fuzz tests.
func TestExecutableContentFindsProblems(t *testing.T) {
	bad := []string{
		"<script>x</script>",
		`<p onclick="x">a</p>`,
		`<p style="color:red">a</p>`,
		`<a href="javascript:x">a</a>`,
		`<a href=" JaVa&#x09;Script:x">a</a>`,
		`<a href="data:image/png;base64,AAAA">a</a>`,
		`<img src="data:image/svg+xml,x">`,
		`<img src="vbscript:x">`,
		`<svg><circle/></svg>`,
		`<math><mi>x</mi></math>`,
		`<input type="text">`,
		`<input type="checkbox">`,
		`<iframe srcdoc="x"></iframe>`,
		`<meta http-equiv="refresh" content="0">`,
	}
	for _, b := range bad {
		if len(executableContent(b)) == 0 {
			t.Errorf("executableContent(%q) found nothing", b)
		}
	}
	good := `<p><a href="https://example.org">a</a> <img src="data:image/png;base64,AAAA"> ` +
		`<input checked="" disabled="" type="checkbox"> <a href="/c/x/y#z">b</a></p>`
	if p := executableContent(good); len(p) != 0 {
		t.Errorf("executableContent(good) = %v", p)
	}
}

func TestConfineRawText(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"<p>ohne</p>", "<p>ohne</p>", false},
		{"<script>x</script> danach", "<script>x</script> danach", false},
		{"<SCRIPT>x</Script > danach", "<SCRIPT>x</Script > danach", false},
		{"<style>x", "<style>x</style>", true},
		{"<iframe src=x> danach", "<iframe src=x> danach</iframe>", true},
		{"<script>x</scripty> danach", "<script>x</scripty> danach</script>", true},
		{"<plaintext>x", "&lt;plaintext>x", true},
		{"<titlex>kein Raw-Text</titlex>", "<titlex>kein Raw-Text</titlex>", false},
	}
	for _, tt := range tests {
		got, changed := confineRawText(nil, []byte(tt.in))
		if string(got) != tt.want || changed != tt.changed {
			t.Errorf("confineRawText(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}
