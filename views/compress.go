package views

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// Answers are compressed with brotli or gzip when the client's
// Accept-Encoding allows it. Dynamic answers are compressed as they are
// written (compress, below); answers that are kept — cached pages and
// static assets — are compressed once when stored, and served from their
// stored variants (serveEncoded).

// minCompressSize: smaller bodies gain less than the encoding costs.
const minCompressSize = 1024

// Compression levels: fast for answers compressed per request, thorough
// for bodies compressed once and served many times.
const (
	dynamicGzipLevel   = gzip.DefaultCompression
	dynamicBrotliLevel = 5
	storedGzipLevel    = gzip.BestCompression
	storedBrotliLevel  = 6
)

// compression holds the encoders reused across answers and counts the
// work done, so tests can see that a cached page is compressed once.
type compression struct {
	// by encoding: dynamic (per request) and stored levels.
	dynamicWriters, storedWriters map[string]*sync.Pool
	// dynamic counts answers compressed while they were written, stored
	// the bodies compressed for keeping.
	dynamic, stored atomic.Int64
}

func newCompression() *compression {
	pools := func(gzipLevel, brotliLevel int) map[string]*sync.Pool {
		return map[string]*sync.Pool{
			"gzip": {New: func() any {
				zw, _ := gzip.NewWriterLevel(io.Discard, gzipLevel)
				return zw
			}},
			"br": {New: func() any { return brotli.NewWriterLevel(io.Discard, brotliLevel) }},
		}
	}
	return &compression{dynamicWriters: pools(dynamicGzipLevel, dynamicBrotliLevel),
		storedWriters: pools(storedGzipLevel, storedBrotliLevel)}
}

// encoder is what gzip.Writer and brotli.Writer have in common.
type encoder interface {
	io.WriteCloser
	Reset(io.Writer)
	Flush() error
}

// writer takes an encoder writing to dst from pools; release returns it.
func writer(pools map[string]*sync.Pool, enc string, dst io.Writer) encoder {
	e := pools[enc].Get().(encoder)
	e.Reset(dst)
	return e
}

func release(pools map[string]*sync.Pool, enc string, e encoder) {
	e.Reset(io.Discard)
	pools[enc].Put(e)
}

// acceptedEncoding is the encoding to answer with under an Accept-Encoding
// header: "br" or "gzip", the one with the higher weight (brotli when they
// tie), or "" when neither is acceptable. A coding not named is acceptable
// only through "*"; "q=0" refuses it.
func acceptedEncoding(header string) string { return chooseEncoding(header, true, true) }

// chooseEncoding is acceptedEncoding among the variants there are.
func chooseEncoding(header string, haveBr, haveGzip bool) string {
	if header == "" {
		return ""
	}
	br, gz, star := -1.0, -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = q
		case "gzip", "x-gzip":
			gz = q
		case "*":
			star = q
		}
	}
	if br < 0 {
		br = star
	}
	if gz < 0 {
		gz = star
	}
	if !haveBr {
		br = -1
	}
	if !haveGzip {
		gz = -1
	}
	switch {
	case br > 0 && br >= gz:
		return "br"
	case gz > 0:
		return "gzip"
	}
	return ""
}

// compressible: text and the text-based formats we serve; never images,
// fonts or archives, which are compressed already.
func compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "":
		// Without a type net/http would sniff the compressed bytes.
		return false
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "image/svg+xml":
		return true
	}
	return false
}

// encodedETag is the ETag of an encoded variant: a different representation
// needs a different entity tag.
func encodedETag(etag, enc string) string {
	if enc == "" || !strings.HasSuffix(etag, `"`) {
		return etag
	}
	return etag[:len(etag)-1] + "-" + enc + `"`
}

func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

// encodeStored compresses a body that will be kept and served many times.
// A variant that would not be smaller is left out (nil).
func (c *compression) encodeStored(body []byte, contentType string) (gz, br []byte) {
	if len(body) < minCompressSize || !compressible(contentType) {
		return nil, nil
	}
	c.stored.Add(1)
	encode := func(enc string) []byte {
		var b bytes.Buffer
		e := writer(c.storedWriters, enc, &b)
		e.Write(body)
		e.Close()
		release(c.storedWriters, enc, e)
		if b.Len() >= len(body) {
			return nil
		}
		return bytes.Clone(b.Bytes())
	}
	return encode("gzip"), encode("br")
}

