package search

import (
	"context"
	"errors"
	"html/template"
	"slices"
	"strings"
	"time"

	"hansewiki/wiki"
)

// Searcher is what the HTTP layer asks; *PG, *Meili and the fallback-aware
// *Service implement it.
type Searcher interface {
	// Search answers one page of hits, the facet counts of all matches and
	// the total, for what r may read.
	Search(ctx context.Context, r wiki.Reader, q Query) (*Result, error)
	// Suggest returns up to n titles for type-ahead, matching prefix.
	Suggest(ctx context.Context, r wiki.Reader, prefix string, n int) ([]Suggestion, error)
	// Similar returns up to n articles from other cities that resemble
	// city/slug: "similar experiences". ErrNotFound when r may not read it.
	Similar(ctx context.Context, r wiki.Reader, city, slug string, n int) ([]Hit, error)
}

// Sort orders hits.
type Sort string

const (
	ByRelevance Sort = ""           // best match first; newest first without text
	ByUpdated   Sort = "updated_at" // most recently published first
	ByTitle     Sort = "title"      // alphabetical, ignoring case and accents
)

// MaxLimit is the largest page a query may ask for.
const MaxLimit = 100

// DefaultLimit is the page size when a query asks for none.
const DefaultLimit = 20

// maxQueryRunes bounds the text of a query; longer text is cut.
const maxQueryRunes = wiki.MaxQueryRunes

// Query is one search. Values within a filter are alternatives (city A or
// B); different filters must all hold.
type Query struct {
	Text     string
	Cities   []string
	Topics   []string
	Tags     []string
	Statuses []string
	// StartYears, CostBands and Fundings filter on the experience fields
	// (a funding value matches exactly as written).
	StartYears []int
	CostBands  []string
	Fundings   []string
	// Visibilities narrows to these visibilities; it can never widen what
	// the reader may read.
	Visibilities []string
	Sort         Sort
	Limit        int // 1..MaxLimit, default DefaultLimit
	Offset       int
}

// ErrInvalidQuery marks a query the caller must fix (an unknown sort).
var ErrInvalidQuery = errors.New("invalid search query")

// normalize applies defaults and limits and drops empty filter values.
func (q Query) normalize() (Query, error) {
	switch q.Sort {
	case ByRelevance, ByUpdated, ByTitle:
	default:
		return q, &wiki.InvalidError{Field: "sort", Key: "search.sort", Message: "sort must be relevance, updated_at or title"}
	}
	q.Text = strings.TrimSpace(q.Text)
	if r := []rune(q.Text); len(r) > maxQueryRunes {
		q.Text = string(r[:maxQueryRunes])
	}
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	q.Offset = max(q.Offset, 0)
	clean := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	q.Cities, q.Topics, q.Tags = clean(q.Cities), clean(q.Topics), clean(q.Tags)
	q.Statuses, q.Visibilities = clean(q.Statuses), clean(q.Visibilities)
	q.CostBands, q.Fundings = clean(q.CostBands), clean(q.Fundings)
	var years []int
	for _, y := range q.StartYears {
		if !slices.Contains(years, y) {
			years = append(years, y)
		}
	}
	q.StartYears = years
	return q, nil
}

// Result is one page of a search.
type Result struct {
	Total int   `json:"total"`
	Hits  []Hit `json:"hits"`
	// Facets count all matches (not only this page) per value.
	Facets Facets `json:"facets"`
	// DidYouMean is a corrected query when the words as typed match nothing
	// the reader may read but the correction does; empty otherwise.
	DidYouMean string `json:"did_you_mean,omitempty"`
	// Engine says which backend answered: "meilisearch" or "postgres".
	Engine string `json:"-"`
}

// Hit is one found article.
type Hit struct {
	City  string `json:"city"`
	Slug  string `json:"slug"`
	Title string `json:"title"`
	// Snippet is safe HTML: the article text escaped, matches in <mark>.
	Snippet   template.HTML `json:"snippet"`
	UpdatedAt time.Time     `json:"updated_at"`
	Topics    []string      `json:"topics"`
	Status    string        `json:"status"`
}

// Facets are the counts of matches per value of each facet. Articles
// without a value (no status, start year, cost band or funding) are not
// counted in that facet.
type Facets struct {
	City      map[string]int `json:"city"`
	Topics    map[string]int `json:"topics"`
	Tags      map[string]int `json:"tags"`
	Status    map[string]int `json:"status"`
	StartYear map[string]int `json:"start_year"` // the year in decimal
	CostBand  map[string]int `json:"cost_band"`
	Funding   map[string]int `json:"funding"`
}

func newFacets() Facets {
	return Facets{City: map[string]int{}, Topics: map[string]int{}, Tags: map[string]int{}, Status: map[string]int{},
		StartYear: map[string]int{}, CostBand: map[string]int{}, Funding: map[string]int{}}
}

// facet returns the counts of the facet called name (as in the API), or nil.
func (f *Facets) facet(name string) map[string]int {
	switch name {
	case "city":
		return f.City
	case "topics":
		return f.Topics
	case "tags":
		return f.Tags
	case "status":
		return f.Status
	case "start_year":
		return f.StartYear
	case "cost_band":
		return f.CostBand
	case "funding":
		return f.Funding
	}
	return nil
}

// facetNames are the facets every search counts, by their API names.
var facetNames = []string{"city", "topics", "tags", "status", "start_year", "cost_band", "funding"}

// Suggestion is one type-ahead title.
type Suggestion struct {
	City  string `json:"city"`
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// maxFacetValues bounds the values listed per facet (Meilisearch's
// maxValuesPerFacet), the most frequent first.
const maxFacetValues = 100

// suggestLimit bounds Suggest and Similar.
func suggestLimit(n int) int {
	if n <= 0 {
		return 8
	}
	return min(n, 20)
}
