package views

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/search"
	"hansewiki/workflow"
)

const searchPageSize = 20

// searchQuestions bounds the questions a search lists beside its hits.
const searchQuestions = 10

// searchQuery reads a search from the URL: q, city, topic, tag, status,
// start_year, cost_band and funding (repeatable), sort, and page or
// limit/offset.
func searchQuery(r *http.Request, pageSize int) (search.Query, int, error) {
	v := r.URL.Query()
	statuses, err := enumParams(r, "status", wiki.Statuses)
	if err != nil {
		return search.Query{}, 0, err
	}
	bands, err := enumParams(r, "cost_band", wiki.CostBands)
	if err != nil {
		return search.Query{}, 0, err
	}
	var years []int
	for _, y := range v["start_year"] {
		if y = strings.TrimSpace(y); y == "" {
			continue
		}
		n, err := strconv.Atoi(y)
		if err != nil || n < 1900 || n > 2200 {
			return search.Query{}, 0, &wiki.InvalidError{Field: "start_year", Key: "start_year.range",
				Message: "start_year must be a year from 1900 to 2200"}
		}
		years = append(years, n)
	}
	q := search.Query{Text: v.Get("q"), Cities: v["city"], Topics: v["topic"], Tags: v["tag"], Statuses: statuses,
		StartYears: years, CostBands: bands, Fundings: v["funding"], Sort: search.Sort(v.Get("sort"))}
	if q.Sort == "relevance" {
		q.Sort = search.ByRelevance
	}
	page := 1
	if isAPI(r) {
		limit, err := intParam(r, "limit", search.DefaultLimit, search.MaxLimit)
		if err != nil {
			return q, 0, err
		}
		offset, err := intParam(r, "offset", 0, 10000)
		if err != nil {
			return q, 0, err
		}
		q.Limit, q.Offset = limit, offset
	} else {
		page = pageParam(r)
		q.Limit, q.Offset = pageSize, (page-1)*pageSize
	}
	return q, page, nil
}

// searchJSON is the result shape of GET /api/v1/search.
type searchJSON struct {
	Total      int                       `json:"total"`
	Hits       []search.Hit              `json:"hits"`
	Facets     map[string]map[string]int `json:"facets"`
	DidYouMean string                    `json:"did_you_mean,omitempty"`
	// TagLabels spells the tags of the facets as the articles write them.
	TagLabels map[string]string `json:"tag_labels"`
	// Questions matching the text, for members only (questions are
	// network-visible); absent for anonymous readers.
	Questions *[]*workflow.Question `json:"questions,omitempty"`
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q, _, err := searchQuery(r, 0)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	questions := s.searchQuestions(r, q)
	res, err := s.search.Search(r.Context(), s.readerOf(r), q)
	qs, qerr := questions()
	if err == nil {
		err = qerr
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	hits := res.Hits
	if hits == nil {
		hits = []search.Hit{}
	}
	out := searchJSON{Total: res.Total, Hits: hits, DidYouMean: res.DidYouMean,
		Facets: map[string]map[string]int{"city": res.Facets.City, "topics": res.Facets.Topics, "tags": res.Facets.Tags,
			"status": res.Facets.Status, "start_year": res.Facets.StartYear, "cost_band": res.Facets.CostBand,
			"funding": res.Facets.Funding},
		TagLabels: s.tagLabels(r.Context(), slices.Collect(maps.Keys(res.Facets.Tags)))}
	if qs != nil {
		out.Questions = &qs
	}
	writeJSON(w, http.StatusOK, out)
}

// apiSuggest answers type-ahead titles for the search box.
func (s *Server) apiSuggest(w http.ResponseWriter, r *http.Request) {
	prefix := strings.TrimSpace(r.URL.Query().Get("q"))
	if prefix == "" {
		writeJSON(w, http.StatusOK, []search.Suggestion{})
		return
	}
	list, err := s.search.Suggest(r.Context(), s.readerOf(r), prefix, 8)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []search.Suggestion{}
	}
	writeJSON(w, http.StatusOK, list)
}

// facetItem is one value of a facet with its count and the URL that
// toggles it.
type facetItem struct {
	Value string
	Label string
	// Lang is set when the label is German text on a page in another
	// language (a funding programme as written).
	Lang     string
	Count    int
	Selected bool
	URL      string
}

