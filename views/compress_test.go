package views

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestAcceptedEncoding(t *testing.T) {
	for header, want := range map[string]string{
		"":                            "",
		"identity":                    "",
		"gzip":                        "gzip",
		"GZIP":                        "gzip",
		"x-gzip":                      "gzip",
		"br":                          "br",
		"gzip, deflate, br, zstd":     "br",
		"br;q=0, gzip":                "gzip",
		"br;q=0.5, gzip;q=0.8":        "gzip",
		"br;q=0.8, gzip;q=0.5":        "br",
		"gzip;q=0":                    "",
		"gzip; Q=0":                   "",
		"*":                           "br",
		"*;q=0":                       "",
		"gzip;q=0, br;q=0, *":         "",
		"br;q=0, *;q=0.1":             "gzip",
		"deflate, identity;q=0.5":     "",
		"gzip;q=nonsense, br;q=2":     "",
		" gzip ; q=1.0 , br ; q=0.9 ": "gzip",
	} {
		if got := acceptedEncoding(header); got != want {
			t.Errorf("Accept-Encoding %q: got %q, want %q", header, got, want)
		}
	}
}

func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "":
		return body
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	return out
}

func get(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func varies(rec *httptest.ResponseRecorder) bool {
	return strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept-Encoding")
}

// A cached page is compressed once, when it is stored: every later view in
// either encoding is the same stored bytes, and decodes to the page itself.
func TestCachedPageIsCompressedOnce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	path := "/c/luebeck/quartiersbus-in-luebeck"
	plain := get(t, s, "GET", path) // renders and stores the page
	if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("GET without Accept-Encoding = %d, Content-Encoding %q", plain.Code, plain.Header().Get("Content-Encoding"))
	}
	if plain.Body.Len() < minCompressSize {
		t.Fatalf("the article page has only %d bytes; the test needs a page worth compressing", plain.Body.Len())
	}
	stored, dynamic := s.compression.stored.Load(), s.compression.dynamic.Load()
	req := httptest.NewRequest("GET", path, nil)
	page, _ := s.cache.get(language(req) + " " + s.classOf(req) + " " + path) // the key cached uses
	if page == nil || page.gzip == nil || page.br == nil {
		t.Fatal("the stored page has no compressed variants")
	}
	etags := map[string]string{}
	for _, enc := range []string{"gzip", "br"} {
		var first []byte
		for range 3 {
			rec := get(t, s, "GET", path, "Accept-Encoding", enc)
			if rec.Code != 200 || rec.Header().Get("Content-Encoding") != enc || !varies(rec) {
				t.Fatalf("%s: %d, Content-Encoding %q, Vary %q", enc, rec.Code, rec.Header().Get("Content-Encoding"), rec.Header().Values("Vary"))
			}
			if first == nil {
				first = rec.Body.Bytes()
			} else if !bytes.Equal(first, rec.Body.Bytes()) {
				t.Fatalf("%s: two views of a cached page sent different bytes", enc)
			}
			if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
				t.Fatalf("%s: the page decodes to %d bytes that differ from the uncompressed %d", enc, len(got), plain.Body.Len())
			}
			etags[enc] = rec.Header().Get("ETag")
		}
		t.Logf("%s: %d bytes → %d", enc, plain.Body.Len(), len(first))
	}
	if got := s.compression.stored.Load(); got != stored {
		t.Errorf("serving the cached page compressed it again (%d more times)", got-stored)
	}
	if got := s.compression.dynamic.Load(); got != dynamic {
		t.Errorf("cached views went through per-request compression (%d times)", got-dynamic)
	}
	// Each representation has its own ETag, and a revalidation answers 304
	// for the one the client holds.
	identity := get(t, s, "GET", path).Header().Get("ETag")
	if identity == "" || etags["gzip"] == identity || etags["br"] == identity || etags["gzip"] == etags["br"] {
		t.Fatalf("ETags identity %q, gzip %q, br %q: want three different tags", identity, etags["gzip"], etags["br"])
	}
	if rec := get(t, s, "GET", path, "Accept-Encoding", "gzip", "If-None-Match", etags["gzip"]); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match with the gzip ETag = %d, want 304", rec.Code)
	}
	if rec := get(t, s, "GET", path, "Accept-Encoding", "gzip", "If-None-Match", "W/"+etags["gzip"]); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the weak gzip ETag (as a proxy sends it) = %d, want 304", rec.Code)
	}
	if rec := get(t, s, "GET", path, "If-None-Match", etags["gzip"]); rec.Code != 200 || rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("the gzip ETag from a client that no longer accepts gzip = %d %q, want the plain page", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	// A range is a range of the representation sent: the stored variant.
	rec := get(t, s, "GET", path, "Accept-Encoding", "gzip", "Range", "bytes=0-99")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), page.gzip[:100]) {
		t.Errorf("Range of the gzip page = %d with %d bytes, want 206 with the first 100 bytes of the variant", rec.Code, rec.Body.Len())
	}
	// br;q=0 and identity are respected.
	if rec := get(t, s, "GET", path, "Accept-Encoding", "br;q=0, gzip"); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0, gzip answered %q", rec.Header().Get("Content-Encoding"))
	}
	if rec := get(t, s, "GET", path, "Accept-Encoding", "identity"); rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), plain.Body.Bytes()) || !varies(rec) {
		t.Errorf("identity answered %q (Vary %q)", rec.Header().Get("Content-Encoding"), rec.Header().Values("Vary"))
	}
}

