package views

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
)

// localPath keeps redirects after login on this site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

type loginModel struct {
	Page
	Next      string
	Username  string
	Error     string
	LoginCSRF string
	// Held is editor text whose session ended, carried through sign-in.
	Held string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if auth.FromContext(r.Context()) != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, username, msg string) {
	s.renderLogin(w, r, status, &loginModel{Next: localPath(r.FormValue("next")), Username: username, Error: msg, Held: heldField(r)})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, m *loginModel) {
	m.LoginCSRF = s.csrfToken(r)
	m.Title = s.catalogs[language(r)].T("login.title")
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "login", m)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := s.catalogs[language(r)]
	username := r.PostFormValue("username")
	id, err := s.auth.Login(ctx, username, r.PostFormValue("password"), clientAddr(r))
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		w.Header().Set("Retry-After", strconv.Itoa(int(th.RetryAfter.Seconds())+1))
		s.showLogin(w, r, http.StatusTooManyRequests, username, c.T("login.throttled", int(th.RetryAfter.Minutes())+1))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.showLogin(w, r, http.StatusUnauthorized, username, c.T("login.failed"))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	// A new session ID at login defeats session fixation; a new CSRF token
	// goes with it.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Remove(ctx, auth.SessionCSRF)
	s.sessions.Put(ctx, auth.SessionUserID, id.UserID)
	s.claimHeld(r, id, localPath(r.PostFormValue("next")))
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, s.url("home"), http.StatusSeeOther)
}

type accountModel struct {
	Page
	Tokens   []auth.Token
	NewToken string
	Error    string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, http.StatusOK, "", "")
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, status int, newToken, msg string) {
	id := auth.FromContext(r.Context())
	tokens, err := s.auth.Tokens(r.Context(), id.UserID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &accountModel{Tokens: tokens, NewToken: newToken, Error: msg}
	m.Title = s.catalogs[language(r)].T("account.title")
	m.Nav = "account"
	s.render(w, r, status, "account", m)
}

// flash shows msg once on the next page and redirects there.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, key, to string, args ...any) {
	s.sessions.Put(r.Context(), "flash", s.catalogs[language(r)].T(key, args...))
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// formError shows a validation error on the page the form came from.
func (s *Server) formError(r *http.Request, err error) string {
	c := s.catalogs[language(r)]
	var inv *auth.InvalidError
	if errors.As(err, &inv) {
		return c.T("form.invalid", c.T("err."+inv.Key))
	}
	return c.T("form.invalid", err.Error())
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	if r.PostFormValue("new_password") != r.PostFormValue("new_password2") {
		s.showAccount(w, r, http.StatusUnprocessableEntity, "", s.catalogs[language(r)].T("account.mismatch"))
		return
	}
	err := s.auth.ChangePassword(r.Context(), id, r.PostFormValue("old_password"), r.PostFormValue("new_password"), clientAddr(r))
	if errors.Is(err, auth.ErrInvalid) {
		s.showAccount(w, r, http.StatusUnprocessableEntity, "", s.formError(r, err))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Other sessions keep working; this one gets a fresh ID.
	s.sessions.RenewToken(r.Context())
	s.flash(w, r, "account.password_changed", s.url("account"))
}

func (s *Server) accountTokenCreate(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	secret, _, err := s.auth.CreateToken(r.Context(), id.UserID, auth.TokenPersonal, r.PostFormValue("name"), 0, id.Username)
	if errors.Is(err, auth.ErrInvalid) {
		s.showAccount(w, r, http.StatusUnprocessableEntity, "", s.formError(r, err))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Shown once, on this response only; never stored in clear.
	w.Header().Set("Cache-Control", "no-store")
	s.showAccount(w, r, http.StatusOK, secret, "")
}

func (s *Server) accountTokenRevoke(w http.ResponseWriter, r *http.Request) {
	tokenID, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err := s.auth.RevokeToken(r.Context(), auth.FromContext(r.Context()), tokenID); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "account.token_revoked", s.url("account"))
}
