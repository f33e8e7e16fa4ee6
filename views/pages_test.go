package views

import (
	"encoding/xml"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Every key a template translates exists in every catalog.
func TestTemplatesUseOnlyKnownTranslationKeys(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`\{\{-?\s*(?:t|tn)\s+"([^"]+)"`)
	nested := regexp.MustCompile(`\((?:t|tn)\s+"([^"]+)"`)
	err = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := fs.ReadFile(templateFS, p)
		for _, re := range []*regexp.Regexp{keyRe, nested} {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				for _, lang := range languages {
					if _, ok := cats[lang][m[1]]; !ok {
						t.Errorf("%s uses %q, missing in %s", p, m[1], lang)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPageCacheServesAndFlushes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	path := "/c/luebeck/quartiersbus-in-luebeck"
	first := do(t, s, "GET", path)
	if first.Code != 200 {
		t.Fatalf("GET %s = %d", path, first.Code)
	}
	second := do(t, s, "GET", path)
	if s.metrics.cacheHits.Load() != 1 || second.Body.String() != first.Body.String() {
		t.Fatalf("second view not served from the cache (hits %d)", s.metrics.cacheHits.Load())
	}
	etag := second.Header().Get("ETag")
	req, _ := http.NewRequest("GET", path, nil)
	req.Header.Set("If-None-Match", etag)
	rec := newRecorder()
	s.ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET with ETag %q = %d, want 304", etag, rec.Code)
	}
	// English pages are cached separately.
	if en := do(t, s, "GET", path+"?lang=en"); !strings.Contains(en.Body.String(), `lang="en"`) {
		t.Error("English page served from the German cache entry")
	}
	// A render that started before a flush must not store its stale page.
	_, gen := s.cache.get("x")
	s.Invalidate("luebeck/quartiersbus-in-luebeck")
	s.cache.put(gen, &cachedPage{key: "x", body: []byte("stale")})
	if p, _ := s.cache.get("x"); p != nil {
		t.Error("a page rendered before a flush was cached after it")
	}
	hits := s.metrics.cacheHits.Load()
	do(t, s, "GET", path)
	if s.metrics.cacheHits.Load() != hits {
		t.Error("served from the cache after a flush")
	}
}

func TestPageCacheIsBounded(t *testing.T) {
	c := newPageCache(1000)
	for i := 0; i < 100; i++ {
		c.put(0, &cachedPage{key: strings.Repeat("k", i+1), body: make([]byte, 100)})
	}
	if c.size > 1000 || len(c.entries) != 10 {
		t.Fatalf("cache holds %d bytes in %d entries, bound 1000", c.size, len(c.entries))
	}
	if p, _ := c.get(strings.Repeat("k", 100)); p == nil {
		t.Fatal("the most recent page was evicted")
	}
}

func TestErrorPagesAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	for path, status := range map[string]int{
		"/c/luebeck/gibt-es-nicht": 404,
		"/c/luebeck/intern":        404, // network-only: hidden, not forbidden
		"/c/atlantis":              404,
		"/topics/astrologie":       404,
		"/nirgends":                404,
	} {
		rec := do(t, s, "GET", path)
		if rec.Code != status || !strings.Contains(rec.Body.String(), "Seite nicht gefunden") {
			t.Errorf("GET %s = %d, want %d with the German error page", path, rec.Code, status)
		}
	}
	rec := do(t, s, "GET", "/")
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Request-Id", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if rec := do(t, s, "POST", "/api/v1/cities"); rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("POST /api/v1/cities = %d %s", rec.Code, rec.Body)
	}
}

func TestStaticAssetsHaveHashedURLs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	u := s.static.url("app.css")
	rec := do(t, s, "GET", u)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s = %d %v", u, rec.Code, rec.Header())
	}
	if rec := do(t, s, "GET", s.static.url("highlight.css")); rec.Code != 200 || !strings.Contains(rec.Body.String(), ".chroma") {
		t.Errorf("highlighting stylesheet: %d", rec.Code)
	}
	page := do(t, s, "GET", "/").Body.String()
	if !strings.Contains(page, u) {
		t.Errorf("pages do not link the hashed stylesheet %s", u)
	}
}

// Feeds follow the visibility rule like every other listing.
func TestAtomFeeds(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	for _, path := range []string{"/feed.atom", "/c/luebeck/feed.atom", "/topics/mobilitaet/feed.atom"} {
		rec := do(t, s, "GET", path)
		var feed struct {
			Title   string `xml:"title"`
			Entries []struct {
				Title string `xml:"title"`
				Link  struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
				Summary  string `xml:"summary"`
				Author   string `xml:"author>name"`
				Category []struct {
					Term  string `xml:"term,attr"`
					Label string `xml:"label,attr"`
				} `xml:"category"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &feed); err != nil || rec.Code != 200 {
			t.Fatalf("GET %s: %d, %v", path, rec.Code, err)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/atom+xml") {
			t.Errorf("%s: Content-Type %q", path, rec.Header().Get("Content-Type"))
		}
		if len(feed.Entries) != 1 || feed.Entries[0].Title != "Quartiersbus in Lübeck" ||
			!strings.HasSuffix(feed.Entries[0].Link.Href, "/c/luebeck/quartiersbus-in-luebeck") {
			t.Errorf("%s lists %+v; want only the public article", path, feed.Entries)
			continue
		}
		// The first paragraph as summary, the author, and the topic and
		// city by name.
		e := feed.Entries[0]
		labels := map[string]string{}
		for _, c := range e.Category {
			labels[c.Term] = c.Label
		}
		if e.Summary != "Der Bus fährt." || e.Author == "" || labels["mobilitaet"] != "Mobilität" || !strings.Contains(labels["stadt:luebeck"], "Lübeck") {
			t.Errorf("%s: summary %q, author %q, categories %v", path, e.Summary, e.Author, labels)
		}
	}
	if rec := do(t, s, "GET", "/c/atlantis/feed.atom"); rec.Code != 404 {
		t.Errorf("feed of an unknown city: %d", rec.Code)
	}
}

func TestPlainTextOfRenderedHTML(t *testing.T) {
	got := plainText("<h2 id=\"a\">Über uns</h2>\n<p>Der <strong>Bus</strong> fährt\nstündlich.</p><ul><li>eins</li><li>zwei</li></ul><table><tr><th>Jahr</th><td>2024</td></tr></table>")
	want := "Über uns\nDer Bus fährt stündlich.\neins\nzwei\nJahr | 2024\n"
	if got != want {
		t.Fatalf("plainText = %q, want %q", got, want)
	}
}
