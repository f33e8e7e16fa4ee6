package views

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/wiki"
)

// experienceJSON is the experience-report part shared by article, revision
// and change bodies.
type experienceJSON struct {
	Status    string `json:"status"`
	StartYear *int   `json:"start_year"`
	Cost      string `json:"cost"`
	CostBand  string `json:"cost_band"`
	Funding   string `json:"funding"`
	Partners  string `json:"partners"`
	Contact   string `json:"contact"`
	// AdoptedFrom is null when there is none, or when the caller may not
	// read it (see adoptedFromFor).
	AdoptedFrom *string `json:"adopted_from"`
}

func experienceOf(e wiki.Experience) experienceJSON {
	j := experienceJSON{Status: e.Status, Cost: e.Cost, CostBand: e.CostBand, Funding: e.Funding, Partners: e.Partners, Contact: e.Contact}
	if e.AdoptedFrom != "" {
		from := e.AdoptedFrom
		j.AdoptedFrom = &from
	}
	if e.StartYear != 0 {
		y := e.StartYear
		j.StartYear = &y
	}
	return j
}

type articleJSON struct {
	City       string    `json:"city"`
	Slug       string    `json:"slug"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	HTML       string    `json:"html"`
	Revision   int64     `json:"revision"`
	Topics     []string  `json:"topics"`
	Tags       []string  `json:"tags"`
	Visibility string    `json:"visibility"`
	UpdatedAt  time.Time `json:"updated_at"`
	Archived   bool      `json:"archived"`
	experienceJSON
	AdoptedBy []string `json:"adopted_by"`
}

type revisionJSON struct {
	ID           int64     `json:"id"`
	City         string    `json:"city"`
	Slug         string    `json:"slug"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	HTML         string    `json:"html"`
	Author       string    `json:"author"`
	Summary      string    `json:"summary"`
	CreatedAt    time.Time `json:"created_at"`
	Published    bool      `json:"published"`
	BaseRevision *int64    `json:"base_revision"`
	Topics       []string  `json:"topics"`
	Tags         []string  `json:"tags"`
	Visibility   string    `json:"visibility"`
	experienceJSON
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) apiCities(w http.ResponseWriter, r *http.Request) {
	cities, err := s.store.Cities(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cities)
}

type topicJSON struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

func (s *Server) apiTopics(w http.ResponseWriter, r *http.Request) {
	topics, err := s.store.Topics(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]topicJSON, len(topics))
	for i, t := range topics {
		out[i] = topicJSON{Slug: t.Slug, Name: t.NameDE, NameEN: t.NameEN}
	}
	writeJSON(w, http.StatusOK, out)
}

// intParam reads an optional non-negative integer query parameter.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("%s must be a whole number from 0 to %d: %w", name, max, errBadRequest)
	}
	return n, nil
}

func (s *Server) apiArticles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 100, 500)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 1<<30)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if limit == 0 {
		limit = 100
	}
	status, err := enumParam(r, "status", wiki.Statuses)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	list, err := s.store.ListArticles(r.Context(), s.readerOf(r), wiki.ListFilter{
		City: q.Get("city"), Topic: q.Get("topic"), Tag: q.Get("tag"), Status: status,
		Limit: limit, Offset: offset})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []wiki.ArticleSummary{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiArticle(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	a, err := s.store.Article(r.Context(), s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rev := &a.Revision
	by, err := s.store.AdoptedBy(r.Context(), s.readerOf(r), a.City, a.Slug)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	j := articleJSON{City: a.City, Slug: a.Slug, Title: rev.Title, Body: rev.Body,
		HTML: rev.HTML, Revision: rev.ID, Topics: nonNilStrings(rev.Topics), Tags: nonNilStrings(rev.Tags),
		Visibility: string(rev.Visibility), UpdatedAt: a.UpdatedAt, Archived: a.Archived,
		experienceJSON: s.experienceFor(r, rev.Experience), AdoptedBy: []string{}}
	for _, b := range by {
		j.AdoptedBy = append(j.AdoptedBy, b.City+"/"+b.Slug)
	}
	writeJSON(w, http.StatusOK, j)
}

// adoptedSource is the article e builds on, when the request may read it:
// one that it may not read is not mentioned at all.
func (s *Server) adoptedSource(r *http.Request, e wiki.Experience) *wiki.Article {
	if e.AdoptedFrom == "" {
		return nil
	}
	city, slug, _ := strings.Cut(e.AdoptedFrom, "/")
	a, err := s.store.Article(r.Context(), s.readerOf(r), city, slug)
	if err != nil {
		return nil
	}
	return a
}

// experienceFor is experienceOf for what the request may read.
func (s *Server) experienceFor(r *http.Request, e wiki.Experience) experienceJSON {
	if s.adoptedSource(r, e) == nil {
		e.AdoptedFrom = ""
	}
	return experienceOf(e)
}

func (s *Server) apiRevisions(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	list, err := s.store.Revisions(r.Context(), s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiRevision(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	id, err := strconv.ParseInt(v["id"], 10, 64)
	if err != nil {
		s.apiError(w, r, fmt.Errorf("revision id: %w", errBadRequest))
		return
	}
	rev, err := s.store.Revision(r.Context(), s.readerOf(r), v["city"], v["slug"], id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	j := revisionJSON{ID: rev.ID, City: rev.City, Slug: rev.Slug, Title: rev.Title, Body: rev.Body,
		HTML: rev.HTML, Author: rev.Author, Summary: rev.Summary, CreatedAt: rev.CreatedAt,
		Published: rev.PublishedAt != nil, Topics: nonNilStrings(rev.Topics), Tags: nonNilStrings(rev.Tags),
		Visibility: string(rev.Visibility), experienceJSON: s.experienceFor(r, rev.Experience)}
	if rev.BaseRevisionID != 0 {
		j.BaseRevision = &rev.BaseRevisionID
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(openAPIDocument)
}
