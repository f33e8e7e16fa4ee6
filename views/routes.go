package views

import (
	"net/http"

	"hansewiki/wiki"
)

// Actions a route can require; the enforcer decides, per city where the
// route has one.
const (
	actPublic = "public" // operational endpoints, static files
	actRead   = "read"   // reading: every object is checked against the reader's visibility
)

// route is one entry of the route table: every route names the action it
// needs, so permissions are declared here and decided in one place.
type route struct {
	name   string
	method string
	path   string
	action string
	page   bool // an HTML page that may come from the page cache
	h      http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"healthz", "GET", "/healthz", actPublic, false, s.healthz},
		{"readyz", "GET", "/readyz", actPublic, false, s.readyz},
		{"metrics", "GET", "/metrics", actPublic, false, s.metrics.ServeHTTP},

		{"home", "GET", "/", actRead, true, s.homePage},
		{"cities", "GET", "/c", actRead, true, s.citiesPage},
		{"city", "GET", "/c/{city}", actRead, true, s.cityPage},
		{"article", "GET", "/c/{city}/{slug}", actRead, true, s.articlePage},
		{"history", "GET", "/c/{city}/{slug}/history", actRead, true, s.historyPage},
		{"revision", "GET", "/c/{city}/{slug}/revisions/{id:[0-9]+}", actRead, true, s.revisionPage},
		{"diff", "GET", "/c/{city}/{slug}/diff", actRead, true, s.diffPage},
		{"topics", "GET", "/topics", actRead, true, s.topicsPage},
		{"topic", "GET", "/topics/{topic}", actRead, true, s.topicPage},

		{"api.openapi", "GET", "/api/v1/openapi.json", actPublic, false, s.apiOpenAPI},
		{"api.cities", "GET", "/api/v1/cities", actRead, false, s.apiCities},
		{"api.topics", "GET", "/api/v1/topics", actRead, false, s.apiTopics},
		{"api.articles", "GET", "/api/v1/articles", actRead, false, s.apiArticles},
		{"api.article", "GET", "/api/v1/articles/{city}/{slug}", actRead, false, s.apiArticle},
		{"api.revisions", "GET", "/api/v1/articles/{city}/{slug}/revisions", actRead, false, s.apiRevisions},
		{"api.revision", "GET", "/api/v1/articles/{city}/{slug}/revisions/{id:[0-9]+}", actRead, false, s.apiRevision},
	}
}

// authorize is the one place that decides whether a request may perform a
// route's action. Reading is open to everyone at the route level; which
// articles a reader sees is decided per object by the reader's visibility.
func (s *Server) authorize(rt route) http.HandlerFunc {
	switch rt.action {
	case actPublic, actRead:
		return rt.h
	}
	// A route with an unknown action is refused rather than left open.
	return func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r) {
			s.apiError(w, r, wiki.ErrForbidden)
			return
		}
		s.htmlError(w, r, wiki.ErrForbidden)
	}
}

// readerOf is what the request's identity may read. Without accounts yet,
// every request is an anonymous visitor.
func (s *Server) readerOf(r *http.Request) wiki.Reader {
	return wiki.Reader{}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unreachable\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}
