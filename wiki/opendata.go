package wiki

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Report is an article as an experience report: its published revision's
// metadata and experience fields, never its history. Open data and the
// topic pages' comparison read them.
type Report struct {
	City, CityName string
	Slug, Title    string
	Body           string // the Markdown, for the description
	HTML           string // the rendering, for the description's plain text
	Topics, Tags   []string
	Experience     Experience
	// Issued is the article's first publication, Modified its latest.
	Issued, Modified time.Time
}

// Reports lists the published, not archived articles the reader may read,
// of topic when it is set, in city and slug order. Open data asks as the
// anonymous reader of the one visibility rule: public articles only.
func (s *Store) Reports(ctx context.Context, reader Reader, topic string) ([]Report, error) {
	var args []any
	where := reader.sqlFilter("r.visibility", "a.city", &args)
	if topic != "" {
		args = append(args, topic)
		where += " AND r.topics @> ARRAY[$" + strconv.Itoa(len(args)) + "::text]"
	}
	rows, _ := s.db.Query(ctx, `SELECT a.city, c.name, a.slug, r.title, r.body, r.html, r.topics, r.tags,
			r.status, coalesce(r.start_year, 0), r.cost, r.cost_band, r.funding, r.partners, r.contact,
			(SELECT min(p.published_at) FROM revisions p WHERE p.article_id = a.id), a.published_at
		FROM articles a
		JOIN revisions r ON r.id = a.published_revision_id
		JOIN cities c ON c.slug = a.city
		WHERE NOT a.archived AND `+where+`
		ORDER BY a.city, a.slug`, args...)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Report, error) {
		var o Report
		e := &o.Experience
		err := row.Scan(&o.City, &o.CityName, &o.Slug, &o.Title, &o.Body, &o.HTML, &o.Topics, &o.Tags,
			&e.Status, &e.StartYear, &e.Cost, &e.CostBand, &e.Funding, &e.Partners, &e.Contact, &o.Issued, &o.Modified)
		return o, err
	})
}
