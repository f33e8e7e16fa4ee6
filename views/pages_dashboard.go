package views

import (
	"net/http"
	"time"

	"hansewiki/auth"
	"hansewiki/workflow"
)

type dashboardModel struct {
	Page
	*workflow.Dashboard
	WindowDays int
}

// reviewDashboard shows city admins (their cities) and network admins
// (every city) how review keeps up: backlog, time to decision, load.
func (s *Server) reviewDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.workflow.ReviewDashboard(r.Context(), auth.FromContext(r.Context()), time.Now())
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &dashboardModel{Dashboard: d, WindowDays: int(workflow.DashboardWindow.Hours() / 24)}
	m.Title = s.catalogs[language(r)].T("dashboard.title")
	m.Nav = "admin"
	s.render(w, r, http.StatusOK, "dashboard", m)
}
