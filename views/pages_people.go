package views

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// person is one account on the people page, with its roles.
type person struct {
	auth.User
	Roles []auth.Member
}

type peopleModel struct {
	Page
	People []person
	// All is every account, for the person picker (a datalist).
	All    []auth.User
	Cities []wiki.City
	Query  string
	Error  string
	// OwnCity preselects the city of forms: the admin's own, if one.
	OwnCity string
}

func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request) {
	s.showPeople(w, r, http.StatusOK, "")
}

func (s *Server) showPeople(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	users, err := s.auth.Users(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	members, err := s.auth.Members(ctx, "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	cities, err := s.store.Cities(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &peopleModel{All: users, Cities: cities, Query: strings.TrimSpace(r.URL.Query().Get("q")), Error: msg,
		OwnCity: ownCity(auth.FromContext(ctx))}
	q := strings.ToLower(m.Query)
	for _, u := range users {
		if q != "" && !strings.Contains(strings.ToLower(u.Username+" "+u.DisplayName+" "+u.Email), q) {
			continue
		}
		p := person{User: u}
		for _, mb := range members {
			if mb.Username == u.Username {
				p.Roles = append(p.Roles, mb)
			}
		}
		m.People = append(m.People, p)
	}
	m.Title = s.catalogs[language(r)].T("admin.people")
	m.Nav = "admin"
	s.render(w, r, status, "admin_people", m)
}

// ownCity is the first city in which id holds a role of its own, the
// default city of administration forms ("" for none).
func ownCity(id *auth.Identity) string {
	for _, g := range id.Grants {
		if g.City != auth.AllCities {
			return g.City
		}
	}
	return ""
}

type confirmModel struct {
	Page
	Question string
	Action   string
	Fields   map[string]string
	Back     string
}

// disableConfirm asks before an account is disabled; the form works
// without JavaScript.
func (s *Server) disableConfirm(w http.ResponseWriter, r *http.Request) {
	user, err := s.auth.User(r.Context(), mux.Vars(r)["user"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	m := &confirmModel{Question: c.T("people.disable_question", user.Username), Action: s.url("admin.user.disable", "user", user.Username),
		Fields: map[string]string{"disabled": "true"}, Back: s.url("admin.people")}
	m.Title = c.T("people.disable_title")
	m.Nav = "admin"
	s.render(w, r, http.StatusOK, "confirm", m)
}

// archiveConfirm asks before an article is archived.
func (s *Server) archiveConfirm(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	a, err := s.store.Article(r.Context(), s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	back := s.url("article", "city", v["city"], "slug", v["slug"])
	m := &confirmModel{Question: c.T("confirm.archive_question", a.Revision.Title), Action: s.url("article.archive", "city", v["city"], "slug", v["slug"]),
		Fields: map[string]string{"archive": "on"}, Back: back}
	m.Title = c.T("confirm.archive_title")
	s.render(w, r, http.StatusOK, "confirm", m)
}

// withdrawConfirm asks before a change is withdrawn (404 to whoever may
// not see it).
func (s *Server) withdrawConfirm(w http.ResponseWriter, r *http.Request) {
	ch, err := s.workflow.MayDo(r.Context(), auth.FromContext(r.Context()), changeID(r), workflow.ActWithdraw)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	id := strconv.FormatInt(ch.ID, 10)
	m := &confirmModel{Question: c.T("confirm.withdraw_question", ch.Title), Action: s.url("change.action", "id", id),
		Fields: map[string]string{"action": "withdraw"}, Back: s.url("change", "id", id)}
	m.Title = c.T("confirm.withdraw_title")
	s.render(w, r, http.StatusOK, "confirm", m)
}
