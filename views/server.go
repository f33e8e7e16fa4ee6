package views

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/search"
	"hansewiki/workflow"
)

// Options configure the HTTP surface.
type Options struct {
	Store    *wiki.Store
	Auth     *auth.Service
	Sessions *auth.Sessions
	Workflow *workflow.Service
	Search   search.Searcher
	Log      *slog.Logger
	// BaseURL starts every absolute URL (feeds, canonical links); cmd sets
	// it from HANSEWIKI_BASE_URL or the listen address. Empty: http://localhost.
	BaseURL string
	// Ready reports whether the database answers and the instance follows
	// other instances' changes, for /readyz.
	Ready func(context.Context) error
	// AccessLog logs every request at info level.
	AccessLog bool
	// PageCacheBytes bounds the rendered-page cache (default 64 MiB).
	PageCacheBytes int
	// License names the licence of the open data (HANSEWIKI_LICENSE): a
	// name from DCAT-AP.de's licence list or a URI; dl-de/by-2-0 when empty.
	License string
	// OpenDataContributor is the catalogue's dcatde:contributorID
	// (HANSEWIKI_OPENDATA_CONTRIBUTOR), the ID GovData gives a data
	// provider; the catalogue's own address until one is set.
	OpenDataContributor string
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (clientAddr); empty: the peer address is the client's.
	TrustedProxies []netip.Prefix
	// Barrier, when set, holds the answer of every request that may have
	// written until every instance heard its changes (wiki.Barrier).
	Barrier *wiki.Barrier
	// MaxUpload bounds one uploaded file (HANSEWIKI_MAX_UPLOAD; default
	// DefaultMaxUpload).
	MaxUpload int64
	// OIDC, when set, offers sign-in with the identity provider.
	OIDC *auth.OIDC
}

// Server is the HTTP handler of Hansewiki.
type Server struct {
	opts     Options
	log      *slog.Logger
	baseURL  string // without a trailing slash
	store    *wiki.Store
	auth     *auth.Service
	sessions *auth.Sessions
	workflow *workflow.Service
	search   search.Searcher
	router   *mux.Router
	// crossOrigin refuses cross-site browser requests that change state.
	crossOrigin *http.CrossOriginProtection
	handler     http.Handler
	catalogs    map[string]catalog
	tmpl        *templates
	static      *staticFiles
	cache       *pageCache
	marks       personalMarks
	// personalParts holds rendered personal parts by language and value.
	personalParts sync.Map
	metrics       *metrics
	compression   *compression

	topicsMu sync.RWMutex
	topics   map[string]wiki.Topic
	// cities maps a city's slug to its name, for the places a page has
	// only the slug (search hits, similar experiences).
	cities map[string]string
}

// New builds the route table and parses every template.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil || opts.Sessions == nil || opts.Workflow == nil || opts.Search == nil {
		return nil, errors.New("views: store, auth, sessions, workflow and search are required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.PageCacheBytes == 0 {
		opts.PageCacheBytes = 64 << 20
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = DefaultMaxUpload
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://localhost"
	}
	s := &Server{opts: opts, log: opts.Log, baseURL: strings.TrimSuffix(opts.BaseURL, "/"), store: opts.Store, auth: opts.Auth, sessions: opts.Sessions, workflow: opts.Workflow, search: opts.Search,
		metrics: newMetrics(opts.MetricsToken, opts.Workflow, opts.Log), cache: newPageCache(opts.PageCacheBytes), marks: newPersonalMarks(), crossOrigin: http.NewCrossOriginProtection(),
		compression: newCompression()}
	var err error
	if s.catalogs, err = loadCatalogs(); err != nil {
		return nil, err
	}
	if s.static, err = loadStatic(s.compression); err != nil {
		return nil, err
	}
	s.router = mux.NewRouter()
	// Paths are cleaned by checkInput, which redirects pages and refuses
	// unclean API paths; mux's own cleaning would redirect the API too.
	s.router.SkipClean(true)
	for _, rt := range s.routes() {
		h := s.authorize(rt)
		if rt.page {
			h = s.cached(rt.name, h)
		}
		s.router.Handle(rt.path, named(rt.name, h)).Methods(rt.method).Name(rt.name)
	}
	s.static.notFound = s.notFound
	// A session store failure is an internal error like any other.
	s.sessions.ErrorFunc = s.serverError
	s.router.PathPrefix("/static/").Handler(named("static", s.static)).Methods(http.MethodGet, http.MethodHead).Name("static")
	s.router.NotFoundHandler = http.HandlerFunc(s.notFound)
	s.router.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)
	if s.tmpl, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.handler = s.observe(s.compress(s.fenced(s.sessions.LoadAndSave(s.identify(s.checkInput(s.fromCache(s.router)))))))
	s.refreshTopics()
	return s, nil
}

