package views

import (
	"net/http"
	"strings"

	"hansewiki/auth"
)

// auditActions are the actions the audit log filter offers, in the order
// people look for them; each has its words in the catalogs (audit.do.*).
var auditActions = []string{
	"change.create", "change.update", "change.submit", "change.approve", "change.request-changes", "change.reject",
	"change.published", "change.conflict", "change.rebase", "change.withdraw",
	"article.archived", "article.unarchived", "article.confirm", "article.stewards", "article.handover",
	"role.grant", "role.revoke", "role.end", "absence.add", "absence.delete", "user.create", "user.invite", "user.password", "user.reset_request",
	"user.disable", "user.enable", "login", "login.failed", "token.create", "token.revoke",
	"city.add", "city.policy", "city.review_interval", "topic.save", "legal.save", "user.digest",
	"webhook.create", "webhook.delete",
}

// auditNames fills the display names of the audit page's actors and the
// cities its filter offers (only those the reader may audit).
func (s *Server) auditNames(r *http.Request, m *auditModel) error {
	users, err := s.auth.Users(r.Context())
	if err != nil {
		return err
	}
	m.Names = make(map[string]string, len(users))
	for _, u := range users {
		if u.DisplayName != "" {
			m.Names[u.Username] = u.DisplayName
		}
	}
	cities, err := s.store.Cities(r.Context())
	if err != nil {
		return err
	}
	scope := s.auditScope(auth.FromContext(r.Context()))
	if scope != nil {
		// A city admin sees events of their cities' objects only.
		m.Actions = nil
		for _, a := range auditActions {
			if strings.HasPrefix(a, "change.") || strings.HasPrefix(a, "article.") || strings.HasPrefix(a, "role.") || strings.HasPrefix(a, "absence.") || strings.HasPrefix(a, "city.") {
				m.Actions = append(m.Actions, a)
			}
		}
	}
	for _, c := range cities {
		if scope == nil || contains(scope, c.Slug) {
			m.Cities = append(m.Cities, c)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
