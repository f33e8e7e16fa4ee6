package views

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/search"
	"hansewiki/wiki/textdiff"
	"hansewiki/workflow"
)

const pageSize = 50

// pager is the model of a list's page navigation.
type pager struct {
	Page    int
	HasPrev bool
	HasNext bool
}

func pageParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 10000 {
		return 1
	}
	return n
}

// listPage loads one page of articles; it fetches one extra row to know
// whether a next page exists.
func (s *Server) listPage(r *http.Request, f wiki.ListFilter) ([]wiki.ArticleSummary, pager, error) {
	p := pager{Page: pageParam(r)}
	f.Limit, f.Offset = pageSize+1, (p.Page-1)*pageSize
	list, err := s.store.ListArticles(r.Context(), s.readerOf(r), f)
	if len(list) > pageSize {
		list, p.HasNext = list[:pageSize], true
	}
	p.HasPrev = p.Page > 1
	return list, p, err
}

type cityCount struct {
	wiki.City
	Count int
}

type topicCount struct {
	wiki.Topic
	Name  string
	Count int
}

type homeModel struct {
	Page
	Recent []wiki.ArticleSummary
	Cities []cityCount
	Topics []topicCount
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reader := s.readerOf(r)
	m := &homeModel{}
	m.Nav = "home"
	m.Title = s.catalogs[language(r)].T("home.title")
	var err error
	if m.Recent, err = s.store.ListArticles(ctx, reader, wiki.ListFilter{Limit: 8}); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Cities, m.Topics, err = s.overview(r); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", m)
}

// overview returns the cities and topics with the number of readable articles.
func (s *Server) overview(r *http.Request) ([]cityCount, []topicCount, error) {
	ctx := r.Context()
	byCity, byTopic, err := s.store.Counts(ctx, s.readerOf(r))
	if err != nil {
		return nil, nil, err
	}
	cities, err := s.store.Cities(ctx)
	if err != nil {
		return nil, nil, err
	}
	topics, err := s.store.Topics(ctx)
	if err != nil {
		return nil, nil, err
	}
	cc := make([]cityCount, len(cities))
	for i, c := range cities {
		cc[i] = cityCount{City: c, Count: byCity[c.Slug]}
	}
	// Listed as people say them: Lübeck, Neubrandenburg, Rostock, …
	slices.SortStableFunc(cc, func(a, b cityCount) int { return strings.Compare(a.ShortName(), b.ShortName()) })
	lang := language(r)
	tc := make([]topicCount, len(topics))
	for i, t := range topics {
		tc[i] = topicCount{Topic: t, Name: t.Name(lang), Count: byTopic[t.Slug]}
	}
	return cc, tc, nil
}

type citiesModel struct {
	Page
	Cities []cityCount
}

func (s *Server) citiesPage(w http.ResponseWriter, r *http.Request) {
	m := &citiesModel{}
	m.Nav = "cities"
	m.Title = s.catalogs[language(r)].T("cities.title")
	var err error
	if m.Cities, _, err = s.overview(r); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cities", m)
}

type cityModel struct {
	Page
	// Questions are the open questions to the city (members only).
	Questions []*workflow.Question
	CanCreate bool
	// CanFreshness: the reader may open the city's freshness page.
	CanFreshness bool
	City         wiki.City
	Articles     []wiki.ArticleSummary
	Pager        pager
}

