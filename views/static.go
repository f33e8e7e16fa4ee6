package views

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"hansewiki/wiki/markdown"
)

//go:embed static
var staticFS embed.FS

// staticFiles serves embedded assets under content-hashed URLs
// (/static/{hash}/{name}) with year-long cache lifetimes: a changed file gets
// a new URL, so no cache ever serves a stale one.
type staticFiles struct {
	files map[string]asset // by name
	// notFound answers an unknown asset with the site's error page.
	notFound    http.HandlerFunc
	compression *compression
}

type asset struct {
	hash        string
	body        []byte
	contentType string
	// gzip and br are the body compressed once at start-up (nil for
	// types that are compressed already, or tiny files).
	gzip, br []byte
}

func loadStatic(c *compression) (*staticFiles, error) {
	s := &staticFiles{files: map[string]asset{}, compression: c}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		s.add(strings.TrimPrefix(p, "static/"), body)
		return nil
	})
	// The highlighting theme comes from the Markdown pipeline.
	s.add("highlight.css", markdown.CSS())
	return s, err
}

func (s *staticFiles) add(name string, body []byte) {
	sum := sha256.Sum256(body)
	a := asset{hash: hex.EncodeToString(sum[:6]), body: body, contentType: contentType(name)}
	a.gzip, a.br = s.compression.encodeStored(body, a.contentType)
	s.files[name] = a
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	return "application/octet-stream"
}

// url returns the hashed URL of a named asset.
func (s *staticFiles) url(name string) string {
	a, ok := s.files[name]
	if !ok {
		return "/static/missing/" + name
	}
	return "/static/" + a.hash + "/" + name
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, name, ok := strings.Cut(rest, "/")
	a, found := s.files[name]
	if !ok || !found {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if hash == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// An old hash still gets the current file, briefly cached.
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	serveEncoded(w, r, a.body, a.gzip, a.br, `"`+a.hash+`"`)
}
