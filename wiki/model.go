package wiki

import (
	"strings"
	"time"

	"hansewiki/wiki/markdown"
)

// City is one member city of the network; the slug is the permission domain.
type City struct {
	Slug              string `json:"slug"`
	Name              string `json:"name"`
	RequiredApprovals int    `json:"required_approvals"`
	// ReviewDays is how many calendar days after entering review a
	// change is due (see workflow's deadlines).
	ReviewDays int `json:"review_days"`
	// Description and Contact introduce the city on its page; the city's
	// admins keep them (SetCityPortal).
	Description string `json:"-"`
	Contact     string `json:"-"`
}

// ShortName is the name people use for the city: its official name
// without the leading titles ("Hanse- und Universitätsstadt Rostock" is
// "Rostock", "Vier-Tore-Stadt Neubrandenburg" is "Neubrandenburg"). A name
// without such titles is its own short name.
func (c City) ShortName() string {
	words := strings.Fields(c.Name)
	i := 0
	for i < len(words)-1 {
		w := strings.ToLower(words[i])
		if !strings.HasSuffix(w, "-") && w != "und" && !strings.HasSuffix(w, "stadt") {
			break
		}
		i++
	}
	return strings.Join(words[i:], " ")
}

// Topic is a shared theme across cities.
type Topic struct {
	Slug   string `json:"slug"`
	NameDE string `json:"-"`
	NameEN string `json:"-"`
}

// Name returns the topic's name in the given language ("de" or "en").
func (t Topic) Name(lang string) string {
	if lang == "en" && t.NameEN != "" {
		return t.NameEN
	}
	return t.NameDE
}

// Visibility decides who may read an article.
type Visibility string

const (
	Public  Visibility = "public"  // everyone, including anonymous visitors (open data)
	Network Visibility = "network" // every signed-in member of the network
	CityVis Visibility = "city"    // staff of the owning city
)

// Valid reports whether v is one of the three visibilities.
func (v Visibility) Valid() bool { return v == Public || v == Network || v == CityVis }

// Narrower reports whether some reader of an article with visibility was
// may not read it with visibility v: public ⊃ network ⊃ city.
func (v Visibility) Narrower(was Visibility) bool { return v.rank() > was.rank() }

func (v Visibility) rank() int {
	switch v {
	case Public:
		return 0
	case Network:
		return 1
	}
	return 2 // city, and anything unknown counts as the narrowest
}

// Statuses of an experience report, in project order.
var Statuses = []string{"idee", "planung", "umsetzung", "abgeschlossen"}

// CostBands are the comparable cost ranges of an experience report, in
// ascending order; the free-text cost keeps the detail.
var CostBands = []string{"unter-10k", "10k-50k", "50k-250k", "250k-1m", "ueber-1m"}

// Experience holds the structured fields of an experience report; they are
// search facets so experiences become comparable across cities.
type Experience struct {
	Status    string `json:"status"`
	StartYear int    `json:"start_year,omitempty"`
	Cost      string `json:"cost"`
	// CostBand is one of CostBands, or empty.
	CostBand string `json:"cost_band"`
	// Funding names a programme, mostly one of the kept FundingProgrammes.
	Funding  string `json:"funding"`
	Partners string `json:"partners"`
	Contact  string `json:"contact"`
	// AdoptedFrom names the article of another city this one builds on,
	// as "city/slug"; empty when none.
	AdoptedFrom string `json:"adopted_from,omitempty"`
}

// Empty reports whether no experience field is set.
func (e Experience) Empty() bool { return e == Experience{} }

// Draft is the content of a revision before it is written.
type Draft struct {
	City       string
	Slug       string // empty: derived from Title
	Title      string
	Body       string
	Summary    string
	Topics     []string
	Tags       []string
	Visibility Visibility
	Experience
}

// Revision is one immutable version of an article.
type Revision struct {
	ID             int64
	ArticleID      int64
	City           string
	Slug           string
	BaseRevisionID int64 // 0: none
	Title          string
	Body           string
	Summary        string
	Topics         []string
	Tags           []string
	Visibility     Visibility
	Experience
	Author      string
	AuthorName  string
	CreatedAt   time.Time
	PublishedAt *time.Time
	HTML        string
	TOC         []markdown.Heading
	Links       []string
}

// Draft returns the revision's content as a draft, e.g. to restore it.
func (r *Revision) Draft() Draft {
	return Draft{City: r.City, Slug: r.Slug, Title: r.Title, Body: r.Body, Summary: r.Summary,
		Topics: r.Topics, Tags: r.Tags, Visibility: r.Visibility, Experience: r.Experience}
}

// Article is an article with its published revision.
type Article struct {
	ID        int64
	City      string
	CityName  string
	Slug      string
	Archived  bool
	UpdatedAt time.Time
	Revision  Revision
}

// ArticleSummary is one row of an article listing.
type ArticleSummary struct {
	City       string     `json:"city"`
	CityName   string     `json:"-"`
	Slug       string     `json:"slug"`
	Title      string     `json:"title"`
	Visibility Visibility `json:"-"`
	Topics     []string   `json:"-"`
	Status     string     `json:"-"`
	UpdatedAt  time.Time  `json:"updated_at"`
	// Lead is the first paragraph of the rendering (HTML, sanitized),
	// Author who wrote the published revision: for feeds.
	Lead   string `json:"-"`
	Author string `json:"-"`
}

// RevisionSummary is one row of an article's history.
type RevisionSummary struct {
	ID         int64     `json:"id"`
	Author     string    `json:"author"`
	AuthorName string    `json:"-"`
	Summary    string    `json:"summary"`
	Title      string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	Published  bool      `json:"published"`
	IsCurrent  bool      `json:"-"`
	BodyBytes  int       `json:"-"`
}

// MaxQueryRunes is the longest search text that is searched; longer text
// is cut, for articles (wiki/search) and questions (workflow) alike.
const MaxQueryRunes = 200