type facetGroup struct {
	Name  string // query parameter
	Label string
	Items []facetItem
}

type searchModel struct {
	Page
	Q          string
	Sort       string
	Result     *search.Result
	Searched   bool
	Groups     []facetGroup
	CityNames  map[string]string
	Pager      pager
	PrevURL    string
	NextURL    string
	DidYouMean string
	SortURLs   map[string]string
	First      int
	Last       int
	Active     []facetItem // selected filters, each with its removal URL
	// Questions matching the text, for members (questions are
	// network-visible; the page is cached per role set).
	Questions []*workflow.Question
	Error     string
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := s.catalogs[language(r)]
	q, page, err := searchQuery(r, searchPageSize)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &searchModel{Q: q.Text, Sort: string(q.Sort), CityNames: map[string]string{}}
	m.Query, m.Nav = q.Text, "search"
	m.Title = c.T("search.title")
	if q.Text != "" {
		m.Title = c.T("search.title_q", q.Text)
	}
	cities, err := s.store.Cities(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, ct := range cities {
		m.CityNames[ct.Slug] = ct.Name
	}
	status := http.StatusOK
	m.Searched = q.Text != "" || len(q.Cities)+len(q.Topics)+len(q.Tags)+len(q.Statuses)+
		len(q.StartYears)+len(q.CostBands)+len(q.Fundings) > 0
	if m.Searched {
		questions := s.searchQuestions(r, q)
		res, err := s.search.Search(ctx, s.readerOf(r), q)
		qs, qerr := questions()
		var inv *wiki.InvalidError
		switch {
		case errors.As(err, &inv):
			m.Error = c.formText(err)
			status = http.StatusUnprocessableEntity
		case err != nil:
			s.serverError(w, r, err)
			return
		case qerr != nil:
			s.serverError(w, r, qerr)
			return
		default:
			m.Result, m.Questions = res, qs
		}
	}
	base := r.URL.Query()
	base.Del("page")
	link := func(v url.Values) string {
		if enc := v.Encode(); enc != "" {
			return s.url("search") + "?" + enc
		}
		return s.url("search")
	}
	if m.Result != nil {
		m.Pager = pager{Page: page, HasPrev: page > 1, HasNext: q.Offset+len(m.Result.Hits) < m.Result.Total}
		m.First, m.Last = q.Offset+1, q.Offset+len(m.Result.Hits)
		if m.Pager.HasPrev {
			v := cloneValues(base)
			v.Set("page", strconv.Itoa(page-1))
			m.PrevURL = link(v)
		}
		if m.Pager.HasNext {
			v := cloneValues(base)
			v.Set("page", strconv.Itoa(page+1))
			m.NextURL = link(v)
		}
		if m.Result.DidYouMean != "" {
			v := cloneValues(base)
			v.Set("q", m.Result.DidYouMean)
			m.DidYouMean = link(v)
		}
		topicNames := s.topicNames()
		// Only tags of readable matches are spelt from the word list: a
		// tag typed into the URL could otherwise ask whether any article,
		// hidden ones included, has the word.
		tagLabels := s.tagLabels(ctx, slices.Collect(maps.Keys(m.Result.Facets.Tags)))
		label := map[string]func(string) string{
			"city":       func(v string) string { return orValue(m.CityNames[v], v) },
			"topic":      func(v string) string { return orValue(topicNames[v].Name(language(r)), v) },
			"tag":        func(v string) string { return orValue(tagLabels[v], v) },
			"status":     func(v string) string { return c.T("status." + v) },
			"start_year": func(v string) string { return v },
			"cost_band":  func(v string) string { return c.T("cost_band." + v) },
			"funding":    func(v string) string { return v },
		}
		groups := []struct {
			param, key string
			counts     map[string]int
		}{
			{"city", "search.facet.city", m.Result.Facets.City},
			{"topic", "search.facet.topic", m.Result.Facets.Topics},
			{"status", "search.facet.status", m.Result.Facets.Status},
			{"start_year", "search.facet.start_year", m.Result.Facets.StartYear},
			{"cost_band", "search.facet.cost_band", m.Result.Facets.CostBand},
			{"funding", "search.facet.funding", m.Result.Facets.Funding},
			{"tag", "search.facet.tag", m.Result.Facets.Tags},
		}
		for _, g := range groups {
			fg := facetGroup{Name: g.param, Label: c.T(g.key)}
			selected := base[g.param]
			values := make([]string, 0, len(g.counts))
			for v := range g.counts {
				values = append(values, v)
			}
			for _, v := range selected {
				if _, ok := g.counts[v]; !ok {
					values = append(values, v)
				}
			}
			sort.Slice(values, func(i, j int) bool {
				switch g.param {
				case "cost_band": // in ascending order of cost
					return slices.Index(wiki.CostBands, values[i]) < slices.Index(wiki.CostBands, values[j])
				case "start_year": // newest first
					return values[i] > values[j]
				}
				ci, cj := g.counts[values[i]], g.counts[values[j]]
				if ci != cj {
					return ci > cj
				}
				return values[i] < values[j]
			})
			if len(values) > 15 && (g.param == "tag" || g.param == "funding") {
				values = values[:15]
			}
			for _, v := range values {
				it := facetItem{Value: v, Label: label[g.param](v), Count: g.counts[v], Selected: slices.Contains(selected, v)}
				if g.param == "funding" && language(r) != "de" {
					it.Lang = "de"
				}
				t := cloneValues(base)
				if it.Selected {
					t[g.param] = slices.DeleteFunc(slices.Clone(t[g.param]), func(x string) bool { return x == v })
				} else {
					t.Add(g.param, v)
				}
				it.URL = link(t)
				if it.Selected {
					m.Active = append(m.Active, it)
				}
				fg.Items = append(fg.Items, it)
			}
			if len(fg.Items) > 0 {
				m.Groups = append(m.Groups, fg)
			}
		}
	}
	m.SortURLs = map[string]string{}
	for _, so := range []string{"relevance", "updated_at", "title"} {
		v := cloneValues(base)
		v.Set("sort", so)
		m.SortURLs[so] = link(v)
	}
	if m.Sort == "" {
		m.Sort = "relevance"
	}
	s.render(w, r, status, "search", m)
}

// searchQuestions starts looking up the questions matching q's text for a
// member (questions are network-visible: never for anonymous readers),
// beside the article search, so it adds no latency of its own; the function
// returned waits for them. Without a member or text it answers nil at once.
func (s *Server) searchQuestions(r *http.Request, q search.Query) func() ([]*workflow.Question, error) {
	id := auth.FromContext(r.Context())
	if id == nil || strings.TrimSpace(q.Text) == "" {
		return func() ([]*workflow.Question, error) { return nil, nil }
	}
	type answer struct {
		list []*workflow.Question
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		list, err := s.workflow.Questions(r.Context(), id, workflow.QuestionFilter{Text: q.Text, Limit: searchQuestions})
		if list == nil {
			list = []*workflow.Question{}
		}
		ch <- answer{list, err}
	}()
	return func() ([]*workflow.Question, error) {
		a := <-ch
		return a.list, a.err
	}
}

// tagLabels returns tags as the articles write them ("ÖPNV" for the stored
// "öpnv"); a tag without such a spelling, or any when the word list cannot
// be asked, is shown as stored.
func (s *Server) tagLabels(ctx context.Context, tags []string) map[string]string {
	out := map[string]string{}
	if sp, ok := s.search.(interface {
		TagLabels(context.Context, []string) (map[string]string, error)
	}); ok && len(tags) > 0 {
		m, err := sp.TagLabels(ctx, tags)
		if err != nil {
			s.log.Warn("tag labels", "err", err)
		}
		out = m
	}
	for _, t := range tags {
		if out[t] == "" {
			out[t] = t
		}
	}
	return out
}

// tagLabel is tagLabels for one tag, for templates.
func (s *Server) tagLabel(tag string) string {
	return s.tagLabels(context.Background(), []string{tag})[tag]
}

func orValue(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// similarHits are experiences from other cities shown on an article page.
func (s *Server) similarHits(r *http.Request, a *wiki.Article) []search.Hit {
	hits, err := s.search.Similar(r.Context(), s.readerOf(r), a.City, a.Slug, 5)
	if err != nil {
		s.log.Warn("similar articles", "err", err, "article", a.City+"/"+a.Slug)
		return nil
	}
	return hits
}
