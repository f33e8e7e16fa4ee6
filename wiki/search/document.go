package search

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Document is what Meilisearch indexes for one published, not archived
// article: its published revision, with the body as plain text. It is read
// from search_documents, the rows PostgreSQL search uses, so both backends
// see the same text.
type Document struct {
	ID         int64    `json:"id"` // the article's id
	City       string   `json:"city"`
	CityName   string   `json:"city_name"`
	Slug       string   `json:"slug"`
	Title      string   `json:"title"`
	TitleSort  string   `json:"title_sort"`
	Text       string   `json:"text"`
	Tags       []string `json:"tags"`
	Topics     []string `json:"topics"`
	TopicNames []string `json:"topic_names"` // German and English
	Visibility string   `json:"visibility"`
	Status     string   `json:"status"`
	StartYear  *int     `json:"start_year"`
	Cost       string   `json:"cost"`
	CostBand   string   `json:"cost_band"`
	Funding    string   `json:"funding"`
	UpdatedAt  int64    `json:"updated_at"` // unix seconds, for filters and sorting
	// Translit and Compounds exist for matching only; see words.go.
	Translit  string `json:"translit"`
	Compounds string `json:"compounds"`
}

// documentRow mirrors documentColumns.
type documentRow struct {
	ID         int64     `db:"article_id"`
	City       string    `db:"city"`
	CityName   string    `db:"city_name"`
	Slug       string    `db:"slug"`
	Title      string    `db:"title"`
	TitleSort  string    `db:"title_sort"`
	Text       string    `db:"body_text"`
	Tags       []string  `db:"tags"`
	Topics     []string  `db:"topics"`
	TopicNames []string  `db:"topic_names"`
	Visibility string    `db:"visibility"`
	Status     string    `db:"status"`
	StartYear  *int32    `db:"start_year"`
	Cost       string    `db:"cost"`
	CostBand   string    `db:"cost_band"`
	Funding    string    `db:"funding"`
	UpdatedAt  time.Time `db:"updated_at"`
}

const documentColumns = `d.article_id, d.city, c.name AS city_name, d.slug, d.title, d.title_sort,
	d.body_text, d.tags, d.topics,
	coalesce((SELECT array_agg(n ORDER BY t.slug, o) FROM topics t,
		LATERAL (VALUES (1, t.name_de), (2, t.name_en)) AS v(o, n)
		WHERE t.slug = ANY (d.topics)), '{}') AS topic_names,
	d.visibility, d.status, d.start_year, r.cost, d.cost_band, d.funding, d.updated_at`

const documentFrom = ` FROM search_documents d
	JOIN cities c ON c.slug = d.city
	JOIN revisions r ON r.id = d.revision_id`

func (row documentRow) document() Document {
	d := Document{ID: row.ID, City: row.City, CityName: row.CityName, Slug: row.Slug,
		Title: row.Title, TitleSort: row.TitleSort, Text: stripMarkers.Replace(row.Text),
		Tags: row.Tags, Topics: row.Topics, TopicNames: row.TopicNames, Visibility: row.Visibility,
		Status: row.Status, Cost: row.Cost, CostBand: row.CostBand, Funding: row.Funding, UpdatedAt: row.UpdatedAt.Unix()}
	if row.StartYear != nil {
		y := int(*row.StartYear)
		d.StartYear = &y
	}
	words := docWords(append([]string{d.Title, d.Text, d.CityName}, append(d.Tags, d.TopicNames...)...)...)
	d.Translit = translitField(words)
	d.Compounds = compoundField(docWords(append([]string{d.Title, d.Text}, d.Tags...)...))
	return d
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// LoadDocuments returns the documents of the given articles that are
// published and not archived; the others have no document and belong out of
// the index.
func LoadDocuments(ctx context.Context, db querier, ids []int64) ([]Document, error) {
	rows, _ := db.Query(ctx, `SELECT `+documentColumns+documentFrom+` WHERE d.article_id = ANY ($1)`, ids)
	return collectDocuments(rows)
}

func collectDocuments(rows pgx.Rows) ([]Document, error) {
	docs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Document, error) {
		r, err := pgx.RowToStructByName[documentRow](row)
		return r.document(), err
	})
	return docs, err
}

// EachDocumentBatch calls fn with every document, in batches of size n, in
// article order. total is the number of documents when it started.
func EachDocumentBatch(ctx context.Context, db querier, n int, fn func(batch []Document) error) error {
	var after int64
	for {
		rows, _ := db.Query(ctx, `SELECT `+documentColumns+documentFrom+`
			WHERE d.article_id > $1 ORDER BY d.article_id LIMIT $2`, after, n)
		docs, err := collectDocuments(rows)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			return nil
		}
		if err := fn(docs); err != nil {
			return err
		}
		after = docs[len(docs)-1].ID
	}
}
