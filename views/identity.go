package views

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"hansewiki/auth"
	"hansewiki/wiki"
)

type authMethodKey struct{}

// Ways a request can be authenticated.
const (
	viaSession = "session"
	viaToken   = "token"
)

func authMethod(ctx context.Context) string {
	m, _ := ctx.Value(authMethodKey{}).(string)
	return m
}

// identify puts the request's identity into its context: a bearer token
// (API clients, personal access tokens) or the session cookie. A bad token
// is refused outright rather than treated as anonymous, so a client learns
// that its token stopped working.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" && !isMetricsScrape(r) {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.apiError(w, r, errUnauthenticated)
				return
			}
			id, err := s.auth.TokenIdentity(ctx, strings.TrimSpace(secret))
			if err != nil {
				if !errors.Is(err, auth.ErrUnauthenticated) {
					s.serverError(w, r, err)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="hansewiki"`)
				s.apiError(w, r, errUnauthenticated)
				return
			}
			ctx = context.WithValue(auth.WithIdentity(ctx, id), authMethodKey{}, viaToken)
			w.Header().Set("Cache-Control", privateNoStore)
		} else if uid, version := s.sessions.UserOf(ctx); uid != 0 {
			id, err := s.auth.SessionIdentity(ctx, uid, version)
			if err == nil && !s.sessions.Active(ctx, time.Now()) {
				err = auth.ErrUnauthenticated // unused for too long
			}
			switch {
			case errors.Is(err, auth.ErrUnauthenticated):
				// The account was disabled or removed, or its password
				// changed: the session ends now.
				s.sessions.Destroy(ctx)
			case err != nil:
				s.serverError(w, r, err)
				return
			default:
				ctx = context.WithValue(auth.WithIdentity(ctx, id), authMethodKey{}, viaSession)
				// Everything served to a signed-in user is theirs alone.
				w.Header().Set("Cache-Control", privateNoStore)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readerOf is what the request's identity may read: the one visibility rule
// (wiki.Reader) fed with the cities auth says the identity may read.
func (s *Server) readerOf(r *http.Request) wiki.Reader {
	return s.workflow.Reader(auth.FromContext(r.Context()))
}

// csrfToken returns the session's CSRF token, creating the session and the
// token when needed (the login form needs one before anyone signed in).
func (s *Server) csrfToken(r *http.Request) string {
	ctx := r.Context()
	if t := s.sessions.GetString(ctx, auth.SessionCSRF); t != "" {
		return t
	}
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	s.sessions.Put(ctx, auth.SessionCSRF, t)
	return t
}

// checkCSRF guards every state-changing request that a browser could send
// with the session cookie, and the HTML login form (against login CSRF): cross-origin requests are refused by
// net/http.CrossOriginProtection, and same-origin ones must carry the
// session's token (form field csrf_token or header X-CSRF-Token). Requests
// authenticated by a bearer token carry no ambient credentials and pass.
func (s *Server) checkCSRF(r *http.Request) bool {
	method := authMethod(r.Context())
	// Only the session cookie is an ambient credential; API requests without
	// it (bearer tokens, the JSON login, which sets no cookie) cannot be forged.
	if method == viaToken || isAPI(r) && method != viaSession {
		return true
	}
	if err := s.crossOrigin.Check(r); err != nil {
		return false
	}
	want := s.sessions.GetString(r.Context(), auth.SessionCSRF)
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && !isAPI(r) {
		got = r.PostFormValue("csrf_token")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
