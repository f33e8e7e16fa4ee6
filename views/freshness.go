package views

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// Freshness and ownership (issue 14): the city's list of stale articles,
// the "Ja, noch aktuell" confirmation (a personal part of the article
// page: owner and deputy are people, not roles), the owner, deputy and
// interval of an article and the city's default interval (city admins),
// the weekly digest's opt-in, and their API.

type freshnessModel struct {
	Page
	City     wiki.City
	Articles []workflow.Freshness
	Months   int
}

func (s *Server) freshnessPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	city, err := s.store.City(ctx, mux.Vars(r)["city"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &freshnessModel{City: city}
	if m.Articles, err = s.workflow.StaleArticles(ctx, auth.FromContext(ctx), city.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Months, err = s.workflow.CityReviewMonths(ctx, city.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T("freshness.title", city.Name)
	m.Nav = "cities"
	s.render(w, r, http.StatusOK, "freshness", m)
}

// confirmControls is the personal part with the confirmation button.
type confirmControls struct {
	F    *workflow.Freshness
	CSRF string
}

// confirmPart is the "Ja, noch aktuell" form for a reader who may confirm
// the article, nil for everyone else.
func (f *filler) confirmPart(articleID int64) *confirmControls {
	if f.id == nil {
		return nil
	}
	fr, err := f.s.workflow.Confirmable(f.ctx, f.id, articleID)
	if err != nil {
		f.s.log.Warn("reading an article's freshness", "err", err, "article", articleID)
	}
	if fr == nil {
		return nil
	}
	c := &confirmControls{F: fr}
	if authMethod(f.ctx) != viaToken {
		c.CSRF = f.s.csrfToken(f.r)
	}
	return c
}

func (s *Server) articleConfirm(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if _, err := s.workflow.Confirm(r.Context(), s.meta(r), v["city"], v["slug"]); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "freshness.confirmed", s.url("article", "city", v["city"], "slug", v["slug"]))
}

// stewardsForm reads the article form of city admins: owner and deputy by
// user name ("": the city's admins, no deputy), the interval in months
// ("": the city's default).
func stewardsForm(r *http.Request) workflow.Stewards {
	owner, deputy := r.PostFormValue("owner"), r.PostFormValue("deputy")
	months := 0
	if v := strings.TrimSpace(r.PostFormValue("review_months")); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			months = n
		} else {
			months = -1 // reported by the range check
		}
	}
	return workflow.Stewards{Owner: &owner, Deputy: &deputy, ReviewMonths: &months}
}

func (s *Server) articleStewards(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	back := s.url("article", "city", v["city"], "slug", v["slug"])
	_, err := s.workflow.SetStewards(r.Context(), s.meta(r), v["city"], v["slug"], stewardsForm(r))
	switch {
	case err == nil:
		s.flash(w, r, "admin.saved", back+"#stewards-title")
	case errors.Is(err, wiki.ErrInvalid):
		s.flash(w, r, "freshness.invalid", back+"#stewards-title", s.formError(r, err))
	default:
		s.htmlError(w, r, err)
	}
}

// adminCityFreshness sets the city's default review interval.
func (s *Server) adminCityFreshness(w http.ResponseWriter, r *http.Request) {
	city := mux.Vars(r)["city"]
	n, err := strconv.Atoi(r.PostFormValue("review_months"))
	if err != nil {
		n = 0 // reported by the range check
	}
	err = s.workflow.SetCityReviewMonths(r.Context(), s.meta(r), city, n)
	s.adminResult(w, r, err, "admin.saved", s.url("admin.city", "city", city), func(st int, msg string) { s.showAdminCity(w, r, st, msg) })
}

func (s *Server) accountDigest(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("digest") == "on"
	if err := s.workflow.SetDigest(r.Context(), s.meta(r), on); err != nil {
		s.serverError(w, r, err)
		return
	}
	key := "digest.off"
	if on {
		key = "digest.on"
	}
	s.flash(w, r, key, s.url("account")+"#digest-title")
}

// readableFreshness is the review state of an article the reader may read.
func (s *Server) readableFreshness(r *http.Request) (*workflow.Freshness, error) {
	v := mux.Vars(r)
	a, err := s.store.Article(r.Context(), s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		return nil, err
	}
	return s.workflow.ArticleFreshness(r.Context(), a.ID)
}

func (s *Server) apiFreshness(w http.ResponseWriter, r *http.Request) {
	f, err := s.readableFreshness(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) apiFreshnessUpdate(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	var b workflow.Stewards
	if err := decodeJSON(w, r, &b, 4<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	f, err := s.workflow.SetStewards(r.Context(), s.meta(r), v["city"], v["slug"], b)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) apiConfirm(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	// No body, or an empty object; anything else is a mistake worth saying.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<10))
	if err != nil {
		s.apiError(w, r, fmt.Errorf("the request body exceeds 1024 bytes: %w", wiki.ErrTooLarge))
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decodeJSON(w, r, &struct{}{}, 1<<10); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	f, err := s.workflow.Confirm(r.Context(), s.meta(r), v["city"], v["slug"])
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// articleFreshness adds the article's review state to its page, and for
// the city's admins the people they may name owner or deputy.
func (s *Server) articleFreshness(r *http.Request, m *articleModel) error {
	f, err := s.workflow.ArticleFreshness(r.Context(), m.Article.ID)
	if errors.Is(err, wiki.ErrNotFound) {
		return nil // archived: nobody is asked about it
	}
	if err != nil {
		return err
	}
	m.Freshness = f
	if !m.CanHide {
		return nil
	}
	members, err := s.auth.Members(r.Context(), m.Article.City)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range members {
		if !seen[p.Username] {
			seen[p.Username] = true
			m.Stewards = append(m.Stewards, p)
		}
	}
	for _, name := range []string{f.Owner, f.Deputy} {
		if name != "" && !seen[name] {
			seen[name] = true
			m.Stewards = append(m.Stewards, auth.Member{Username: name})
		}
	}
	return nil
}
