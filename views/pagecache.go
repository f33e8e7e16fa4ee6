package views

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// pageCache keeps rendered pages for readers who see the same thing: the
// same language, URL and roles (anonymous visitors, or members with the same
// grants; see classOf). A popular article costs no database round trip and
// no template run; a signed-in reader's name, token and unread count are
// filled in per request (personal.go). Every publication on any instance
// flushes it (see wiki.Listener, wired in cmd); a generation counter stops a
// render that began before a flush from storing its now-stale page
// afterwards.
type pageCache struct {
	mu       sync.Mutex
	gen      uint64
	entries  map[string]*list.Element
	lru      *list.List
	size     int
	maxBytes int
}

type cachedPage struct {
	key string
	// route names the route that rendered the page, for metrics and logs
	// when fromCache answers before routing.
	route string
	// body is the page as rendered, with markers where personal parts go;
	// segs is body cut at them, nil when it has none.
	body        []byte
	segs        []segment
	etag        string
	contentType string
	// gzip and br are body compressed once when stored (compress.go).
	gzip, br []byte
}

// size is what the page takes in the cache, variants included.
func (p *cachedPage) size() int { return len(p.body) + len(p.gzip) + len(p.br) }

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{entries: map[string]*list.Element{}, lru: list.New(), maxBytes: maxBytes}
}

// get returns the cached page for key and the current generation.
func (c *pageCache) get(key string) (*cachedPage, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedPage), c.gen
	}
	return nil, c.gen
}

// put stores a page rendered during generation gen, unless a flush came in
// since.
func (c *pageCache) put(gen uint64, p *cachedPage) {
	if p.size() > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.entries[p.key]; ok {
		c.size -= old.Value.(*cachedPage).size()
		c.lru.Remove(old)
	}
	c.entries[p.key] = c.lru.PushFront(p)
	c.size += p.size()
	for c.size > c.maxBytes {
		last := c.lru.Back()
		old := last.Value.(*cachedPage)
		c.lru.Remove(last)
		delete(c.entries, old.key)
		c.size -= old.size()
	}
}

// flush drops every page.
func (c *pageCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = map[string]*list.Element{}
	c.lru.Init()
	c.size = 0
}

// recorder captures a response so it can be cached after it was sent.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// sharedRender collects the rendering of a page that will be shared, with
// its markers (render fills it).
type sharedRender struct {
	body []byte
	segs []segment
}

type sharedKey struct{}

// sharedOf is set while a page is rendered for the cache: the page must
// not carry anything of the one reader it is rendered for (execute).
func sharedOf(ctx context.Context) *sharedRender {
	sh, _ := ctx.Value(sharedKey{}).(*sharedRender)
	return sh
}

// pageKey is the cache key of a GET: language, role set and URL.
func (s *Server) pageKey(r *http.Request) string {
	return language(r) + " " + s.classOf(r) + " " + r.URL.RequestURI()
}

// fromCache answers a GET whose page is cached before the router runs:
// matching the route table's patterns one by one cost more than serving
// the page. Only page routes store pages (cached), and they all are open
// to everyone, each reader's key holding what they may see, so a page
// found here is exactly what its route would answer.
func (s *Server) fromCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if page, _ := s.cache.get(s.pageKey(r)); page != nil {
				if l, ok := r.Context().Value(routeLabelKey{}).(*routeLabel); ok {
					l.name = page.route
				}
				s.metrics.cacheHits.Add(1)
				s.serveCached(w, r, page)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// cached serves a page from the cache when the request allows it.
func (s *Server) cached(route string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next(w, r)
			return
		}
		key := s.pageKey(r)
		page, gen := s.cache.get(key)
		if page != nil {
			s.metrics.cacheHits.Add(1)
			s.serveCached(w, r, page)
			return
		}
		s.metrics.cacheMisses.Add(1)
		sh := &sharedRender{}
		rec := &recorder{ResponseWriter: w}
		next(rec, r.WithContext(context.WithValue(r.Context(), sharedKey{}, sh)))
		if rec.status != http.StatusOK {
			return
		}
		p := &cachedPage{key: key, route: route, body: sh.body, contentType: rec.Header().Get("Content-Type")}
		if p.body == nil { // not a template page (a feed): as sent
			p.body = bytes.Clone(rec.buf.Bytes())
		} else if segs := sh.segs; personal(segs) {
			p.segs = segs
		}
		sum := sha256.Sum256(p.body)
		p.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if p.segs == nil { // the same bytes for everyone: compressed once
			p.gzip, p.br = s.compression.encodeStored(p.body, p.contentType)
		}
		s.cache.put(gen, p)
	}
}

// serveCached answers with a cached page: as it is, with its ETag, when it
// has no personal parts; filled in for this reader otherwise.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, page *cachedPage) {
	h := w.Header()
	if page.segs != nil {
		h.Set("Content-Type", page.contentType)
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer bufPool.Put(buf)
		s.fill(buf, r, page.segs)
		w.Write(buf.Bytes())
		return
	}
	h.Set("Content-Type", page.contentType)
	serveEncoded(w, r, page.body, page.gzip, page.br, page.etag)
}

// classOf names the readers who see the same page: everything a page
// shows besides its personal parts follows from the reader's roles (what
// they may read, edit, review, administer).
func (s *Server) classOf(r *http.Request) string {
	id := auth.FromContext(r.Context())
	if id == nil {
		return "anon"
	}
	var b strings.Builder
	b.WriteString("roles")
	for _, g := range id.Grants {
		b.WriteString(" " + g.Role + "@" + g.City)
	}
	return b.String()
}

// Invalidate is called for every publication on any instance, and with
// wiki.AnyChange after the listener reconnected: pages, topic names and
// unread counts (a notification about an article that narrowed no longer
// counts) may all have changed.
func (s *Server) Invalidate(key string) {
	s.cache.flush()
	s.refreshTopics()
	s.workflow.PersonalChanged(wiki.AnyChange)
	s.workflow.FreshnessChanged()
}
