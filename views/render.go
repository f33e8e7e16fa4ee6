package views

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

//go:embed templates
var templateFS embed.FS

// Page is the part of every page model that the layout uses.
type Page struct {
	Lang  string
	Title string
	// Path is the request path, for the language switch and skip links.
	Path string
	// Nav names the active navigation entry.
	Nav string
	// Description is the page's meta description (the site's when empty).
	Description string
	// Canonical is the absolute URL of the page when a base URL is configured.
	Canonical string
	// Query is the current search text, shown in the header's search box.
	Query string
	// User is the signed-in user, nil for anonymous visitors. On a page
	// shared by everyone with the same roles (cached) it has their roles
	// but no name: personal parts are filled in per request (personal.go).
	User *auth.Identity
	// CSRF is the token every form carries: a marker filled per request.
	CSRF string
	// AdminCities are the cities whose administration the user may open.
	AdminCities []string
	// NetworkAdmin may open the network administration.
	NetworkAdmin bool
	// Reviewer reviews changes in some city ("Zu prüfen" in the header).
	Reviewer bool
}

func (p *Page) page() *Page { return p }

// pageModel is implemented by every page model through its embedded Page.
type pageModel interface{ page() *Page }

// templates holds one parsed template set per page and language, all parsed
// at start-up so a broken template fails the boot, not a request.
type templates struct {
	byLang map[string]map[string]*template.Template
	// base has the layout and partials, for the personal parts.
	base map[string]*template.Template
}

func (s *Server) parseTemplates() (*templates, error) {
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{byLang: map[string]map[string]*template.Template{}, base: map[string]*template.Template{}}
	for _, lang := range languages {
		base, err := template.New("").Funcs(s.funcs(lang)).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
		if err != nil {
			return nil, err
		}
		t.byLang[lang] = map[string]*template.Template{}
		if t.base[lang], err = base.Clone(); err != nil {
			return nil, err
		}
		for _, p := range pages {
			clone, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := clone.ParseFS(templateFS, p); err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(path.Base(p), ".html")
			t.byLang[lang][name] = clone
		}
	}
	return t, nil
}

func (s *Server) funcs(lang string) template.FuncMap {
	c := s.catalogs[lang]
	return template.FuncMap{
		"t":         c.T,
		"date":      c.Date,
		"datetime":  c.DateTime,
		"url":       s.url,
		"personal":  s.marks.mark,
		"asset":     s.static.url,
		"topicName": func(slug string) string { return s.topicName(lang, slug) },
		"cityName":  s.cityName,
		"tagLabel":  s.tagLabel,
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
		"add":         func(a, b int) int { return a + b },
		"has":         func(list []string, s string) bool { return slices.Contains(list, s) },
		"str":         func(id int64) string { return strconv.FormatInt(id, 10) },
		"commentItem": func(m *articleModel, c *workflow.ArticleComment) commentItem { return commentItem{M: m, C: c} },
		"age": func(t time.Time) string {
			d := time.Since(t)
			switch {
			case d < time.Hour:
				return c.T("age.minutes", int(d.Minutes()))
			case d < 48*time.Hour:
				return c.T("age.hours", int(d.Hours()))
			}
			return c.T("age.days", int(d.Hours()/24))
		},
		// span says how long something took or has waited.
		"span": func(d time.Duration) string {
			switch {
			case d < time.Hour:
				return c.T("span.minutes", int(d.Minutes()))
			case d < 48*time.Hour:
				return c.T("span.hours", int(d.Hours()))
			}
			return c.T("span.days", int(d.Hours()/24))
		},
		"list": func(s ...string) []string { return s },
		// paragraphs splits plain text at blank lines (a city's description).
		"paragraphs": func(s string) []string {
			var out []string
			for _, p := range strings.Split(s, "\n\n") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		},
		// word translates key, or shows fallback where the catalog has no
		// words for it (an audit action added later).
		"word": func(key, fallback string) string {
			if v, ok := c[key]; ok {
				return v
			}
			return fallback
		},
		"membersData": func(m []auth.Member, revokeURL, csrf string) membersData {
			return membersData{Members: m, RevokeURL: revokeURL, CSRF: csrf}
		},
		// tn picks the singular form (key.one) for a count of one.
		"tn": func(key string, n int) string {
			if _, ok := c[key+".one"]; ok && n == 1 {
				return c.T(key + ".one")
			}
			return c.T(key, n)
		},
	}
}

// url builds the path of a named route; a wrong name or missing variable is
// a template bug that the start-up parse cannot see, so it is logged loudly
// and yields a harmless link.
func (s *Server) url(name string, pairs ...string) string {
	r := s.router.Get(name)
	if r == nil {
		s.log.Error("template links to unknown route", "route", name)
		return "/"
	}
	u, err := r.URLPath(pairs...)
	if err != nil {
		s.log.Error("cannot build route URL", "route", name, "err", err)
		return "/"
	}
	return u.Path
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer first, so a failing template never
// sends half a page, and fills in the reader's personal parts.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageModel) {
	if status == http.StatusOK {
		data.page().Canonical = s.absolute(r.URL.Path)
	}
	body, err := s.execute(r, name, data)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	segs := s.marks.split(body)
	if sh := sharedOf(r.Context()); sh != nil && status == http.StatusOK {
		sh.body, sh.segs = body, segs
	}
	s.writePage(w, r, status, segs)
}

