package views

import (
	"net/http"

	"hansewiki/auth"
	"hansewiki/workflow"
)

// Absence and deputies (issue 14): a reviewer records absences on the
// account page and through /api/v1/me/absences; the workflow decides.

// absenceModel is the account page's absence section.
type absenceModel struct {
	// Cities are where the user reviews (nil: the section is not shown).
	Cities     []string
	Own        []workflow.Absence
	StandingIn []workflow.Absence
	// Deputies feeds the deputy picker: the reviewers of those cities.
	Deputies []auth.User
}

// absenceSection reads what the account page shows about absences.
func (s *Server) absenceSection(r *http.Request) (*absenceModel, error) {
	ctx := r.Context()
	id := auth.FromContext(ctx)
	cities, err := s.workflow.AbsenceCities(ctx, id)
	if err != nil {
		return nil, err
	}
	m := &absenceModel{Cities: cities}
	if m.Own, m.StandingIn, err = s.workflow.Absences(ctx, id); err != nil {
		return nil, err
	}
	if len(cities) == 0 {
		return m, nil
	}
	users, err := s.auth.Users(ctx)
	if err != nil {
		return nil, err
	}
	// Who may review there, as the enforcer says (the workflow checks the
	// chosen deputy again).
	reviewers := map[string]bool{}
	for _, c := range cities {
		for _, h := range s.auth.Holders(auth.ReviewChange, c) {
			reviewers[h.Username] = true
		}
	}
	for _, u := range users {
		if reviewers[u.Username] && !u.Disabled && u.Username != id.Username {
			m.Deputies = append(m.Deputies, u)
		}
	}
	return m, nil
}

// endingRoles are the signed-in user's roles granted until a date.
func (s *Server) endingRoles(r *http.Request) ([]auth.Member, error) {
	return s.auth.EndingRoles(r.Context(), auth.FromContext(r.Context()).Username)
}

func absenceInput(r *http.Request) workflow.AbsenceInput {
	return workflow.AbsenceInput{City: r.PostFormValue("city"), From: r.PostFormValue("from"), To: r.PostFormValue("to"), Deputy: r.PostFormValue("deputy")}
}

// accountAbsenceAdd records an absence from the account page's form.
func (s *Server) accountAbsenceAdd(w http.ResponseWriter, r *http.Request) {
	_, err := s.workflow.AddAbsence(r.Context(), s.meta(r), absenceInput(r))
	s.adminResult(w, r, err, "absence.saved", s.url("account")+"#absence-title", func(st int, msg string) { s.showAccount(w, r, st, "", msg) })
}

// accountAbsenceDelete ends one of the user's absences.
func (s *Server) accountAbsenceDelete(w http.ResponseWriter, r *http.Request) {
	err := s.workflow.DeleteAbsence(r.Context(), s.meta(r), pathID(r, "id"))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "absence.deleted", s.url("account")+"#absence-title")
}

type absencesResponse struct {
	Absences   []workflow.Absence `json:"absences"`
	StandingIn []workflow.Absence `json:"standing_in"`
}

func (s *Server) apiAbsences(w http.ResponseWriter, r *http.Request) {
	own, standing, err := s.workflow.Absences(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if own == nil {
		own = []workflow.Absence{}
	}
	if standing == nil {
		standing = []workflow.Absence{}
	}
	writeJSON(w, http.StatusOK, absencesResponse{Absences: own, StandingIn: standing})
}

func (s *Server) apiAbsenceCreate(w http.ResponseWriter, r *http.Request) {
	var in workflow.AbsenceInput
	if err := decodeJSON(w, r, &in, 4<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.workflow.AddAbsence(r.Context(), s.meta(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiAbsenceDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.workflow.DeleteAbsence(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