// Pages that are not cached are compressed as they are written, and decode
// to the same bytes as the uncompressed answer.
func TestDynamicAnswersAreCompressed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	for _, path := range []string{"/api/v1/openapi.json", "/login"} {
		plain := get(t, s, "GET", path)
		if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" || !varies(plain) {
			t.Fatalf("GET %s = %d, Content-Encoding %q, Vary %q", path, plain.Code, plain.Header().Get("Content-Encoding"), plain.Header().Values("Vary"))
		}
		for _, enc := range []string{"gzip", "br"} {
			rec := get(t, s, "GET", path, "Accept-Encoding", "gzip, br;q="+map[string]string{"gzip": "0.5", "br": "1"}[enc])
			if rec.Header().Get("Content-Encoding") != enc || !varies(rec) || rec.Header().Get("Content-Length") != "" {
				t.Fatalf("GET %s accepting %s: Content-Encoding %q, Vary %q, Content-Length %q", path, enc,
					rec.Header().Get("Content-Encoding"), rec.Header().Values("Vary"), rec.Header().Get("Content-Length"))
			}
			got := decode(t, enc, rec.Body.Bytes())
			// The login page carries a fresh CSRF token per session.
			if path == "/login" {
				if !bytes.Contains(got, []byte("</html>")) || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
					t.Errorf("%s in %s does not decode to a whole page", path, enc)
				}
				continue
			}
			if !bytes.Equal(got, plain.Body.Bytes()) {
				t.Errorf("%s in %s decodes to other bytes than the plain answer", path, enc)
			}
			if rec.Body.Len() >= plain.Body.Len()/2 {
				t.Errorf("%s in %s: %d bytes from %d", path, enc, rec.Body.Len(), plain.Body.Len())
			}
		}
	}
	// A signed-in reader's page (shared rendering, personal parts filled
	// in per request) is compressed as it is sent.
	account(t, s, "leserin")
	srv := httptest.NewServer(s)
	defer srv.Close()
	browser := signIn(t, srv.URL, "leserin")
	fetch := func(enc string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+"/c/luebeck/quartiersbus-in-luebeck", nil)
		req.Header.Set("Accept-Encoding", enc) // set by hand: the client leaves the body encoded
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	_, plainPage := fetch("identity")
	for _, enc := range []string{"gzip", "br"} {
		resp, b := fetch(enc)
		if resp.Header.Get("Content-Encoding") != enc || !bytes.Equal(decode(t, enc, b), plainPage) || !bytes.Contains(plainPage, []byte("leserin")) {
			t.Errorf("signed-in article accepting %s: Content-Encoding %q, decodes to the plain page: %v", enc,
				resp.Header.Get("Content-Encoding"), bytes.Equal(decode(t, enc, b), plainPage))
		}
	}

	// A handler that panics after writing a little: what it wrote is not
	// sent, the error page is.
	boom := s.observe(s.compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("half an answer"))
		panic("boom")
	})))
	if rec := get(t, boom, "GET", "/", "Accept-Encoding", "gzip"); rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "half an answer") {
		t.Errorf("after a panic: %d %q", rec.Code, rec.Body.String())
	}
	// Tiny answers are left alone.
	if rec := get(t, s, "GET", "/healthz", "Accept-Encoding", "gzip, br"); rec.Header().Get("Content-Encoding") != "" || varies(rec) || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz: Content-Encoding %q, Vary %q, body %q", rec.Header().Get("Content-Encoding"), rec.Header().Values("Vary"), rec.Body.String())
	}
}

