package wiki

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// OpenArticle is what the open-data exports publish of an article: its
// published revision's metadata and experience fields, never its history.
type OpenArticle struct {
	City, CityName string
	Slug, Title    string
	Body           string // the Markdown, for the description
	HTML           string // the rendering, for the description's plain text
	Topics, Tags   []string
	Experience     Experience
	// Issued is the article's first publication, Modified its latest.
	Issued, Modified time.Time
}

// OpenArticles lists the articles open data may publish: published, not
// archived, and readable by anyone — the anonymous reader of the one
// visibility rule — in city and slug order.
func (s *Store) OpenArticles(ctx context.Context) ([]OpenArticle, error) {
	var args []any
	rows, _ := s.db.Query(ctx, `SELECT a.city, c.name, a.slug, r.title, r.body, r.html, r.topics, r.tags,
			r.status, coalesce(r.start_year, 0), r.cost, r.funding, r.partners, r.contact,
			(SELECT min(p.published_at) FROM revisions p WHERE p.article_id = a.id), a.published_at
		FROM articles a
		JOIN revisions r ON r.id = a.published_revision_id
		JOIN cities c ON c.slug = a.city
		WHERE NOT a.archived AND `+Reader{}.sqlFilter("r.visibility", "a.city", &args)+`
		ORDER BY a.city, a.slug`, args...)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (OpenArticle, error) {
		var o OpenArticle
		e := &o.Experience
		err := row.Scan(&o.City, &o.CityName, &o.Slug, &o.Title, &o.Body, &o.HTML, &o.Topics, &o.Tags,
			&e.Status, &e.StartYear, &e.Cost, &e.Funding, &e.Partners, &e.Contact, &o.Issued, &o.Modified)
		return o, err
	})
}
