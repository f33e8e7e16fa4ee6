package wiki

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/wiki/markdown"
)

// Store reads and writes articles in PostgreSQL.
type Store struct {
	pool     *pgxpool.Pool
	db       Querier // where reads go: the pool, or a caller's transaction (In)
	renderer *markdown.Renderer
	// renditions admits one image rendition at a time (ImageVariant);
	// shared by the copies In makes.
	renditions chan struct{}
}

// Querier is a pool or a transaction: what the store's reads run on, and
// what services hand to In so their reads join their transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// NewStore returns a store on pool that renders with renderer.
func NewStore(pool *pgxpool.Pool, renderer *markdown.Renderer) *Store {
	return &Store{pool: pool, db: pool, renderer: renderer, renditions: make(chan struct{}, 1)}
}

// In returns the store with its reads running on q, typically the caller's
// transaction: the read sees the transaction's own writes and locks, and a
// transaction never waits for a second pooled connection to read.
func (s *Store) In(q Querier) *Store {
	c := *s
	c.db = q
	return &c
}

// Pool exposes the pool for services that share transactions with the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Renderer is the Markdown pipeline revisions are rendered with.
func (s *Store) Renderer() *markdown.Renderer { return s.renderer }

// SystemUserID is the account administrative imports are written by.
const SystemUserID = 1

// revisionRow mirrors revisionColumns.
type revisionRow struct {
	ID             int64              `db:"id"`
	ArticleID      int64              `db:"article_id"`
	City           string             `db:"city"`
	Slug           string             `db:"slug"`
	BaseRevisionID *int64             `db:"base_revision_id"`
	Title          string             `db:"title"`
	Body           string             `db:"body"`
	Summary        string             `db:"summary"`
	Topics         []string           `db:"topics"`
	Tags           []string           `db:"tags"`
	Visibility     string             `db:"visibility"`
	Status         string             `db:"status"`
	StartYear      *int32             `db:"start_year"`
	Cost           string             `db:"cost"`
	CostBand       string             `db:"cost_band"`
	Funding        string             `db:"funding"`
	Partners       string             `db:"partners"`
	Contact        string             `db:"contact"`
	AdoptedFrom    *string            `db:"adopted_from"`
	Author         string             `db:"author"`
	AuthorName     string             `db:"author_name"`
	CreatedAt      time.Time          `db:"created_at"`
	PublishedAt    *time.Time         `db:"published_at"`
	HTML           string             `db:"html"`
	TOC            []markdown.Heading `db:"toc"`
	Links          []string           `db:"links"`
}

const revisionColumns = `r.id, r.article_id, a.city, a.slug, r.base_revision_id, r.title, r.body,
	r.summary, r.topics, r.tags, r.visibility, r.status, r.start_year, r.cost, r.cost_band, r.funding,
	r.partners, r.contact, r.adopted_from, u.username AS author, u.display_name AS author_name, r.created_at,
	r.published_at, r.html, r.toc, r.links`

const revisionFrom = ` FROM revisions r
	JOIN articles a ON a.id = r.article_id
	JOIN users u ON u.id = r.author_id`

func (row revisionRow) revision() Revision {
	rev := Revision{
		ID: row.ID, ArticleID: row.ArticleID, City: row.City, Slug: row.Slug,
		Title: row.Title, Body: row.Body, Summary: row.Summary,
		Topics: row.Topics, Tags: row.Tags, Visibility: Visibility(row.Visibility),
		Experience: Experience{Status: row.Status, Cost: row.Cost, CostBand: row.CostBand, Funding: row.Funding,
			Partners: row.Partners, Contact: row.Contact},
		Author: row.Author, AuthorName: row.AuthorName, CreatedAt: row.CreatedAt,
		PublishedAt: row.PublishedAt, HTML: row.HTML, TOC: row.TOC, Links: row.Links,
	}
	if row.BaseRevisionID != nil {
		rev.BaseRevisionID = *row.BaseRevisionID
	}
	if row.AdoptedFrom != nil {
		rev.AdoptedFrom = *row.AdoptedFrom
	}
	if row.StartYear != nil {
		rev.StartYear = int(*row.StartYear)
	}
	return rev
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// notFound maps pgx.ErrNoRows to ErrNotFound with what was looked for.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// txFunc runs fn in one transaction.
func (s *Store) txFunc(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
