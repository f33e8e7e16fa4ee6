package views

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
)

// Password reset and invitations: single-use links sent by mail (auth owns
// the links, workflow the mail queue). The secret travels in the query, which
// the access log leaves out, and pages that carry it are never cached.

// deliver queues the mail carrying a link of kind; path is the page the
// link opens.
func (s *Server) deliver(kind, path, by string) auth.Deliver {
	return func(ctx context.Context, tx pgx.Tx, to, secret string) error {
		link := s.absolute(path) + "?token=" + url.QueryEscape(secret)
		return s.workflow.QueueAccountMail(ctx, tx, kind, to, link, by)
	}
}

type linkModel struct {
	Page
	FormCSRF string
	Token    string
	Email    string
	Username string
	Name     string
	Error    string
	Sent     bool
	// NoMail: no mail server is configured, so no link can be sent.
	NoMail bool
	// Invitation is the valid invitation being accepted.
	Invitation *auth.Link
}

func (s *Server) renderLink(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, m *linkModel) {
	m.FormCSRF = s.csrfToken(r)
	m.NoMail = s.workflow.Mail == nil
	m.Title = s.catalogs[language(r)].T(titleKey)
	w.Header().Set("Cache-Control", privateNoStore)
	s.render(w, r, status, name, m)
}

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) {
	s.renderLink(w, r, http.StatusOK, "password_forgot", "reset.title", &linkModel{Sent: r.URL.Query().Get("sent") == "1"})
}

// forgotSubmit answers alike whether or not the address belongs to an
// account, so nobody learns who has one.
func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	err := s.auth.RequestReset(r.Context(), email, clientAddr(r), s.deliver(auth.LinkReset, s.url("password.reset"), ""))
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		s.renderLink(w, r, http.StatusTooManyRequests, "password_forgot", "reset.title", &linkModel{Email: email, Error: s.throttledRequest(w, r, th)})
	case errors.Is(err, auth.ErrInvalid):
		s.renderLink(w, r, http.StatusUnprocessableEntity, "password_forgot", "reset.title", &linkModel{Email: email, Error: s.formError(r, err)})
	case err != nil:
		s.serverError(w, r, err)
	default:
		http.Redirect(w, r, s.url("password.forgot")+"?sent=1", http.StatusSeeOther)
	}
}

// throttledRequest says how long to wait before asking for another link.
func (s *Server) throttledRequest(w http.ResponseWriter, r *http.Request, th *auth.ThrottledError) string {
	s.throttled(w, r, th) // sets Retry-After
	return s.catalogs[language(r)].T("reset.throttled", th.Minutes())
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if _, err := s.auth.LinkBySecret(r.Context(), auth.LinkReset, token); err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.renderLink(w, r, http.StatusOK, "password_reset", "reset.new_title", &linkModel{Token: token})
}

// linkFailed shows why a link does not work: unknown, used and expired
// links look the same.
func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrLinkInvalid) {
		s.renderLink(w, r, http.StatusNotFound, "link_invalid", "link.invalid_title", &linkModel{})
		return
	}
	s.serverError(w, r, err)
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		s.renderLink(w, r, http.StatusUnprocessableEntity, "password_reset", "reset.new_title", &linkModel{Token: token, Error: s.catalogs[language(r)].T("account.mismatch")})
		return
	}
	_, err := s.auth.ResetPassword(r.Context(), token, r.PostFormValue("password"), clientAddr(r))
	switch {
	case errors.Is(err, auth.ErrInvalid):
		s.renderLink(w, r, http.StatusUnprocessableEntity, "password_reset", "reset.new_title", &linkModel{Token: token, Error: s.formError(r, err)})
	case err != nil:
		s.linkFailed(w, r, err)
	default:
		// Every session of the account has ended, this browser's too.
		s.sessions.Destroy(r.Context())
		s.flash(w, r, "reset.done", s.url("login"))
	}
}

