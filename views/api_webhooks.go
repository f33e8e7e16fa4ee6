package views

import (
	"net/http"

	"hansewiki/auth"
	"hansewiki/workflow"
)

// Webhooks (issue 14): network admins register endpoints for every city,
// city admins for theirs; workflow decides who may.

type webhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	City   *string  `json:"city"`
}

func (s *Server) apiWebhooks(w http.ResponseWriter, r *http.Request) {
	list, err := s.workflow.Webhooks(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []*workflow.Webhook{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiWebhookCreate(w http.ResponseWriter, r *http.Request) {
	var b webhookBody
	if err := decodeJSON(w, r, &b, 64<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	n := workflow.NewWebhook{URL: b.URL, Events: b.Events}
	if b.City != nil {
		n.City = *b.City
	}
	hook, err := s.workflow.CreateWebhook(r.Context(), s.meta(r), n)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, hook)
}

func (s *Server) apiWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.workflow.DeleteWebhook(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	if _, err := s.workflow.WebhookByID(r.Context(), id, pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	list, err := s.workflow.WebhookDeliveries(r.Context(), id, pathID(r, "id"), 200)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []workflow.WebhookDelivery{}
	}
	writeJSON(w, http.StatusOK, list)
}
