package wiki

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cities returns every city, by name.
func (s *Store) Cities(ctx context.Context) ([]City, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name, required_approvals, review_days, description, contact FROM cities ORDER BY name`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[City])
}

// City returns one city.
func (s *Store) City(ctx context.Context, slug string) (City, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name, required_approvals, review_days, description, contact FROM cities WHERE slug = $1`, slug)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[City])
	return c, notFound(err, "city "+slug)
}

// Topics returns every topic, by German name.
func (s *Store) Topics(ctx context.Context) ([]Topic, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name_de, name_en FROM topics ORDER BY name_de`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Topic])
}

// Topic returns one topic.
func (s *Store) Topic(ctx context.Context, slug string) (Topic, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name_de, name_en FROM topics WHERE slug = $1`, slug)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Topic])
	return t, notFound(err, "topic "+slug)
}

type articleRow struct {
	revisionRow
	CityName  string    `db:"city_name"`
	Archived  bool      `db:"archived"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Article returns the published revision of city/slug, or ErrNotFound when
// it does not exist, is not published yet, or the reader may not read it:
// existence must not leak.
func (s *Store) Article(ctx context.Context, r Reader, city, slug string) (*Article, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+revisionColumns+`, c.name AS city_name, a.archived,
		a.published_at AS updated_at`+revisionFrom+`
		JOIN cities c ON c.slug = a.city
		WHERE a.city = $1 AND a.slug = $2 AND r.id = a.published_revision_id`, city, slug)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[articleRow])
	if err != nil {
		return nil, notFound(err, "article "+city+"/"+slug)
	}
	if !r.CanRead(row.City, Visibility(row.Visibility)) {
		return nil, fmt.Errorf("article %s/%s: %w", city, slug, ErrNotFound)
	}
	return &Article{ID: row.ArticleID, City: row.City, CityName: row.CityName, Slug: row.Slug,
		Archived: row.Archived, UpdatedAt: row.UpdatedAt, Revision: row.revision()}, nil
}

// ListFilter narrows article listings.
type ListFilter struct {
	City   string
	Topic  string
	Tag    string
	Status string
	Limit  int // default 50, at most 500
	Offset int
	// IncludeArchived lists archived articles too (exports).
	IncludeArchived bool
}

// summaryColumns are the columns of an ArticleSummary, from articles a,
// revisions r (the published one) and cities c.
const summaryColumns = `a.city, c.name, a.slug, r.title, r.visibility, r.topics, r.status, a.published_at,
	coalesce(substring(r.html from '<p>(.*?)</p>'), ''),
	(SELECT coalesce(nullif(u.display_name, ''), u.username) FROM users u WHERE u.id = r.author_id)`

// ListArticles returns published articles the reader may read, newest first.
func (s *Store) ListArticles(ctx context.Context, r Reader, f ListFilter) ([]ArticleSummary, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{r.sqlFilter("r.visibility", "a.city", &args)}
	if !f.IncludeArchived {
		where = append(where, "NOT a.archived")
	}
	if f.City != "" {
		where = append(where, "a.city = "+arg(f.City))
	}
	if f.Topic != "" {
		where = append(where, "r.topics @> ARRAY["+arg(f.Topic)+"::text]")
	}
	if f.Tag != "" {
		where = append(where, "r.tags @> ARRAY["+arg(f.Tag)+"::text]")
	}
	if f.Status != "" {
		where = append(where, "r.status = "+arg(f.Status))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	rows, _ := s.db.Query(ctx, `SELECT `+summaryColumns+`
		FROM articles a
		JOIN revisions r ON r.id = a.published_revision_id
		JOIN cities c ON c.slug = a.city
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY a.published_at DESC, a.id DESC
		LIMIT `+arg(f.Limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ArticleSummary])
}

// readable returns the article's id when the reader may read it.
func (s *Store) readable(ctx context.Context, r Reader, city, slug string) (int64, error) {
	var id int64
	var vis string
	err := s.db.QueryRow(ctx, `SELECT a.id, r.visibility FROM articles a
		JOIN revisions r ON r.id = a.published_revision_id
		WHERE a.city = $1 AND a.slug = $2`, city, slug).Scan(&id, &vis)
	if err != nil {
		return 0, notFound(err, "article "+city+"/"+slug)
	}
	if !r.CanRead(city, Visibility(vis)) {
		return 0, fmt.Errorf("article %s/%s: %w", city, slug, ErrNotFound)
	}
	return id, nil
}

// Revisions returns the published history of an article, newest first.
func (s *Store) Revisions(ctx context.Context, r Reader, city, slug string) ([]RevisionSummary, error) {
	id, err := s.readable(ctx, r, city, slug)
	if err != nil {
		return nil, err
	}
	rows, _ := s.db.Query(ctx, `SELECT r.id, u.username, u.display_name, r.summary, r.title, r.created_at,
			r.published_at IS NOT NULL, r.id = a.published_revision_id, octet_length(r.body)
		FROM revisions r
		JOIN articles a ON a.id = r.article_id
		JOIN users u ON u.id = r.author_id
		WHERE r.article_id = $1 AND r.published_at IS NOT NULL
		ORDER BY r.id DESC`, id)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[RevisionSummary])
}

// Revision returns one revision of a readable article.
func (s *Store) Revision(ctx context.Context, r Reader, city, slug string, id int64) (*Revision, error) {
	articleID, err := s.readable(ctx, r, city, slug)
	if err != nil {
		return nil, err
	}
	rows, _ := s.db.Query(ctx, `SELECT `+revisionColumns+revisionFrom+`
		WHERE r.id = $1 AND r.article_id = $2 AND r.published_at IS NOT NULL`, id, articleID)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[revisionRow])
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("revision %d of %s/%s", id, city, slug))
	}
	rev := row.revision()
	return &rev, nil
}

// Backlinks lists the readable articles whose published revision links to
// city/slug ("what links here").
func (s *Store) Backlinks(ctx context.Context, r Reader, city, slug string) ([]ArticleSummary, error) {
	args := []any{city, slug}
	filter := r.sqlFilter("r.visibility", "a.city", &args)
	rows, _ := s.db.Query(ctx, `SELECT `+summaryColumns+`
		FROM article_links l
		JOIN articles a ON a.id = l.from_article_id
		JOIN revisions r ON r.id = a.published_revision_id
		JOIN cities c ON c.slug = a.city
		WHERE l.to_city = $1 AND l.to_slug = $2 AND NOT a.archived AND `+filter+`
		ORDER BY r.title`, args...)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ArticleSummary])
}

// Counts returns how many readable published articles each city and each
// topic has, for the start page and portals.
func (s *Store) Counts(ctx context.Context, r Reader) (byCity, byTopic map[string]int, err error) {
	var args []any
	filter := r.sqlFilter("r.visibility", "a.city", &args)
	rows, _ := s.db.Query(ctx, `SELECT 'c', a.city, count(*) FROM articles a
			JOIN revisions r ON r.id = a.published_revision_id
			WHERE NOT a.archived AND `+filter+` GROUP BY a.city
		UNION ALL
		SELECT 't', t, count(*) FROM articles a
			JOIN revisions r ON r.id = a.published_revision_id, unnest(r.topics) t
			WHERE NOT a.archived AND `+filter+` GROUP BY t`, args...)
	byCity, byTopic = map[string]int{}, map[string]int{}
	var kind, key string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&kind, &key, &n}, func() error {
		if kind == "c" {
			byCity[key] = n
		} else {
			byTopic[key] = n
		}
		return nil
	})
	return byCity, byTopic, err
}

// EachPublished calls fn with every published article's current revision,
// in city and slug order, including archived ones (for exports).
func (s *Store) EachPublished(ctx context.Context, fn func(a *Article) error) error {
	rows, _ := s.db.Query(ctx, `SELECT `+revisionColumns+`, c.name AS city_name, a.archived,
		a.published_at AS updated_at`+revisionFrom+`
		JOIN cities c ON c.slug = a.city
		WHERE r.id = a.published_revision_id
		ORDER BY a.city, a.slug`)
	defer rows.Close()
	for rows.Next() {
		row, err := pgx.RowToStructByName[articleRow](rows)
		if err != nil {
			return err
		}
		a := &Article{ID: row.ArticleID, City: row.City, CityName: row.CityName, Slug: row.Slug,
			Archived: row.Archived, UpdatedAt: row.UpdatedAt, Revision: row.revision()}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RevisionByID returns any revision of an article, published or proposed,
// without visibility checks: the workflow decides who sees proposals.
func (s *Store) RevisionByID(ctx context.Context, articleID, revID int64) (*Revision, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+revisionColumns+revisionFrom+` WHERE r.id = $1 AND r.article_id = $2`, revID, articleID)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[revisionRow])
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("revision %d", revID))
	}
	rev := row.revision()
	return &rev, nil
}

// PublishedRevisionID returns the article's current published revision (0: none).
func (s *Store) PublishedRevisionID(ctx context.Context, articleID int64) (int64, error) {
	var id *int64
	if err := s.db.QueryRow(ctx, `SELECT published_revision_id FROM articles WHERE id = $1`, articleID).Scan(&id); err != nil {
		return 0, notFound(err, fmt.Sprintf("article %d", articleID))
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// AdoptedBy lists the readable articles whose published revision says it
// builds on city/slug, by city.
func (s *Store) AdoptedBy(ctx context.Context, r Reader, city, slug string) ([]ArticleSummary, error) {
	args := []any{city + "/" + slug}
	filter := r.sqlFilter("r.visibility", "a.city", &args)
	rows, _ := s.db.Query(ctx, `SELECT `+summaryColumns+`
		FROM revisions r
		JOIN articles a ON a.published_revision_id = r.id
		JOIN cities c ON c.slug = a.city
		WHERE r.adopted_from = $1 AND NOT a.archived AND `+filter+`
		ORDER BY a.city, a.slug`, args...)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ArticleSummary])
}
