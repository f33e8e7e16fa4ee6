package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meilisearch/meilisearch-go"

	"hansewiki/wiki"
)

// DefaultIndex is the Meilisearch index the wiki searches.
const DefaultIndex = "articles"

// Meili searches with Meilisearch. PostgreSQL still answers the two
// questions the index cannot: whether a reader may see the article Similar
// starts from, and which correction "did you mean" offers.
type Meili struct {
	client   meilisearch.ServiceManager
	index    string
	pg       *PG
	url, key string
}

// NewMeili returns the Meilisearch backend for the index uid (DefaultIndex
// when empty) on the server at url.
func NewMeili(url, apiKey, index string, pg *PG) *Meili {
	if index == "" {
		index = DefaultIndex
	}
	// The default transport keeps two idle connections per host; searches
	// from many requests at once would open a new one each time.
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	client := meilisearch.New(url, meilisearch.WithAPIKey(apiKey),
		meilisearch.WithCustomClient(&http.Client{Transport: transport}),
		// Retries would hold a search for seconds while Meilisearch is
		// down; the service falls back to PostgreSQL instead, and the
		// outbox worker retries with its own backoff.
		meilisearch.DisableRetries())
	return &Meili{client: client, index: index, pg: pg, url: url, key: apiKey}
}

// Index is the uid of the index searched.
func (m *Meili) Index() string { return m.index }

// Client exposes the Meilisearch client (reindex, tests).
func (m *Meili) Client() meilisearch.ServiceManager { return m.client }

// Healthy reports whether Meilisearch answers its health check.
func (m *Meili) Healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	h, err := m.client.HealthWithContext(ctx)
	return err == nil && h.Status == "available"
}

