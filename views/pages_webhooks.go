package views

import (
	"net/http"
	"slices"
	"strconv"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// The webhook administration: endpoints, their delivery log, a form to
// register one (its secret is shown once, in the answer to that form, and
// never stored in the session) and removal after a confirmation.

type webhooksModel struct {
	Page
	Webhooks   []*workflow.Webhook
	Deliveries []workflow.WebhookDelivery
	Events     []string
	// Network: the admin may register endpoints for every city.
	Network bool
	Cities  []wiki.City
	// CityOf names each endpoint's city by endpoint ID (none: every city).
	CityOf map[int64]string
	// Created is the endpoint just registered, with its secret.
	Created *workflow.Webhook
	Error   string
	// Form keeps what was entered when it was refused.
	Form webhookForm
}

type webhookForm struct {
	URL    string
	City   string
	Events map[string]bool
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s.showWebhooks(w, r, http.StatusOK, &webhooksModel{})
}

func (s *Server) showWebhooks(w http.ResponseWriter, r *http.Request, status int, m *webhooksModel) {
	ctx := r.Context()
	id := auth.FromContext(ctx)
	if !s.workflow.MayManageWebhooks(id) {
		s.htmlError(w, r, wiki.ErrForbidden)
		return
	}
	var err error
	if m.Webhooks, err = s.workflow.Webhooks(ctx, id); err == nil {
		m.Deliveries, err = s.workflow.WebhookDeliveries(ctx, id, 0, 100)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Events = workflow.WebhookEvents
	m.Network = s.auth.Can(id, auth.ManageNetwork, "")
	cities, err := s.store.Cities(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mine := s.workflow.WebhookCities(id)
	names := map[string]string{}
	for _, c := range cities {
		names[c.Slug] = c.Name
		if m.Network || slices.Contains(mine, c.Slug) {
			m.Cities = append(m.Cities, c)
		}
	}
	m.CityOf = map[int64]string{}
	for _, h := range m.Webhooks {
		if h.City != nil {
			m.CityOf[h.ID] = names[*h.City]
		}
	}
	if m.Form.Events == nil {
		m.Form.Events = map[string]bool{}
	}
	m.Title = s.catalogs[language(r)].T("webhooks.title")
	m.Nav = "admin"
	s.render(w, r, status, "admin_webhooks", m)
}

func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.htmlError(w, r, err)
		return
	}
	f := webhookForm{URL: r.PostFormValue("url"), City: r.PostFormValue("city"), Events: map[string]bool{}}
	for _, e := range r.PostForm["events"] {
		f.Events[e] = true
	}
	hook, err := s.workflow.CreateWebhook(r.Context(), s.meta(r), workflow.NewWebhook{URL: f.URL, City: f.City, Events: r.PostForm["events"]})
	if err != nil {
		if status, _ := statusOf(err); status == http.StatusUnprocessableEntity || status == http.StatusBadRequest {
			s.showWebhooks(w, r, http.StatusUnprocessableEntity, &webhooksModel{Error: s.formError(r, err), Form: f})
			return
		}
		s.htmlError(w, r, err)
		return
	}
	// No redirect: the secret must not wait in the session for the next page.
	w.Header().Set("Cache-Control", "no-store")
	s.showWebhooks(w, r, http.StatusCreated, &webhooksModel{Created: hook})
}

func (s *Server) webhookDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	hook, err := s.workflow.WebhookByID(r.Context(), auth.FromContext(r.Context()), pathID(r, "id"))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	m := &confirmModel{Question: c.T("webhooks.delete_question", hook.URL),
		Action: s.url("admin.webhook.delete", "id", strconv.FormatInt(hook.ID, 10)), Back: s.url("admin.webhooks")}
	m.Title = c.T("webhooks.delete_title")
	s.render(w, r, http.StatusOK, "confirm", m)
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirmed") != "1" {
		http.Redirect(w, r, s.url("admin.webhook.delete.confirm", "id", strconv.FormatInt(pathID(r, "id"), 10)), http.StatusSeeOther)
		return
	}
	if err := s.workflow.DeleteWebhook(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "webhooks.deleted", s.url("admin.webhooks"))
}
