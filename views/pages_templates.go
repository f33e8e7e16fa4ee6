package views

import (
	"errors"
	"net/http"

	"hansewiki/wiki"
)

// templatesModel is the network admins' page for article templates.
type templatesModel struct {
	Page
	Templates []wiki.Template
	Error     string
}

func (s *Server) templatesPage(w http.ResponseWriter, r *http.Request) {
	s.showTemplates(w, r, http.StatusOK, "")
}

func (s *Server) showTemplates(w http.ResponseWriter, r *http.Request, status int, msg string) {
	m := &templatesModel{Error: msg}
	var err error
	if m.Templates, err = s.store.Templates(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T("templates.title")
	m.Nav = "admin"
	s.render(w, r, status, "admin_templates", m)
}

func (s *Server) templateSave(w http.ResponseWriter, r *http.Request) {
	_, err := s.store.SaveTemplate(r.Context(), wiki.Template{Slug: r.PostFormValue("slug"), NameDE: r.PostFormValue("name_de"),
		NameEN: r.PostFormValue("name_en"), Body: r.PostFormValue("body")}, actor(r))
	if errors.Is(err, wiki.ErrTooLarge) {
		s.showTemplates(w, r, http.StatusRequestEntityTooLarge, s.formError(r, err))
		return
	}
	s.adminResult(w, r, err, "admin.saved", s.url("admin.templates"), func(st int, msg string) { s.showTemplates(w, r, st, msg) })
}