// unavailable reports whether err means Meilisearch could not be reached
// or could not work (as opposed to refusing a request or a document).
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var me *meilisearch.Error
	if errors.As(err, &me) {
		switch me.ErrCode {
		case meilisearch.MeilisearchCommunicationError, meilisearch.MeilisearchTimeoutError, meilisearch.MeilisearchMaxRetriesExceeded:
			return true
		}
		return me.StatusCode >= 500
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// searchLocales makes Meilisearch read queries with its plain Latin
// tokenizer. Only the compounds field is segmented as German; a query read
// as German is cut into fragments ("Nahverkehr" into "na", "hv", "er",
// "kehr") that no longer match synonyms or the unsegmented fields.
var searchLocales = []string{"eng"}

// meiliHit is the part of a Meilisearch hit the result needs.
type meiliHit struct {
	City      string   `json:"city"`
	Slug      string   `json:"slug"`
	Title     string   `json:"title"`
	UpdatedAt int64    `json:"updated_at"`
	Topics    []string `json:"topics"`
	Status    string   `json:"status"`
	Formatted struct {
		Text string `json:"text"`
	} `json:"_formatted"`
	Details *struct {
		Typo *struct {
			TypoCount int `json:"typoCount"`
		} `json:"typo"`
	} `json:"_rankingScoreDetails"`
}

type meiliResponse struct {
	Hits []meiliHit `json:"hits"`
	// TotalHits is exact (page mode); EstimatedTotalHits, answered for
	// an offset that is not a page boundary, is not.
	TotalHits          *int                      `json:"totalHits"`
	EstimatedTotalHits int                       `json:"estimatedTotalHits"`
	FacetDistribution  map[string]map[string]int `json:"facetDistribution"`
}

// unapplied returns a filter that leaves out the articles r may not read as
// they are now but whose narrowing (another visibility, archived, moved,
// unpublished) Meilisearch has not applied yet: the publishing transaction
// queues them in the outbox, and the worker removes the row only after
// Meilisearch has applied the change. Without it, a search right after an
// approval answered could still find an article that just became
// city-only, for as long as the worker takes. It is "" when nothing is
// pending for r.
func (m *Meili) unapplied(ctx context.Context, r wiki.Reader) (string, error) {
	var args []any
	readable := SQLFilter(r, "v.visibility", "a.city", &args)
	rows, _ := m.pg.pool.Query(ctx, `SELECT DISTINCT o.article_id FROM search_outbox o
		LEFT JOIN articles a ON a.id = o.article_id
		LEFT JOIN revisions v ON v.id = a.published_revision_id
		WHERE a.id IS NULL OR a.archived OR v.id IS NULL OR NOT `+readable, args...)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return "", fmt.Errorf("search: reading the outbox: %w", err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "NOT id IN [" + strings.Join(s, ", ") + "]", nil
}

// readerFilters is the reader's filter, together with the exclusion of
// articles whose narrowing Meilisearch has not applied yet.
func (m *Meili) readerFilters(ctx context.Context, r wiki.Reader) ([]string, error) {
	f := []string{MeiliFilter(r)}
	pending, err := m.unapplied(ctx, r)
	if pending != "" {
		f = append(f, pending)
	}
	return f, err
}

// filters is the reader's filter and the query's, all of which must hold.
func meiliFilters(r wiki.Reader, q Query) []string {
	f := []string{MeiliFilter(r)}
	in := func(attr string, vs []string) {
		if len(vs) == 0 {
			return
		}
		quoted := make([]string, len(vs))
		for i, v := range vs {
			quoted[i] = meiliString(v)
		}
		f = append(f, attr+" IN ["+strings.Join(quoted, ", ")+"]")
	}
	in("city", q.Cities)
	in("topics", q.Topics)
	in("tags", q.Tags)
	in("status", q.Statuses)
	in("cost_band", q.CostBands)
	in("funding", q.Fundings)
	if len(q.StartYears) > 0 {
		years := make([]string, len(q.StartYears))
		for i, y := range q.StartYears {
			years[i] = strconv.Itoa(y)
		}
		f = append(f, "start_year IN ["+strings.Join(years, ", ")+"]")
	}
	in("visibility", q.Visibilities)
	return f
}

// searchRequest is the request Search sends for q; benchmarks send the same
// one straight to Meilisearch as the reference.
func (m *Meili) searchRequest(r wiki.Reader, q Query) *meilisearch.SearchRequest {
	req := &meilisearch.SearchRequest{
		Query:                 q.Text,
		Filter:                meiliFilters(r, q),
		Facets:                facetNames,
		AttributesToRetrieve:  []string{"city", "slug", "title", "updated_at", "topics", "status"},
		AttributesToCrop:      []string{"text"},
		CropLength:            32,
		CropMarker:            "…",
		AttributesToHighlight: []string{"text"},
		HighlightPreTag:       markStart,
		HighlightPostTag:      markEnd,
		MatchingStrategy:      meilisearch.All, // every word, like PostgreSQL
		Locales:               searchLocales,
	}
	// Page mode counts the matches (and facet values) exactly, up to
	// maxTotalHits; limit and offset only estimate them. Pages of the UI
	// and most API calls fall on page boundaries.
	if q.Limit > 0 && q.Offset%q.Limit == 0 {
		perPage := int64(q.Limit)
		req.HitsPerPage, req.Page = &perPage, int64(q.Offset/q.Limit)+1
	} else {
		req.Limit, req.Offset = int64(q.Limit), int64(q.Offset)
	}
	switch {
	case q.Sort == ByTitle:
		req.Sort = []string{"title_sort:asc", "id:asc"}
	case q.Sort == ByUpdated || q.Text == "":
		req.Sort = []string{"updated_at:desc", "id:desc"}
	}
	if q.Text != "" {
		// The typo counts of the hits say whether the words as typed
		// matched, i.e. whether "did you mean" is worth asking.
		req.ShowRankingScoreDetails = true
	}
	return req
}

// Search runs q on Meilisearch for r.
func (m *Meili) Search(ctx context.Context, r wiki.Reader, q Query) (*Result, error) {
	q, err := q.normalize()
	if err != nil {
		return nil, err
	}
	// Meilisearch forgives typos of words in the index, not of synonyms:
	// a typo of a synonym term is sent as the term.
	sent, rewritten := synonymTyposFixed(q.Text)
	mq := q
	mq.Text = sent
	req := m.searchRequest(r, mq)
	pending, err := m.unapplied(ctx, r)
	if err != nil {
		return nil, err
	}
	if pending != "" {
		req.Filter = append(req.Filter.([]string), pending)
	}
	raw, err := m.client.Index(m.index).SearchRawWithContext(ctx, sent, req)
	if err != nil {
		return nil, fmt.Errorf("meilisearch search: %w", err)
	}
	var resp meiliResponse
	if err := json.Unmarshal(*raw, &resp); err != nil {
		return nil, fmt.Errorf("meilisearch search: %w", err)
	}
	res := &Result{Total: resp.EstimatedTotalHits, Hits: make([]Hit, 0, len(resp.Hits)), Facets: newFacets(), Engine: EngineMeilisearch}
	if resp.TotalHits != nil {
		res.Total = *resp.TotalHits
	}
	for name, values := range resp.FacetDistribution {
		into := res.Facets.facet(name)
		for k, n := range values {
			if into != nil && k != "" {
				into[k] = n
			}
		}
	}
	for _, h := range resp.Hits {
		hit := Hit{City: h.City, Slug: h.Slug, Title: h.Title, UpdatedAt: time.Unix(h.UpdatedAt, 0).UTC(),
			Topics: h.Topics, Status: h.Status}
		if q.Text != "" {
			hit.Snippet = markedHTML(h.Formatted.Text)
		} else {
			hit.Snippet = leadSnippet(h.Formatted.Text)
		}
		if hit.Topics == nil {
			hit.Topics = []string{}
		}
		res.Hits = append(res.Hits, hit)
	}
	if q.Text != "" && (rewritten || !exactHit(resp.Hits)) {
		plan := planFor(q.Text)
		if len(plan.groups) > 0 {
			if err := m.pg.expand(ctx, &plan); err != nil {
				return nil, err
			}
			if res.DidYouMean, err = m.pg.didYouMean(ctx, r, q, plan); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// exactHit reports whether a hit matched the words as typed, without a
// typo; then there is nothing to correct, and PostgreSQL is not asked. (By
// relevance the first hit has the fewest typos; sorted, any may.)
func exactHit(hits []meiliHit) bool {
	for _, h := range hits {
		if typoCount(h) == 0 {
			return true
		}
	}
	return false
}

func typoCount(h meiliHit) int {
	if h.Details == nil || h.Details.Typo == nil {
		return 0
	}
	return h.Details.Typo.TypoCount
}

// Suggest returns titles matching what was typed so far.
func (m *Meili) Suggest(ctx context.Context, r wiki.Reader, prefix string, n int) ([]Suggestion, error) {
	prefix = strings.TrimSpace(prefix)
	if prefix == "" {
		return []Suggestion{}, nil
	}
	filter, err := m.readerFilters(ctx, r)
	if err != nil {
		return nil, err
	}
	raw, err := m.client.Index(m.index).SearchRawWithContext(ctx, prefix, &meilisearch.SearchRequest{
		Query:                prefix,
		Limit:                int64(suggestLimit(n)),
		Filter:               filter,
		AttributesToSearchOn: []string{"title", "translit"},
		AttributesToRetrieve: []string{"city", "slug", "title"},
		Locales:              searchLocales,
	})
	if err != nil {
		return nil, fmt.Errorf("meilisearch suggest: %w", err)
	}
	var resp struct {
		Hits []Suggestion `json:"hits"`
	}
	if err := json.Unmarshal(*raw, &resp); err != nil {
		return nil, err
	}
	if resp.Hits == nil {
		resp.Hits = []Suggestion{}
	}
	return resp.Hits, nil
}

// Similar asks Meilisearch for articles of other cities matching the title
// and tags of city/slug, preferring the rarest shared words. (Meilisearch's
// similar-documents endpoint needs an embedder, which needs a model this
// deployment does not have.)
func (m *Meili) Similar(ctx context.Context, r wiki.Reader, city, slug string, n int) ([]Hit, error) {
	src, err := similarSource(ctx, m.pg.pool, r, city, slug)
	if err != nil {
		return nil, err
	}
	words := src.similarWords()
	if len(words) == 0 {
		return []Hit{}, nil
	}
	filter, err := m.readerFilters(ctx, r)
	if err != nil {
		return nil, err
	}
	filter = append(filter, "city != "+meiliString(src.City), "id != "+strconv.FormatInt(src.ID, 10))
	raw, err := m.client.Index(m.index).SearchRawWithContext(ctx, strings.Join(words, " "), &meilisearch.SearchRequest{
		Query:                strings.Join(words, " "),
		Limit:                int64(suggestLimit(n)),
		Filter:               filter,
		MatchingStrategy:     meilisearch.Frequency,
		AttributesToRetrieve: []string{"city", "slug", "title", "updated_at", "topics", "status"},
		AttributesToCrop:     []string{"text"},
		CropLength:           32,
		CropMarker:           "…",
		Locales:              searchLocales,
	})
	if err != nil {
		return nil, fmt.Errorf("meilisearch similar: %w", err)
	}
	var resp meiliResponse
	if err := json.Unmarshal(*raw, &resp); err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(resp.Hits))
	for _, h := range resp.Hits {
		topics := h.Topics
		if topics == nil {
			topics = []string{}
		}
		hits = append(hits, Hit{City: h.City, Slug: h.Slug, Title: h.Title, Snippet: leadSnippet(h.Formatted.Text),
			UpdatedAt: time.Unix(h.UpdatedAt, 0).UTC(), Topics: topics, Status: h.Status})
	}
	return hits, nil
}