// Follow subscribes every cache the server reads from (pages, sessions,
// accounts, personal parts, open changes, the policy) to l, the process's
// listener, so each drops what other instances' writes made stale; and
// acks fences for the Barrier. Notifications are handled in commit order,
// so a fence's ack means everything committed before it was dropped.
func (s *Server) Follow(l *wiki.Listener) {
	l.Subscribe(wiki.PublishedChannel, func(_ context.Context, key string) error {
		s.Invalidate(key)
		return nil
	})
	l.Subscribe(auth.PolicyChannel, func(context.Context, string) error {
		if err := s.auth.ReloadPolicy(); err != nil {
			return err
		}
		s.Invalidate(wiki.AnyChange) // pages show what roles allow
		return nil
	})
	l.Subscribe(auth.AccountChannel, func(_ context.Context, payload string) error {
		s.auth.AccountChanged(payload)
		s.workflow.PersonalChanged(payload)
		s.workflow.ArticleChangesChanged(wiki.AnyChange) // they show authors' names
		return nil
	})
	l.Subscribe(auth.SessionChannel, func(_ context.Context, payload string) error {
		s.sessions.SessionChanged(payload)
		return nil
	})
	l.Subscribe(workflow.PersonalChannel, func(_ context.Context, payload string) error {
		s.workflow.PersonalChanged(payload)
		return nil
	})
	l.Subscribe(workflow.ArticleChangesChannel, func(_ context.Context, payload string) error {
		s.workflow.ArticleChangesChanged(payload)
		return nil
	})
	if s.opts.Barrier != nil {
		l.Subscribe(wiki.FenceChannel, s.opts.Barrier.Ack)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Metrics lets other components publish gauges on /metrics.
func (s *Server) Metrics() interface{ Gauge(string, func() float64) } { return s.metrics }

func (s *Server) refreshTopics() {
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	topics, err := s.store.Topics(ctx)
	if err != nil {
		s.log.Warn("loading topics", "err", err)
		return
	}
	m := make(map[string]wiki.Topic, len(topics))
	for _, t := range topics {
		m[t.Slug] = t
	}
	cities, err := s.store.Cities(ctx)
	if err != nil {
		s.log.Warn("loading cities", "err", err)
		return
	}
	cm := make(map[string]string, len(cities))
	for _, c := range cities {
		cm[c.Slug] = c.Name
	}
	s.topicsMu.Lock()
	s.topics, s.cities = m, cm
	s.topicsMu.Unlock()
}

func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= 8 && r.URL.Path[:8] == "/api/v1/"
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	err := wiki.ErrNotFound
	if isAPI(r) {
		s.apiError(w, r, err)
		return
	}
	s.htmlError(w, r, err)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, errMethodNotAllowed, "")
}

type apiErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// State is the change's current state when a transition was refused.
	State string `json:"state,omitempty"`
	// Revision is the change's current revision when a decision named
	// another one.
	Revision int64 `json:"revision,omitempty"`
}

type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

// apiError answers with the spec's error format; internal errors are logged
// and not described to the client.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	d := apiErrorDetail{Code: code, Message: err.Error()}
	var inv *wiki.InvalidError
	var ainv *auth.InvalidError
	switch {
	case errors.As(err, &inv):
		d.Field, d.Message = inv.Field, inv.Message
	case errors.As(err, &ainv):
		d.Field, d.Message = ainv.Field, ainv.Message
	}
	var se *workflow.StateError
	if errors.As(err, &se) {
		d.State = string(se.State)
	}
	var re *workflow.RevisionError
	if errors.As(err, &re) {
		d.Revision = re.Current
	}
	if status == http.StatusInternalServerError {
		s.log.Error("api request failed", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
		d.Message = "internal error (request " + requestID(r.Context()) + ")"
	}
	writeJSON(w, status, apiErrorBody{Error: d})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// privateNoStore is the Cache-Control of everything that is not public:
// no shared cache, no back-forward cache keeps it. identify sets it for
// every signed-in request, observe's writer for every non-GET and every
// answer that sets a cookie.
const privateNoStore = "private, no-store"
