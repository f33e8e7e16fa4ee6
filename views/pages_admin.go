package views

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
)

type adminModel struct {
	Page
	Cities  []wiki.City
	Topics  []wiki.Topic
	Users   []auth.User
	Members []auth.Member
	Roles   []string
	// Programmes: the funding programmes, retired ones included.
	Programmes []wiki.FundingProgramme
	Error      string
	// OwnCity preselects the grant form's city: the admin's own.
	OwnCity string
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminPage(w, r, "admin", "admin.title", http.StatusOK, "")
}

// The network administration's sections, each a page of its own.
func (s *Server) adminRolesPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminPage(w, r, "admin_roles", "admin.roles", http.StatusOK, "")
}

func (s *Server) adminCitiesPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminPage(w, r, "admin_cities", "admin.cities", http.StatusOK, "")
}

func (s *Server) adminTopicsPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminPage(w, r, "admin_topics", "admin.topics", http.StatusOK, "")
}

func (s *Server) showAdminPage(w http.ResponseWriter, r *http.Request, page, titleKey string, status int, msg string) {
	ctx := r.Context()
	m := &adminModel{Roles: auth.Roles, Error: msg, OwnCity: ownCity(auth.FromContext(r.Context()))}
	var err error
	if m.Cities, err = s.store.Cities(ctx); err == nil {
		if m.Topics, err = s.store.Topics(ctx); err == nil {
			if m.Users, err = s.auth.Users(ctx); err == nil {
				if m.Members, err = s.auth.Members(ctx, ""); err == nil {
					m.Programmes, err = s.store.FundingProgrammes(ctx, true)
				}
			}
		}
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T(titleKey)
	m.Nav = "admin"
	s.render(w, r, status, page, m)
}

// adminResult finishes an admin form: a flash and redirect on success, the
// page with the reason on invalid input.
func (s *Server) adminResult(w http.ResponseWriter, r *http.Request, err error, okKey, back string, again func(int, string)) {
	switch {
	case err == nil:
		s.flash(w, r, okKey, back)
	case errors.Is(err, wiki.ErrInvalid), errors.Is(err, auth.ErrInvalid),
		errors.Is(err, wiki.ErrConflict), errors.Is(err, auth.ErrConflict),
		errors.Is(err, auth.ErrNotFound), errors.Is(err, wiki.ErrNotFound):
		again(http.StatusUnprocessableEntity, s.formError(r, err))
	default:
		s.serverError(w, r, err)
	}
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Username }

func (s *Server) adminCityAdd(w http.ResponseWriter, r *http.Request) {
	_, err := s.store.AddCity(r.Context(), r.PostFormValue("slug"), r.PostFormValue("name"), actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.cities.page"), func(st int, msg string) {
		s.showAdminPage(w, r, "admin_cities", "admin.cities", st, msg)
	})
}

func (s *Server) adminTopicSave(w http.ResponseWriter, r *http.Request) {
	err := s.store.SaveTopic(r.Context(), wiki.Topic{Slug: r.PostFormValue("slug"), NameDE: r.PostFormValue("name_de"), NameEN: r.PostFormValue("name_en")}, actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.topics.page"), func(st int, msg string) {
		s.showAdminPage(w, r, "admin_topics", "admin.topics", st, msg)
	})
}

func (s *Server) adminFundingPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminPage(w, r, "admin_funding", "admin.funding", http.StatusOK, "")
}

func (s *Server) adminFundingAdd(w http.ResponseWriter, r *http.Request) {
	_, err := s.store.AddFundingProgramme(r.Context(), r.PostFormValue("name"), actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.funding.page"), func(st int, msg string) {
		s.showAdminPage(w, r, "admin_funding", "admin.funding", st, msg)
	})
}

func (s *Server) adminFundingUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		s.htmlError(w, r, wiki.ErrNotFound)
		return
	}
	_, err = s.store.UpdateFundingProgramme(r.Context(), id, r.PostFormValue("name"), r.PostFormValue("retired") == "1", actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.funding.page"), func(st int, msg string) {
		s.showAdminPage(w, r, "admin_funding", "admin.funding", st, msg)
	})
}

