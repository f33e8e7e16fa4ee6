package views

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// feedbackPerAddr bounds feedback messages per address in the throttle
// window (15 minutes).
const feedbackPerAddr = 5

// legalModel is an Impressum, privacy or accessibility statement page; the
// accessibility statement carries the feedback form (BITV 2.0 § 7).
type legalModel struct {
	Page
	Legal    wiki.LegalPage
	HTML     template.HTML
	Feedback bool
	FormCSRF string
	Sent     bool
	Error    string
	Contact  string
	Problem  string
	Location string
}

func (s *Server) legalPage(slug string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.showLegal(w, r, slug, http.StatusOK, &legalModel{Sent: r.URL.Query().Get("sent") == "1"})
	}
}

func (s *Server) showLegal(w http.ResponseWriter, r *http.Request, slug string, status int, m *legalModel) {
	p, err := s.store.LegalPage(r.Context(), slug)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m.Legal = p
	// Sanitized when it was written (wiki/markdown), like every article.
	m.HTML = template.HTML(p.HTML)
	m.Title = s.catalogs[language(r)].T("legal." + slug)
	m.Nav = "legal"
	if slug == "barrierefreiheit" {
		// The form carries this visitor's token: never a shared cached page.
		m.Feedback = true
		m.FormCSRF = s.csrfToken(r)
		w.Header().Set("Cache-Control", privateNoStore)
	}
	s.render(w, r, status, "legal", m)
}

// feedbackSubmit keeps a message from the accessibility feedback form and
// tells the network admins.
func (s *Server) feedbackSubmit(w http.ResponseWriter, r *http.Request) {
	f := workflow.Feedback{Contact: r.PostFormValue("contact"), Problem: r.PostFormValue("problem"), Location: r.PostFormValue("location")}
	// Each message mails every network admin: a few per address suffice.
	var th *auth.ThrottledError
	if err := s.auth.Limit(r.Context(), "feedback", clientAddr(r), feedbackPerAddr); errors.As(err, &th) {
		s.showLegal(w, r, "barrierefreiheit", http.StatusTooManyRequests, &legalModel{Error: s.throttledRequest(w, r, th),
			Contact: f.Contact, Problem: f.Problem, Location: f.Location})
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	if _, err := s.workflow.SubmitFeedback(r.Context(), f); err != nil {
		if errors.Is(err, wiki.ErrInvalid) {
			s.showLegal(w, r, "barrierefreiheit", http.StatusUnprocessableEntity, &legalModel{Error: s.formError(r, err),
				Contact: f.Contact, Problem: f.Problem, Location: f.Location})
			return
		}
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, s.url("legal.barrierefreiheit")+"?sent=1#feedback", http.StatusSeeOther)
}

type adminLegalModel struct {
	Page
	Pages []wiki.LegalPage
	Error string
	// Editing is the page whose form failed, with the text as sent.
	Editing, Body string
}

func (s *Server) adminLegalPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminLegal(w, r, http.StatusOK, &adminLegalModel{})
}

func (s *Server) showAdminLegal(w http.ResponseWriter, r *http.Request, status int, m *adminLegalModel) {
	for _, slug := range wiki.LegalSlugs {
		p, err := s.store.LegalPage(r.Context(), slug)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if slug == m.Editing {
			p.Body = m.Body
		}
		m.Pages = append(m.Pages, p)
	}
	m.Title = s.catalogs[language(r)].T("admin.legal")
	m.Nav = "admin"
	s.render(w, r, status, "admin_legal", m)
}

func (s *Server) adminLegalSave(w http.ResponseWriter, r *http.Request) {
	slug, body := mux.Vars(r)["slug"], r.PostFormValue("body")
	err := s.store.SaveLegalPage(r.Context(), slug, body, actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.legal"), func(st int, msg string) {
		s.showAdminLegal(w, r, st, &adminLegalModel{Error: msg, Editing: slug, Body: body})
	})
}

type adminFeedbackModel struct {
	Page
	Feedback []workflow.Feedback
}

func (s *Server) adminFeedbackPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.workflow.FeedbackList(r.Context(), 200)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &adminFeedbackModel{Feedback: list}
	m.Title = s.catalogs[language(r)].T("admin.feedback")
	m.Nav = "admin"
	s.render(w, r, http.StatusOK, "admin_feedback", m)
}
