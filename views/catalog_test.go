package views

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var catalogVerb = regexp.MustCompile(`%(?:\[\d+\])?[-+ #0-9.]*[a-zA-Z%]`)

// Every key exists in both languages, with the same placeholders, so no
// page shows a raw key or a text of the other language in its place.
func TestCatalogsHaveEveryKeyInBothLanguages(t *testing.T) {
	raw := map[string]map[string]string{}
	for _, lang := range languages {
		data, err := catalogFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]string
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		// The catalogs of features (i18n/NAME.LANG.json) too.
		more, _ := fs.Glob(catalogFS, "i18n/*."+lang+".json")
		for _, name := range more {
			data, err := catalogFS.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var extra map[string]string
			if err := json.Unmarshal(data, &extra); err != nil {
				t.Fatal(err)
			}
			maps.Copy(c, extra)
		}
		raw[lang] = c
	}
	verbs := func(s string) []string {
		v := catalogVerb.FindAllString(s, -1)
		slices.Sort(v)
		return v
	}
	for _, lang := range languages {
		for _, other := range languages {
			for key, s := range raw[lang] {
				o, ok := raw[other][key]
				if !ok {
					t.Errorf("%s has %q, %s lacks it", lang, key, other)
					continue
				}
				if !slices.Equal(verbs(s), verbs(o)) {
					t.Errorf("%q: %s has placeholders %v, %s %v", key, lang, verbs(s), other, verbs(o))
				}
			}
		}
	}
}

// A page in one language shows no text of the other language's catalog.
func TestPagesSpeakOneLanguage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	paths := []string{"/", "/c", "/c/luebeck", "/topics", "/topics/mobilitaet", "/search", "/search?q=Bus",
		"/search?q=Bus&city=luebeck", "/search?q=Zzzyxqw", "/c/luebeck/quartiersbus-in-luebeck",
		"/c/luebeck/quartiersbus-in-luebeck/history", "/c/luebeck/gibt-es-nicht", "/login"}
	for _, lang := range languages {
		other := languages[0]
		if lang == other {
			other = languages[1]
		}
		for _, p := range paths {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			rec := do(t, s, "GET", p+sep+"lang="+lang)
			text := visibleText(rec.Body.String())
			for key, str := range s.catalogs[other] {
				mine := s.catalogs[lang][key]
				if str == mine {
					continue
				}
				for _, frag := range catalogVerb.Split(str, -1) {
					frag = strings.TrimSpace(frag)
					if len([]rune(frag)) >= 12 && !strings.Contains(mine, frag) && strings.Contains(text, frag) {
						t.Errorf("%s (%s) shows %q, the %s text of %s", p, lang, frag, other, key)
					}
				}
			}
		}
	}
}

// visibleText is the text of a page and its attributes people meet
// (placeholders, labels, titles), spaces collapsed.
func visibleText(page string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(page))
	skip := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			skip = tok.Data == "script" || tok.Data == "style"
			for _, a := range tok.Attr {
				switch a.Key {
				case "placeholder", "aria-label", "title", "alt", "content", "value":
					b.WriteString(" " + a.Val + " ")
				}
			}
		case html.EndTagToken:
			skip = false
		case html.TextToken:
			if !skip {
				b.WriteString(" " + string(z.Text()) + " ")
			}
		}
	}
}

// Every validation error the domain packages raise has its text in both
// catalogs, so no page falls back to a general message or an English one.
func TestEveryValidationKeyHasAText(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`Key:\s*"([a-z_.]+)"`)
	for _, dir := range []string{"../wiki", "../workflow", "../auth", "."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
				for _, lang := range languages {
					if _, ok := cats[lang]["err."+m[1]]; !ok {
						t.Errorf("%s raises %q, but %s.json has no err.%s", f, m[1], lang, m[1])
					}
				}
			}
		}
	}
}