func (s *Server) cityPage(w http.ResponseWriter, r *http.Request) {
	city, err := s.store.City(r.Context(), mux.Vars(r)["city"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &cityModel{City: city, CanCreate: s.auth.Can(auth.FromContext(r.Context()), auth.CreateArticle, city.Slug),
		CanFreshness: s.auth.Can(auth.FromContext(r.Context()), auth.ReadCityArticles, city.Slug)}
	m.Nav = "cities"
	m.Title = city.Name
	if m.Articles, m.Pager, err = s.listPage(r, wiki.ListFilter{City: city.Slug}); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Questions, err = s.openQuestions(r, workflow.QuestionFilter{City: city.Slug}); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "city", m)
}

type articleModel struct {
	Page
	Article   *wiki.Article
	Body      template.HTML // sanitized when the revision was written
	Backlinks []wiki.ArticleSummary
	// Old is set when an older revision is shown instead of the current one.
	Old *wiki.Revision
	// CanEdit: the user may propose a change; CanArchive: they may archive
	// it or bring it back. Whether they watch it, and their drafts of it,
	// are personal parts (personal.go).
	CanEdit    bool
	CanArchive bool
	// LD is the schema.org description of a public article (opendata.go).
	LD map[string]any
	// AdoptedFrom is the article of another city this one builds on, when
	// the reader may read it; AdoptedBy the readable articles that build
	// on this one; AdoptInto the cities where the reader may start an
	// article that adopts it.
	AdoptedFrom *wiki.Article
	AdoptedBy   []wiki.ArticleSummary
	AdoptInto   []string
	// Similar experiences from other cities.
	Similar []search.Hit
	// Comments below the current revision, for members who may read it;
	// CanHide: the reader administers the article's city. The edit and
	// delete forms of a comment are personal parts (comments.go).
	Comments   *workflow.CommentThread
	CanHide    bool
	CommentMax int
	// Freshness is the article's review state ("geprüft am", the hint on
	// stale articles); Stewards the people city admins may name owner or
	// deputy (CanHide: they administer the city).
	Freshness *workflow.Freshness
	Stewards  []auth.Member
}

// commentItem is one comment with its page, for the article-comment
// template.
type commentItem struct {
	M *articleModel
	C *workflow.ArticleComment
}

// personalize adds what the user's roles allow on an article page.
func (s *Server) personalize(r *http.Request, m *articleModel) {
	if id := auth.FromContext(r.Context()); id != nil {
		m.CanEdit = s.auth.Can(id, auth.ProposeChange, m.Article.City)
		m.CanArchive = s.auth.Can(id, auth.ArchiveArticle, m.Article.City)
	}
}

// Rev is the revision on show.
func (m *articleModel) Rev() *wiki.Revision {
	if m.Old != nil {
		return m.Old
	}
	return &m.Article.Revision
}

func (s *Server) articlePage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	reader := s.readerOf(r)
	a, err := s.store.Article(ctx, reader, v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &articleModel{Article: a, Body: template.HTML(a.Revision.HTML)}
	m.Title = a.Revision.Title
	if a.Revision.Visibility == wiki.Public {
		m.Description = firstParagraph(a.Revision.HTML, 200)
	}
	if m.Backlinks, err = s.store.Backlinks(ctx, reader, a.City, a.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.personalize(r, m)
	if id := auth.FromContext(ctx); id != nil {
		if m.Comments, err = s.workflow.ArticleComments(ctx, id, a.City, a.Slug); err != nil {
			s.htmlError(w, r, err)
			return
		}
		m.CanHide = s.auth.Can(id, auth.ManageCity, a.City)
		m.CommentMax = workflow.MaxCommentRunes
	}
	if err := s.articleFreshness(r, m); err != nil {
		s.htmlError(w, r, err)
		return
	}
	m.LD = s.articleLD(a, m.Old != nil)
	m.AdoptedFrom = s.adoptedSource(r, a.Revision.Experience)
	if m.AdoptedBy, err = s.store.AdoptedBy(ctx, reader, a.City, a.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	for _, c := range s.auth.CitiesWhere(auth.FromContext(ctx), auth.CreateArticle) {
		if c != auth.AllCities && c != a.City {
			m.AdoptInto = append(m.AdoptInto, c)
		}
	}
	if m.Old == nil {
		m.Similar = s.similarHits(r, a)
	}
	s.render(w, r, http.StatusOK, "article", m)
}

func (s *Server) revisionPage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	reader := s.readerOf(r)
	a, err := s.store.Article(ctx, reader, v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	id, _ := strconv.ParseInt(v["id"], 10, 64)
	rev, err := s.store.Revision(ctx, reader, a.City, a.Slug, id)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &articleModel{Article: a, Body: template.HTML(rev.HTML)}
	if rev.ID != a.Revision.ID {
		m.Old = rev
	}
	m.Title = rev.Title
	s.personalize(r, m)
	s.render(w, r, http.StatusOK, "article", m)
}

type historyModel struct {
	Page
	Article   *wiki.Article
	Revisions []wiki.RevisionSummary
	// Changes maps a revision to the change that published it, for the
	// changes the reader may open.
	Changes map[int64]int64
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	reader := s.readerOf(r)
	a, err := s.store.Article(ctx, reader, v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &historyModel{Article: a}
	m.Title = s.catalogs[language(r)].T("history.title", a.Revision.Title)
	if m.Revisions, err = s.store.Revisions(ctx, reader, a.City, a.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Changes, err = s.workflow.PublishedBy(ctx, auth.FromContext(ctx), a.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "history", m)
}

// fieldChange is one changed metadata field in a diff.
type fieldChange struct {
	Label    string
	From, To string
}

type diffModel struct {
	Page
	Article        *wiki.Article
	From, To       *wiki.Revision
	Fields         []fieldChange
	Diff           template.HTML // escaped by textdiff
	Added, Removed int
	Same           bool
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	reader := s.readerOf(r)
	a, err := s.store.Article(ctx, reader, v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	q := r.URL.Query()
	from, err1 := strconv.ParseInt(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(q.Get("to"), 10, 64)
	if q.Get("to") == "" {
		to, err2 = a.Revision.ID, nil
	}
	if err := errors.Join(err1, err2); err != nil {
		s.htmlError(w, r, fmt.Errorf("diff needs revision numbers: %w", wiki.ErrNotFound))
		return
	}
	if from > to {
		from, to = to, from
	}
	m := &diffModel{Article: a}
	if m.From, err = s.store.Revision(ctx, reader, a.City, a.Slug, from); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.To, err = s.store.Revision(ctx, reader, a.City, a.Slug, to); err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	m.Title = c.T("diff.title", a.Revision.Title)
	m.Fields = metadataChanges(c, s.topicNamer(language(r)), m.From, m.To)
	words := textdiff.Words(m.From.Body, m.To.Body)
	m.Added, m.Removed = textdiff.Stats(words)
	m.Same = m.From.Body == m.To.Body
	m.Diff = template.HTML(c.diffHTML(textdiff.Prose(m.From.Body, m.To.Body)))
	s.render(w, r, http.StatusOK, "diff", m)
}

func metadataChanges(c catalog, topicName func(string) string, a, b *wiki.Revision) []fieldChange {
	var out []fieldChange
	add := func(key, from, to string) {
		if from != to {
			out = append(out, fieldChange{Label: c.T(key), From: from, To: to})
		}
	}
	year := func(y int) string {
		if y == 0 {
			return ""
		}
		return strconv.Itoa(y)
	}
	status := func(s string) string {
		if s == "" {
			return ""
		}
		return c.T("status." + s)
	}
	vis := func(v wiki.Visibility) string {
		if v == "" {
			return ""
		}
		return c.T("visibility." + string(v))
	}
	add("field.title", a.Title, b.Title)
	add("field.visibility", vis(a.Visibility), vis(b.Visibility))
	topics := func(slugs []string) string {
		names := make([]string, len(slugs))
		for i, t := range slugs {
			names[i] = topicName(t)
		}
		return strings.Join(names, ", ")
	}
	add("field.topics", topics(a.Topics), topics(b.Topics))
	add("field.tags", strings.Join(a.Tags, ", "), strings.Join(b.Tags, ", "))
	add("field.status", status(a.Status), status(b.Status))
	add("field.start_year", year(a.StartYear), year(b.StartYear))
	band := func(s string) string {
		if s == "" {
			return ""
		}
		return c.T("cost_band." + s)
	}
	add("field.cost_band", band(a.CostBand), band(b.CostBand))
	add("field.cost", a.Cost, b.Cost)
	add("field.funding", a.Funding, b.Funding)
	add("field.partners", a.Partners, b.Partners)
	add("field.contact", a.Contact, b.Contact)
	return out
}

type topicsModel struct {
	Page
	Topics []topicCount
}

func (s *Server) topicsPage(w http.ResponseWriter, r *http.Request) {
	m := &topicsModel{}
	m.Nav = "topics"
	m.Title = s.catalogs[language(r)].T("topics.title")
	var err error
	if _, m.Topics, err = s.overview(r); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "topics", m)
}

type topicModel struct {
	Page
	// Questions are the topic's open questions (members only).
	Questions []*workflow.Question
	Topic     wiki.Topic
	Status    string
	// Reports compares the topic's experience reports across cities,
	// sorted by Sort (descending when Desc).
	Reports []wiki.Report
	Sort    string
	Desc    bool
}

// reportSorts are the columns the comparison can be sorted by.
var reportSorts = []string{"city", "title", "status", "start_year", "cost_band", "cost", "funding", "contact"}

// statusOrder sorts project stages by progress, not alphabetically.
var statusOrder = map[string]int{"idee": 1, "planung": 2, "umsetzung": 3, "abgeschlossen": 4}

// sortReports orders the comparison by column, stable so that equal rows
// keep their city order.
func sortReports(list []wiki.Report, column string, desc bool) {
	key := func(a wiki.Report) string {
		e := a.Experience
		switch column {
		case "title":
			return strings.ToLower(a.Title)
		case "status":
			return strconv.Itoa(statusOrder[e.Status])
		case "start_year":
			return fmt.Sprintf("%05d", e.StartYear)
		case "cost_band": // by amount; none first
			return strconv.Itoa(slices.Index(wiki.CostBands, e.CostBand) + 1)
		case "cost":
			return strings.ToLower(e.Cost)
		case "funding":
			return strings.ToLower(e.Funding)
		case "contact":
			return strings.ToLower(e.Contact)
		}
		// The slug, not the name: names start with "Hansestadt" and the
		// like, slugs with what people call the city.
		return a.City
	}
	slices.SortStableFunc(list, func(a, b wiki.Report) int {
		c := strings.Compare(key(a), key(b))
		if desc {
			return -c
		}
		return c
	})
}

// topicReports reads the comparison of a topic for the request: the
// reports the reader may read, filtered by status and sorted.
func (s *Server) topicReports(r *http.Request, topic string) (status, column string, desc bool, list []wiki.Report, err error) {
	if status, err = enumParam(r, "status", wiki.Statuses); err != nil {
		return
	}
	if column, err = enumParam(r, "sort", reportSorts); err != nil {
		return
	}
	if column == "" {
		column = "city"
	}
	desc = r.URL.Query().Get("order") == "desc"
	all, err := s.store.Reports(r.Context(), s.readerOf(r), topic)
	if err != nil {
		return
	}
	for _, a := range all {
		if status == "" || a.Experience.Status == status {
			list = append(list, a)
		}
	}
	sortReports(list, column, desc)
	return
}

func (s *Server) topicPage(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.Topic(r.Context(), mux.Vars(r)["topic"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &topicModel{Topic: t}
	m.Nav = "topics"
	m.Title = t.Name(language(r))
	if m.Status, m.Sort, m.Desc, m.Reports, err = s.topicReports(r, t.Slug); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Questions, err = s.openQuestions(r, workflow.QuestionFilter{Topic: t.Slug}); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "topic", m)
}

// topicCSV is the comparison of a topic as CSV, as the reader sees it.
func (s *Server) topicCSV(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.Topic(r.Context(), mux.Vars(r)["topic"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	_, _, _, list, err := s.topicReports(r, t.Slug)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{c.T("field.city"), c.T("field.title"), c.T("field.status"), c.T("field.start_year"),
		c.T("field.cost_band"), c.T("field.cost"), c.T("field.funding"), c.T("field.contact"), "URL"})
	for _, a := range list {
		e := a.Experience
		status, year, band := "", "", ""
		if e.Status != "" {
			status = c.T("status." + e.Status)
		}
		if e.CostBand != "" {
			band = c.T("cost_band." + e.CostBand)
		}
		if e.StartYear != 0 {
			year = strconv.Itoa(e.StartYear)
		}
		cw.Write([]string{a.CityName, csvSafe(a.Title), status, year, band, csvSafe(e.Cost), csvSafe(e.Funding), csvSafe(e.Contact),
			s.absolute(s.url("article", "city", a.City, "slug", a.Slug))})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+t.Slug+`-vergleich.csv"`)
	w.Write(buf.Bytes())
}
