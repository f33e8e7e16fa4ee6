package views

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
)

// deviceCookie names the cookie that marks a browser as having signed in
// before (auth.Attempt.Devices): one token per account signed in with this
// browser, newest first, separated by dots.
const deviceCookie = "hansewiki_device"

func deviceTokens(r *http.Request) []string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return strings.Split(c.Value, ".")
}

// rememberDevice stores the token of a sign-in in the device cookie in place
// of the one it replaced. The cookie is HttpOnly and holds only random
// tokens whose hashes the server keeps; it proves nothing but a past
// sign-in, and it signs nobody in.
func (s *Server) rememberDevice(w http.ResponseWriter, r *http.Request, in *auth.SignIn) {
	tokens := []string{in.Device}
	for _, t := range deviceTokens(r) {
		if t != in.Replaced && t != "" && len(tokens) < auth.DevicesPerCookie {
			tokens = append(tokens, t)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: strings.Join(tokens, "."), Path: "/",
		MaxAge: int(auth.DeviceLifetime.Seconds()), HttpOnly: true, Secure: s.sessions.Cookie.Secure, SameSite: http.SameSiteLaxMode})
}

// attempt is the sign-in a request makes; a browser (remember) gets its
// device cookie renewed.
func attempt(r *http.Request, username, password string, remember bool) auth.Attempt {
	return auth.Attempt{Username: username, Password: password, Addr: clientAddr(r), Devices: deviceTokens(r), Remember: remember}
}

// throttled says how long to wait, in the reader's language, and
// sets Retry-After.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, th *auth.ThrottledError) string {
	w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
	return s.catalogs[language(r)].throttledText(th)
}

type loginModel struct {
	Page
	Next      string
	Username  string
	Error     string
	LoginCSRF string
	// Held is editor text whose session ended, carried through sign-in.
	Held string
	// SSO offers sign-in with the identity provider.
	SSO bool
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if auth.FromContext(r.Context()) != nil {
		http.Redirect(w, r, SafeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, username, msg string) {
	s.renderLogin(w, r, status, &loginModel{Next: SafeNext(r.FormValue("next")), Username: username, Error: msg, Held: heldField(r)})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, m *loginModel) {
	m.LoginCSRF = s.csrfToken(r)
	m.SSO = s.opts.OIDC != nil
	m.Title = s.catalogs[language(r)].T("login.title")
	w.Header().Set("Cache-Control", privateNoStore)
	s.render(w, r, status, "login", m)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := s.catalogs[language(r)]
	username := r.PostFormValue("username")
	in, err := s.auth.Login(ctx, attempt(r, username, r.PostFormValue("password"), true))
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		s.showLogin(w, r, http.StatusTooManyRequests, username, s.throttled(w, r, th))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.showLogin(w, r, http.StatusUnauthorized, username, c.T("login.failed"))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if err := s.sessions.SignIn(ctx, in.Identity); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.rememberDevice(w, r, in)
	next := SafeNext(r.PostFormValue("next"))
	s.claimHeld(r, in.Identity, next)
	http.Redirect(w, r, next, http.StatusSeeOther)
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
	// Absence is the section about absences and deputies (issue 14).
	Absence *absenceModel
	// EndingRoles are the user's roles that end by themselves.
	EndingRoles []auth.Member
	// Digest: the member gets the weekly digest.
	Digest bool
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
	if m.EndingRoles, err = s.endingRoles(r); err != nil {
		s.serverError(w, r, err)
		return
	}
	if m.Absence, err = s.absenceSection(r); err != nil {
		s.serverError(w, r, err)
		return
	}
	if m.Digest, err = s.workflow.Digest(r.Context(), id); err != nil {
		s.serverError(w, r, err)
		return
	}
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
	return s.catalogs[language(r)].formText(err)
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	if r.PostFormValue("new_password") != r.PostFormValue("new_password2") {
		s.showAccount(w, r, http.StatusUnprocessableEntity, "", s.catalogs[language(r)].T("account.mismatch"))
		return
	}
	version, err := s.auth.ChangePassword(r.Context(), id, r.PostFormValue("old_password"), r.PostFormValue("new_password"), deviceTokens(r))
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		s.showAccount(w, r, http.StatusTooManyRequests, "", s.throttled(w, r, th))
		return
	case errors.Is(err, auth.ErrInvalid):
		s.showAccount(w, r, http.StatusUnprocessableEntity, "", s.formError(r, err))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	// Every other session and login token of the account has ended; this
	// session moves to the new credentials under a fresh ID.
	now := *id
	now.CredentialsVersion = version
	if err := s.sessions.SignIn(r.Context(), &now); err != nil {
		s.serverError(w, r, err)
		return
	}
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
	w.Header().Set("Cache-Control", privateNoStore)
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