// serveEncoded answers with a stored body or one of its stored variants,
// as the client accepts: conditional requests (ETag), HEAD and ranges (of
// the chosen variant) are handled by http.ServeContent. The caller has set
// Content-Type; etag is the identity body's.
func serveEncoded(w http.ResponseWriter, r *http.Request, body, gz, br []byte, etag string) {
	skipCompression(w)
	h := w.Header()
	enc := ""
	if gz != nil || br != nil {
		addVary(h)
		enc = chooseEncoding(r.Header.Get("Accept-Encoding"), br != nil, gz != nil)
	}
	switch enc {
	case "br":
		body = br
		h.Set("Content-Encoding", "br")
	case "gzip":
		body = gz
		h.Set("Content-Encoding", "gzip")
	}
	if etag != "" {
		h.Set("ETag", encodedETag(etag, enc))
	}
	// Most requests ask for the whole page, at most if it changed: they
	// get it in one write. http.ServeContent, which copies through a
	// 32 KiB buffer it allocates per request, serves the rest (ranges and
	// the other preconditions).
	rh := r.Header
	if rh.Get("Range") == "" && rh.Get("If-Range") == "" && rh.Get("If-Match") == "" &&
		rh.Get("If-Unmodified-Since") == "" && rh.Get("If-Modified-Since") == "" {
		if inm := rh.Get("If-None-Match"); inm != "" && etag != "" && etagListMatches(inm, h.Get("ETag")) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Accept-Ranges", "bytes")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		}
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// etagListMatches reports whether an If-None-Match list names etag, by the
// weak comparison RFC 9110 prescribes for it.
func etagListMatches(list, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || strings.TrimPrefix(e, "W/") == etag {
			return true
		}
	}
	return false
}

// skipCompression tells the compressing writer below w, if any, that the
// answer is encoded already (or must not be).
func skipCompression(w http.ResponseWriter) {
	for w != nil {
		if cw, ok := w.(*compressWriter); ok {
			if !cw.decided {
				cw.off = true
			}
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// compress encodes dynamic answers for clients that accept it: text types
// of at least minCompressSize bytes, not already encoded, not partial.
func (s *Server) compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &compressWriter{ResponseWriter: w, c: s.compression, enc: acceptedEncoding(r.Header.Get("Accept-Encoding"))}
		next.ServeHTTP(cw, r)
		// Not reached when the handler panics: what it held back is
		// dropped, and observe answers with the error page.
		cw.close()
	})
}

// compressWriter holds the first bytes of an answer until it knows whether
// to compress it: the headers are final, and the body is big enough or
// complete.
type compressWriter struct {
	http.ResponseWriter
	c   *compression
	enc string // what the client accepts; "" for nothing

	status  int
	buf     []byte
	decided bool
	off     bool    // pass the answer through unchanged
	zw      encoder // once compressing
}

func (w *compressWriter) WriteHeader(status int) {
	switch {
	case w.decided, status < 200:
		// Sent on (informational answers are not the answer; net/http
		// reports a superfluous call).
		w.ResponseWriter.WriteHeader(status)
		return
	case w.status != 0:
		return // superfluous, and nothing sent yet: the first status stands
	}
	w.status = status
	switch status {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		w.off = true
		w.decide()
	}
}

func (w *compressWriter) Write(b []byte) (int, error) {
	if !w.decided {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		// A client that accepts no encoding gets its answer as written,
		// without holding any of it back.
		if w.off || w.enc == "" || len(w.buf)+len(b) >= minCompressSize {
			w.decide()
		} else {
			w.buf = append(w.buf, b...)
			return len(b), nil
		}
	}
	if w.zw != nil {
		return w.zw.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// decide fixes the headers and sends what was held. Vary is set on every
// answer that a client accepting an encoding would get compressed (for a
// client that accepts none, on every answer of a compressible type).
func (w *compressWriter) decide() {
	w.decided = true
	h := w.Header()
	if !w.off && h.Get("Content-Encoding") == "" && h.Get("Content-Range") == "" && compressible(h.Get("Content-Type")) {
		addVary(h)
		if w.enc != "" {
			h.Set("Content-Encoding", w.enc)
			h.Del("Content-Length")
			if et := h.Get("ETag"); et != "" {
				h.Set("ETag", encodedETag(et, w.enc))
			}
			w.zw = writer(w.c.dynamicWriters, w.enc, w.ResponseWriter)
			w.c.dynamic.Add(1)
		}
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if len(w.buf) > 0 {
		if w.zw != nil {
			w.zw.Write(w.buf)
		} else {
			w.ResponseWriter.Write(w.buf)
		}
		w.buf = nil
	}
}

// close ends the answer: a small body is sent as it is.
func (w *compressWriter) close() {
	if !w.decided {
		if w.status == 0 {
			return // nothing written: net/http answers 200 with no body
		}
		w.off = len(w.buf) < minCompressSize
		w.decide()
	}
	if w.zw != nil {
		w.zw.Close()
		release(w.c.dynamicWriters, w.enc, w.zw)
		w.zw = nil
	}
}

// Flush sends what is held, compressed as it would be at full size, for
// handlers that stream.
func (w *compressWriter) Flush() {
	if !w.decided {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		w.decide()
	}
	if w.zw != nil {
		w.zw.Flush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
