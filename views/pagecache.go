package views

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
)

// pageCache keeps fully rendered pages for readers who see the same thing
// (anonymous visitors), so a popular article costs no database round trip
// and no template run. Every publication on any instance flushes it (see
// wiki.Listener, wired in cmd); a generation counter stops a render that began
// before a flush from storing its now-stale page afterwards.
type pageCache struct {
	mu       sync.Mutex
	gen      uint64
	entries  map[string]*list.Element
	lru      *list.List
	size     int
	maxBytes int
}

type cachedPage struct {
	key         string
	body        []byte
	etag        string
	contentType string
}

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
	if len(p.body) > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.entries[p.key]; ok {
		c.size -= len(old.Value.(*cachedPage).body)
		c.lru.Remove(old)
	}
	c.entries[p.key] = c.lru.PushFront(p)
	c.size += len(p.body)
	for c.size > c.maxBytes {
		last := c.lru.Back()
		old := last.Value.(*cachedPage)
		c.lru.Remove(last)
		delete(c.entries, old.key)
		c.size -= len(old.body)
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

// cached serves a page from the cache when the request allows it.
func (s *Server) cached(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !s.cacheable(r) {
			next(w, r)
			return
		}
		key := language(r) + " " + r.URL.RequestURI()
		page, gen := s.cache.get(key)
		if page != nil {
			s.metrics.cacheHits.Add(1)
			h := w.Header()
			h.Set("Content-Type", page.contentType)
			h.Set("ETag", page.etag)
			if r.Header.Get("If-None-Match") == page.etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Write(page.body)
			return
		}
		s.metrics.cacheMisses.Add(1)
		rec := &recorder{ResponseWriter: w}
		next(rec, r)
		if rec.status == http.StatusOK {
			body := bytes.Clone(rec.buf.Bytes())
			sum := sha256.Sum256(body)
			s.cache.put(gen, &cachedPage{key: key, body: body, contentType: rec.Header().Get("Content-Type"),
				etag: `"` + hex.EncodeToString(sum[:8]) + `"`})
		}
	}
}

// cacheable: only readers without an identity share pages; a signed-in
// member's pages carry their name and their cities' articles.
func (s *Server) cacheable(r *http.Request) bool {
	return s.readerOf(r).Key() == "anon" && r.Header.Get("Authorization") == ""
}

// Invalidate is called for every publication on any instance, and with
// wiki.AnyChange after the listener reconnected.
func (s *Server) Invalidate(key string) {
	s.cache.flush()
	s.refreshTopics()
}
