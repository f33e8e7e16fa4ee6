package views

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"hansewiki/wiki/textdiff"
)

//go:embed i18n/*.json
var catalogFS embed.FS

// Languages the UI speaks; the first is the default.
var languages = []string{"de", "en"}

// catalog holds the translations of one language.
type catalog map[string]string

func loadCatalogs() (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, lang := range languages {
		data, err := catalogFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		var c catalog
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
		}
		// Further catalogs of a feature (i18n/NAME.LANG.json) join the
		// language's catalog; a key may be defined only once.
		more, _ := fs.Glob(catalogFS, "i18n/*."+lang+".json")
		for _, name := range more {
			data, err := catalogFS.ReadFile(name)
			if err != nil {
				return nil, err
			}
			var extra catalog
			if err := json.Unmarshal(data, &extra); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for k, v := range extra {
				if _, dup := c[k]; dup {
					return nil, fmt.Errorf("%s: %q is defined twice", name, k)
				}
				c[k] = v
			}
		}
		out[lang] = c
	}
	// Every key must exist in every language, so no page shows a raw key.
	for _, lang := range languages[1:] {
		for k := range out[languages[0]] {
			if _, ok := out[lang][k]; !ok {
				return nil, fmt.Errorf("i18n/%s.json lacks %q", lang, k)
			}
		}
		for k := range out[lang] {
			if _, ok := out[languages[0]][k]; !ok {
				return nil, fmt.Errorf("i18n/%s.json lacks %q", languages[0], k)
			}
		}
	}
	return out, nil
}

// T translates key, filling fmt placeholders with args. An unknown key is
// returned as is, which the catalog tests catch.
func (c catalog) T(key string, args ...any) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// diffHTML renders a diff with the skip markers in this language.
func (c catalog) diffHTML(lines []textdiff.Line) string {
	return textdiff.HTMLSkip(lines, func(n int) string {
		if n == 1 {
			return c.T("diff.skip.one")
		}
		sep := byte('.')
		if c["lang"] == "en" {
			sep = ','
		}
		return c.T("diff.skip", textdiff.Thousands(n, sep))
	})
}

// Date formats a time the way the language writes dates.
func (c catalog) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(berlin)
	if c["lang"] == "en" {
		return t.Format("2 January 2006")
	}
	return fmt.Sprintf("%d. %s %d", t.Day(), c.T("month."+fmt.Sprint(int(t.Month()))), t.Year())
}

// DateTime formats a time with hours and minutes.
func (c catalog) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return c.Date(t) + ", " + t.In(berlin).Format("15:04")
}

var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}()

// langCookie remembers an explicit language choice.
const langCookie = "lang"

// language picks the UI language: an explicit ?lang=, then the cookie, then
// German. Accept-Language is not consulted: the network works in German, and
// English is a deliberate choice.
func language(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); isLanguage(l) {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && isLanguage(c.Value) {
		return c.Value
	}
	return languages[0]
}

func isLanguage(l string) bool {
	for _, x := range languages {
		if strings.EqualFold(l, x) && l == x {
			return true
		}
	}
	return false
}