func (s *Server) adminUserAdd(w http.ResponseWriter, r *http.Request) {
	_, err := s.auth.CreateUser(r.Context(), auth.NewUser{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}, actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.people"), func(st int, msg string) { s.showPeople(w, r, st, msg) })
}

func (s *Server) adminUserDisable(w http.ResponseWriter, r *http.Request) {
	disable := r.PostFormValue("disabled") != "false"
	// Disabling is asked for first (a page, so it works without JavaScript).
	if disable && r.PostFormValue("confirmed") != "1" {
		http.Redirect(w, r, s.url("admin.user.disable.confirm", "user", mux.Vars(r)["user"]), http.StatusSeeOther)
		return
	}
	err := s.auth.SetDisabled(r.Context(), mux.Vars(r)["user"], disable, actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.people"), func(st int, msg string) { s.showPeople(w, r, st, msg) })
}

// roleChange grants or revokes a role from a form (op=grant|revoke); a
// grant may carry the role's last day (until, YYYY-MM-DD).
func (s *Server) roleChange(r *http.Request, city string) error {
	user, role := r.PostFormValue("username"), r.PostFormValue("role")
	if r.PostFormValue("op") == "revoke" {
		return s.auth.Revoke(r.Context(), user, role, city, actor(r))
	}
	until, err := auth.ParseDay("until", r.PostFormValue("until"))
	if err != nil {
		return err
	}
	return s.auth.GrantUntil(r.Context(), user, role, city, until, actor(r))
}

func (s *Server) adminRoleChange(w http.ResponseWriter, r *http.Request) {
	err := s.roleChange(r, r.PostFormValue("city"))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.roles.page"), func(st int, msg string) {
		s.showAdminPage(w, r, "admin_roles", "admin.roles", st, msg)
	})
}

type adminCityModel struct {
	Page
	City    wiki.City
	Members []auth.Member
	// People feeds the person picker of the grant form.
	People []auth.User
	Roles  []string
	Error  string
	// ReviewMonths is the city's default review interval (freshness).
	ReviewMonths int
}

func (s *Server) adminCityPage(w http.ResponseWriter, r *http.Request) {
	s.showAdminCity(w, r, http.StatusOK, "")
}

func (s *Server) showAdminCity(w http.ResponseWriter, r *http.Request, status int, msg string) {
	city, err := s.store.City(r.Context(), mux.Vars(r)["city"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	members, err := s.auth.Members(r.Context(), city.Slug)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	people, err := s.auth.Users(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &adminCityModel{City: city, Members: members, People: people, Roles: auth.Roles, Error: msg}
	if m.ReviewMonths, err = s.workflow.CityReviewMonths(r.Context(), city.Slug); err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T("admin.city_title", city.Name)
	m.Nav = "admin"
	s.render(w, r, status, "admin_city", m)
}

func (s *Server) adminCityRoleChange(w http.ResponseWriter, r *http.Request) {
	city := mux.Vars(r)["city"]
	back := s.url("admin.city", "city", city)
	if !slices.Contains(auth.Roles, r.PostFormValue("role")) {
		s.showAdminCity(w, r, http.StatusUnprocessableEntity, s.formError(r, &auth.InvalidError{Field: "role", Key: "role.unknown"}))
		return
	}
	err := s.roleChange(r, city)
	s.adminResult(w, r, err, "admin.saved", back, func(st int, msg string) { s.showAdminCity(w, r, st, msg) })
}

func (s *Server) adminCityPolicy(w http.ResponseWriter, r *http.Request) {
	city := mux.Vars(r)["city"]
	_, err := s.store.SetReviewPolicy(r.Context(), city, wiki.ReviewPolicy{
		RequiredApprovals: formNumber(r, "required_approvals"), ReviewDays: formNumber(r, "review_days")}, actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.city", "city", city), func(st int, msg string) { s.showAdminCity(w, r, st, msg) })
}

// formNumber reads a whole number from the form: nil when the field was
// not sent (it stays as it is), 0 when it does not parse (which the range
// checks report in words).
func formNumber(r *http.Request, field string) *int {
	v := r.PostFormValue(field) // parses the form
	if _, sent := r.PostForm[field]; !sent {
		return nil
	}
	n, _ := strconv.Atoi(strings.TrimSpace(v))
	return &n
}

// adminCityPortal saves the description and contact of the city's page.
func (s *Server) adminCityPortal(w http.ResponseWriter, r *http.Request) {
	city := mux.Vars(r)["city"]
	err := s.store.SetCityPortal(r.Context(), city, r.PostFormValue("description"), r.PostFormValue("contact"), actor(r))
	s.adminResult(w, r, err, "admin.saved", s.url("admin.city", "city", city), func(st int, msg string) { s.showAdminCity(w, r, st, msg) })
}