// Static assets are compressed once at start-up; HEAD tells the size of
// the variant GET would send.
func TestStaticAssetsAreCompressedAtStartup(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	stored := s.compression.stored.Load()
	if stored == 0 {
		t.Fatal("no static asset was compressed at start-up")
	}
	url := s.static.url("app.css")
	want, _ := staticFS.ReadFile("static/app.css")
	for _, enc := range []string{"gzip", "br"} {
		rec := get(t, s, "GET", url, "Accept-Encoding", enc)
		if rec.Code != 200 || rec.Header().Get("Content-Encoding") != enc || !varies(rec) {
			t.Fatalf("GET app.css accepting %s: %d %q", enc, rec.Code, rec.Header().Get("Content-Encoding"))
		}
		if !bytes.Equal(decode(t, enc, rec.Body.Bytes()), want) {
			t.Errorf("app.css in %s decodes to other bytes", enc)
		}
		head := get(t, s, "HEAD", url, "Accept-Encoding", enc)
		if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Encoding") != enc ||
			head.Header().Get("Content-Length") != rec.Header().Get("Content-Length") {
			t.Errorf("HEAD app.css accepting %s: %d, %d body bytes, Content-Encoding %q, Content-Length %q (GET: %q)", enc, head.Code,
				head.Body.Len(), head.Header().Get("Content-Encoding"), head.Header().Get("Content-Length"), rec.Header().Get("Content-Length"))
		}
		t.Logf("app.css %s: %d → %d bytes", enc, len(want), rec.Body.Len())
	}
	if rec := get(t, s, "GET", url); rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("app.css without Accept-Encoding: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	if s.compression.stored.Load() != stored || s.compression.dynamic.Load() != 0 {
		t.Errorf("serving static assets compressed again (stored %d→%d, per request %d)", stored, s.compression.stored.Load(), s.compression.dynamic.Load())
	}
}

// The middleware never compresses what is compressed already, partial
// answers, or answers without a declared type.
func TestCompressionSkipsWhatItMust(t *testing.T) {
	s := &Server{compression: newCompression()}
	big := bytes.Repeat([]byte("Hansewiki "), 500)
	for name, h := range map[string]http.HandlerFunc{
		"png": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Write(big)
		},
		"no type": func(w http.ResponseWriter, r *http.Request) { w.Write(big) },
		"encoded": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(big)
		},
		"partial": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Range", "bytes 0-4999/10000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(big)
		},
	} {
		rec := get(t, s.compress(h), "GET", "/", "Accept-Encoding", "gzip, br")
		if rec.Header().Get("Content-Encoding") == "br" || (name != "encoded" && rec.Header().Get("Content-Encoding") != "") ||
			!bytes.Equal(rec.Body.Bytes(), big) || varies(rec) {
			t.Errorf("%s: Content-Encoding %q, Vary %q, body changed: %v", name, rec.Header().Get("Content-Encoding"),
				rec.Header().Values("Vary"), !bytes.Equal(rec.Body.Bytes(), big))
		}
	}
	// Written in small pieces, a big answer is still compressed whole.
	h := s.compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for i := 0; i < len(big); i += 7 {
			w.Write(big[i:min(i+7, len(big))])
		}
	}))
	rec := get(t, h, "GET", "/", "Accept-Encoding", "gzip")
	if rec.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(decode(t, "gzip", rec.Body.Bytes()), big) {
		t.Errorf("an answer written in pieces: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
}

// The per-request cost of compressing a dynamic answer of about 38 KB (the
// style sheet stands in for a page): go test ./views -run '^$' -bench DynamicCompression
func BenchmarkDynamicCompression(b *testing.B) {
	s := &Server{compression: newCompression()}
	body, _ := staticFS.ReadFile("static/app.css")
	h := s.compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	}))
	for _, enc := range []string{"identity", "gzip", "br"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", enc)
			var n int
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				n = rec.Body.Len()
			}
			b.ReportMetric(float64(n), "bytes/op")
		})
	}
}