func (s *Server) invitationPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	l, err := s.auth.LinkBySecret(r.Context(), auth.LinkInvite, token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.renderLink(w, r, http.StatusOK, "invitation", "invite.accept_title", &linkModel{Token: token, Invitation: &l})
}

func (s *Server) invitationSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PostFormValue("token")
	l, err := s.auth.LinkBySecret(ctx, auth.LinkInvite, token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	m := &linkModel{Token: token, Invitation: &l, Username: r.PostFormValue("username"), Name: r.PostFormValue("display_name")}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		m.Error = s.catalogs[language(r)].T("account.mismatch")
		s.renderLink(w, r, http.StatusUnprocessableEntity, "invitation", "invite.accept_title", m)
		return
	}
	u, err := s.auth.AcceptInvitation(ctx, token, auth.NewUser{Username: m.Username, DisplayName: m.Name, Password: r.PostFormValue("password")})
	switch {
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrConflict):
		m.Error = s.formError(r, err)
		if errors.Is(err, auth.ErrConflict) {
			m.Error = s.catalogs[language(r)].T("invite.taken")
		}
		s.renderLink(w, r, http.StatusUnprocessableEntity, "invitation", "invite.accept_title", m)
		return
	case err != nil:
		s.linkFailed(w, r, err)
		return
	}
	id, err := s.auth.IdentityByID(ctx, u.ID)
	if err == nil {
		err = s.sessions.SignIn(ctx, id)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "invite.welcome", s.url("account"))
}

// invite sends an invitation with roles from the admin form: in city
// when the route has one (a city admin invites into their city), else in
// the city the form names.
func (s *Server) invite(r *http.Request) (string, error) {
	id := auth.FromContext(r.Context())
	city := mux.Vars(r)["city"]
	if city == "" {
		city = r.PostFormValue("city")
	}
	var roles []auth.Grant
	if role := r.PostFormValue("role"); role != "" && city != "" {
		roles = append(roles, auth.Grant{City: city, Role: role})
	}
	var deliver auth.Deliver
	if s.workflow.Mail != nil {
		deliver = s.deliver(auth.LinkInvite, s.url("invitation"), id.Name())
	}
	secret, err := s.auth.Invite(r.Context(), id, r.PostFormValue("email"), roles, clientAddr(r), deliver)
	if err != nil || deliver != nil {
		return "", err
	}
	return s.absolute(s.url("invitation")) + "?token=" + url.QueryEscape(secret), nil
}

// inviteLinkModel shows an invitation link once, when no mail server is
// configured to send it.
type inviteLinkModel struct {
	Page
	Link, Back string
}

// adminInvite and adminCityInvite send an invitation from the network's or
// a city's administration (the route table decides who may use which).
func (s *Server) adminInvite(w http.ResponseWriter, r *http.Request) {
	s.inviteAnswer(w, r, s.url("admin.people"), func(st int, msg string) { s.showPeople(w, r, st, msg) })
}

func (s *Server) adminCityInvite(w http.ResponseWriter, r *http.Request) {
	s.inviteAnswer(w, r, s.url("admin.city", "city", mux.Vars(r)["city"]), func(st int, msg string) { s.showAdminCity(w, r, st, msg) })
}

func (s *Server) inviteAnswer(w http.ResponseWriter, r *http.Request, back string, again func(int, string)) {
	link, err := s.invite(r)
	var th *auth.ThrottledError
	if errors.As(err, &th) {
		again(http.StatusTooManyRequests, s.throttledRequest(w, r, th))
		return
	}
	if err != nil || link == "" {
		s.adminResult(w, r, err, "invite.sent", back, again)
		return
	}
	m := &inviteLinkModel{Link: link, Back: back}
	m.Title = s.catalogs[language(r)].T("invite.link_title")
	m.Nav = "admin"
	w.Header().Set("Cache-Control", privateNoStore)
	s.render(w, r, http.StatusOK, "invite_link", m)
}
