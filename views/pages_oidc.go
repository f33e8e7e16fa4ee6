package views

import (
	"errors"
	"net/http"

	"hansewiki/auth"
)

// Session keys of a sign-in with the identity provider in progress; each
// is used once.
const (
	oidcState    = "oidc_state"
	oidcNonce    = "oidc_nonce"
	oidcVerifier = "oidc_verifier"
	oidcNext     = "oidc_next"
)

// oidcLogin sends the browser to the identity provider, with a fresh
// state, nonce and PKCE challenge kept in its session.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if s.opts.OIDC == nil {
		s.notFound(w, r)
		return
	}
	st, err := s.opts.OIDC.Start(r.Context())
	if err != nil {
		s.log.Warn("identity provider unavailable", "err", err)
		s.showLogin(w, r, http.StatusBadGateway, "", s.catalogs[language(r)].T("oidc.unavailable"))
		return
	}
	ctx := r.Context()
	s.sessions.Put(ctx, oidcState, st.State)
	s.sessions.Put(ctx, oidcNonce, st.Nonce)
	s.sessions.Put(ctx, oidcVerifier, st.Verifier)
	s.sessions.Put(ctx, oidcNext, SafeNext(r.URL.Query().Get("next")))
	w.Header().Set("Cache-Control", privateNoStore)
	http.Redirect(w, r, st.URL, http.StatusSeeOther)
}

// oidcCallback finishes the sign-in. The state, nonce and verifier leave
// the session first, so a callback can be answered once.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.opts.OIDC == nil {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	st := auth.OIDCStart{State: s.sessions.PopString(ctx, oidcState), Nonce: s.sessions.PopString(ctx, oidcNonce),
		Verifier: s.sessions.PopString(ctx, oidcVerifier)}
	next := SafeNext(s.sessions.PopString(ctx, oidcNext))
	c := s.catalogs[language(r)]
	q := r.URL.Query()
	if q.Get("error") != "" {
		s.showLogin(w, r, http.StatusUnauthorized, "", c.T("oidc.failed"))
		return
	}
	id, err := s.opts.OIDC.Finish(ctx, st, q.Get("state"), q.Get("code"), clientAddr(r))
	switch {
	case errors.Is(err, auth.ErrOIDC), errors.Is(err, auth.ErrBadCredentials):
		// The reason, never the code or a token.
		s.log.Info("sign-in with the identity provider refused", "reason", oidcReason(err), "request_id", requestID(ctx))
		s.showLogin(w, r, http.StatusUnauthorized, "", c.T("oidc.failed"))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if err := s.sessions.SignIn(ctx, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// oidcReason is the first part of a refusal, for the log.
func oidcReason(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}