// writePage sends a rendered page with the reader's personal parts.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, segs []segment) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	s.fill(buf, r, segs)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// execute fills the layout's part of the model and runs the page's
// template. The result has markers where personal parts go (personal.go).
func (s *Server) execute(r *http.Request, name string, data pageModel) ([]byte, error) {
	p := data.page()
	p.Lang = language(r)
	p.Path = r.URL.Path
	p.CSRF = string(s.marks.mark(markCSRF))
	if id := auth.FromContext(r.Context()); id != nil {
		p.User = id
		if sharedOf(r.Context()) != nil {
			// Shared with everyone who has the same roles: no name.
			p.User = &auth.Identity{Username: string(s.marks.mark(markName)), DisplayName: string(s.marks.mark(markName)), Grants: id.Grants}
		}
		p.NetworkAdmin = s.auth.Can(id, auth.ManageNetwork, "")
		for _, g := range id.Grants {
			if g.City != auth.AllCities && s.auth.Can(id, auth.ManageCity, g.City) && !slices.Contains(p.AdminCities, g.City) {
				p.AdminCities = append(p.AdminCities, g.City)
			}
		}
		p.Reviewer = len(s.auth.CitiesWhere(id, auth.ReviewChange)) > 0
	}
	tmpl := s.tmpl.byLang[p.Lang][name]
	if tmpl == nil {
		return nil, fmt.Errorf("no template %q", name)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := tmpl.ExecuteTemplate(buf, "layout", data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// errorPage is the model of the error page.
type errorPage struct {
	Page
	Status  int
	Message string
	// RequestID lets people quote an internal error to the operators.
	RequestID string
	// Next is where signing in leads back to (401 and 403 pages).
	Next string
}

// htmlError shows the error page for err, in the normal layout, with the
// status the error table gives and the translated reason.
func (s *Server) htmlError(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := statusOf(err)
	if status == http.StatusInternalServerError {
		s.serverError(w, r, err)
		return
	}
	s.errorPage(w, r, status, err)
}

// serverError logs err with the request and answers 500 without details:
// the error page for people, the error JSON for API clients.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		s.apiError(w, r, errInternal{err})
		return
	}
	s.log.Error("request failed", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
	s.errorPage(w, r, http.StatusInternalServerError, err)
}

// errInternal keeps an error from matching the error table, so it is
// answered as the internal error it is.
type errInternal struct{ err error }

func (e errInternal) Error() string { return e.err.Error() }

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, err error) {
	c := s.catalogs[language(r)]
	p := &errorPage{Status: status, Message: c.errorText(err), RequestID: requestID(r.Context())}
	if status == http.StatusInternalServerError {
		p.Message = c.T("error.500")
	}
	p.Title = c.T(fmt.Sprintf("error.%d.title", status))
	if r.Method == http.MethodGet {
		p.Next = r.URL.RequestURI()
	}
	body, execErr := s.execute(r, "error", p)
	if execErr != nil {
		s.log.Error("error page failed", "err", execErr, "request_id", requestID(r.Context()))
		body = s.plainErrorPage(r, status)
	}
	s.writePage(w, r, status, s.marks.split(body))
}

// plainErrorPage is the error page without templates, for when the error
// page itself cannot be rendered (or a request panicked): still a page with
// a language, a title and a way back.
func (s *Server) plainErrorPage(r *http.Request, status int) []byte {
	lang := language(r)
	c := s.catalogs[lang]
	e := html.EscapeString
	msg := c.T(fmt.Sprintf("error.%d", status))
	if _, ok := c[fmt.Sprintf("error.%d", status)]; !ok {
		status, msg = http.StatusInternalServerError, c.T("error.500")
	}
	title := c.T(fmt.Sprintf("error.%d.title", status))
	return []byte(`<!doctype html><html lang="` + e(lang) + `"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>` + e(title) + ` – Hansewiki</title>` +
		`<link rel="stylesheet" href="` + e(s.static.url("app.css")) + `"></head><body><main id="inhalt" class="wrap"><div class="error-page">` +
		`<p class="error-code">` + e(c.T("error.code", status)) + `</p><h1>` + e(title) + `</h1><p class="lead">` + e(msg) + `</p>` +
		`<p>` + e(c.T("error.request", requestID(r.Context()))) + `</p>` +
		`<ul class="error-links"><li><a href="/">` + e(c.T("error.home")) + `</a></li></ul></div></main></body></html>`)
}

// topicNames caches the topic list for template lookups; refreshed with the
// page cache because topics change rarely (admin edits publish a flush).
func (s *Server) topicNames() map[string]wiki.Topic {
	s.topicsMu.RLock()
	m := s.topics
	s.topicsMu.RUnlock()
	return m
}

// cityName is a city's name for its slug (the slug itself for a city the
// cache does not know yet).
func (s *Server) cityName(slug string) string {
	s.topicsMu.RLock()
	defer s.topicsMu.RUnlock()
	if n, ok := s.cities[slug]; ok {
		return n
	}
	return slug
}

// topicName is a topic's name in lang for its slug.
func (s *Server) topicName(lang, slug string) string {
	if t, ok := s.topicNames()[slug]; ok {
		return t.Name(lang)
	}
	return slug
}

// topicNamer names topics in lang.
func (s *Server) topicNamer(lang string) func(string) string {
	return func(slug string) string { return s.topicName(lang, slug) }
}

// membersData feeds the members-table partial.
type membersData struct {
	Members   []auth.Member
	RevokeURL string
	CSRF      string
}
