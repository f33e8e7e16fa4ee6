package views

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
)

type ctxKey int

const requestIDKey ctxKey = iota

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID accepts a proxy's request ID only when it is short and
// plain, because it is echoed in headers, logs and error pages.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter remembers the status for logs and metrics, and marks
// answers that are not public as private just before they are sent.
type statusWriter struct {
	http.ResponseWriter
	status int
	// unsafe: the request changes state (not GET or HEAD).
	unsafe bool
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.private()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.private()
	}
	return w.ResponseWriter.Write(b)
}

// private: every answer to a request that changes state, and every answer
// that sets a cookie (a session, a language choice), is no one else's.
// Answers to signed-in users are marked by identify.
func (w *statusWriter) private() {
	h := w.Header()
	if w.unsafe || len(h.Values("Set-Cookie")) > 0 {
		h.Set("Cache-Control", privateNoStore)
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe wraps the router: request IDs, security headers, panic recovery,
// the language cookie, structured access logs and metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		label := &routeLabel{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), routeLabelKey{}, label)
		if !isWrite(r) {
			ctx = auth.WithCachedReads(ctx)
		}
		client := clientAddress(r, s.opts.TrustedProxies)
		ctx = withClientAddr(ctx, client)
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; "+
			"style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "+
			"base-uri 'self'; form-action 'self'")
		if l := r.URL.Query().Get("lang"); isLanguage(l) {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				SameSite: http.SameSiteLaxMode, HttpOnly: true})
		}
		sw := &statusWriter{ResponseWriter: w, unsafe: isWrite(r)}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", id)
				if sw.status == 0 {
					s.panicked(sw, r)
				}
			}
			route, status := label.name, sw.status
			if route == "" {
				route = s.routeName(r)
			}
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			d := time.Since(start)
			s.metrics.observe(route, r.Method, status, d)
			if s.opts.AccessLog {
				// The path only: a query may carry a token (never logged).
				s.log.Info("request", "method", r.Method, "path", r.URL.Path, "route", route,
					"status", status, "duration_ms", float64(d.Microseconds())/1000, "client", client, "request_id", id)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// panicked answers a request whose handler panicked: the error page, or the
// plain one when rendering panics too.
func (s *Server) panicked(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if recover() != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write(s.plainErrorPage(r, http.StatusInternalServerError))
		}
	}()
	if isAPI(r) {
		s.apiError(w, r, errInternal{errors.New("panic")})
		return
	}
	s.errorPage(w, r, http.StatusInternalServerError, nil)
}

// isWrite: the request may change state. Everything else only reads, and
// may be served from this process's caches.
func isWrite(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// fenced holds the answer of every request that may have written until
// every instance heard what it wrote (wiki.Barrier): a sign-out, a role
// change, a publication hold everywhere before the next request. It wraps
// the session middleware, so session writes (a flash, a sign-out) are
// covered too. Reads pass straight through.
func (s *Server) fenced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWrite(r) || s.opts.Barrier == nil {
			next.ServeHTTP(w, r)
			return
		}
		held := &heldResponse{ResponseWriter: w}
		next.ServeHTTP(held, r)
		s.opts.Barrier.Sync(r.Context())
		held.send()
	})
}

// routeName names the route of a request that was answered before it
// reached the router (a bad token, a bad path): metrics and logs still
// count it under its route. Requests no route matches are "unmatched".
func (s *Server) routeName(r *http.Request) string {
	var m mux.RouteMatch
	if s.router.Match(r, &m) && m.Route != nil && m.Route.GetName() != "" {
		return m.Route.GetName()
	}
	return "unmatched"
}
