package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki"
)

// Suggest returns titles for type-ahead: titles containing the typed words
// (the last one as a prefix) first, then titles similar to what was typed.
func (p *PG) Suggest(ctx context.Context, r wiki.Reader, prefix string, n int) ([]Suggestion, error) {
	plan := planFor(prefix)
	if len(plan.groups) == 0 {
		return []Suggestion{}, nil
	}
	a := &sqlArgs{}
	cte := tsqueryCTE(plan, a)
	folded := a.add(prefix)
	filter := filterSQL(r, Query{}, a)
	rows, _ := p.pool.Query(ctx, `WITH `+cte+`
		SELECT d.city, d.slug, d.title FROM search_documents d
		WHERE (d.title_tsv @@ (SELECT q FROM query) OR d.title_sort % hansewiki_fold(`+folded+`)) AND `+filter+`
		ORDER BY d.title_tsv @@ (SELECT q FROM query) DESC, similarity(d.title_sort, hansewiki_fold(`+folded+`)) DESC,
			d.updated_at DESC, d.article_id DESC
		LIMIT `+a.add(suggestLimit(n)), a.args...)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Suggestion])
	if err != nil {
		return nil, fmt.Errorf("postgres suggest: %w", err)
	}
	if out == nil {
		out = []Suggestion{}
	}
	return out, nil
}

// source is the article Similar starts from.
type source struct {
	ID     int64
	City   string
	Title  string
	Tags   []string
	Topics []string
}

// similarSource loads city/slug if r may read it; ErrNotFound otherwise, as
// for a missing article, so existence does not leak.
func similarSource(ctx context.Context, db querier, r wiki.Reader, city, slug string) (source, error) {
	a := &sqlArgs{}
	c, s := a.add(city), a.add(slug)
	rows, _ := db.Query(ctx, `SELECT d.article_id, d.city, d.title, d.tags, d.topics FROM search_documents d
		WHERE d.city = `+c+` AND d.slug = `+s+` AND `+SQLFilter(r, "d.visibility", "d.city", &a.args), a.args...)
	src, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[source])
	if errors.Is(err, pgx.ErrNoRows) {
		return src, fmt.Errorf("article %s/%s: %w", city, slug, wiki.ErrNotFound)
	}
	return src, err
}

// similarWords are the words a similar article should share: the title's
// and the tags'.
func (s source) similarWords() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tokenize(s.Title + " " + joinAll(s.Tags)) {
		if !stopKeys[t.key] && len([]rune(t.word)) >= minPrefixRunes && !seen[t.key] {
			seen[t.key] = true
			out = append(out, t.word)
		}
	}
	return out
}

func joinAll(ss []string) string {
	out := ""
	for _, s := range ss {
		out += " " + s
	}
	return out
}

// Similar finds articles of other cities that share words of the title and
// tags of city/slug, ranked by text rank plus shared topics and tags; only
// a bounded set of candidates is ranked.
func (p *PG) Similar(ctx context.Context, r wiki.Reader, city, slug string, n int) ([]Hit, error) {
	src, err := similarSource(ctx, p.pool, r, city, slug)
	if err != nil {
		return nil, err
	}
	words := src.similarWords()
	if len(words) == 0 {
		return []Hit{}, nil
	}
	a := &sqlArgs{}
	w, c, topics, tags := a.add(words), a.add(src.City), a.add(src.Topics), a.add(src.Tags)
	filter := filterSQL(r, Query{}, a)
	rows, _ := p.pool.Query(ctx, `WITH q AS (
			SELECT hansewiki_tsquery_or(plainto_tsquery('hansewiki_german', w)) AS q FROM unnest(`+w+`::text[]) AS w),
		candidates AS (
			SELECT d.article_id FROM search_documents d
			WHERE d.tsv @@ (SELECT q FROM q) AND d.city <> `+c+` AND `+filter+`
			ORDER BY d.topics && `+topics+`::text[] DESC, d.title_tsv @@ (SELECT q FROM q) DESC, d.updated_at DESC
			LIMIT `+a.add(minCandidates)+`)
		SELECT d.city, d.slug, d.title, left(d.body_text, 600), d.updated_at, d.topics, d.status
		FROM candidates JOIN search_documents d USING (article_id)
		ORDER BY ts_rank(d.tsv, (SELECT q FROM q))
			+ 0.2 * cardinality(ARRAY(SELECT unnest(d.topics) INTERSECT SELECT unnest(`+topics+`::text[])))
			+ 0.2 * cardinality(ARRAY(SELECT unnest(d.tags) INTERSECT SELECT unnest(`+tags+`::text[]))) DESC,
			d.updated_at DESC, d.article_id DESC
		LIMIT `+a.add(suggestLimit(n)), a.args...)
	type row struct {
		City, Slug, Title, Text string
		UpdatedAt               time.Time
		Topics                  []string
		Status                  string
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, fmt.Errorf("postgres similar: %w", err)
	}
	hits := make([]Hit, len(found))
	for i, f := range found {
		hits[i] = Hit{City: f.City, Slug: f.Slug, Title: f.Title, Snippet: leadSnippet(f.Text),
			UpdatedAt: f.UpdatedAt, Topics: f.Topics, Status: f.Status}
	}
	return hits, nil
}

// Verify checks that search_documents matches the published articles, and
// repairs rows that do not (a restored backup, a trigger disabled by hand).
// Call it after Worker.Refresh: articles still queued count as stale. It
// returns how many articles it refreshed.
func (p *PG) Verify(ctx context.Context) (int, error) {
	var repaired int
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		// Wait for a refresh batch in progress rather than refresh its
		// articles beside it.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(refreshLock)); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT a.id FROM articles a
			WHERE a.published_revision_id IS NOT NULL AND NOT a.archived
			  AND NOT EXISTS (SELECT 1 FROM search_documents d
			                  WHERE d.article_id = a.id AND d.revision_id = a.published_revision_id
			                    AND d.city = a.city AND d.slug = a.slug)
			UNION
			SELECT d.article_id FROM search_documents d JOIN articles a ON a.id = d.article_id
			WHERE a.archived OR a.published_revision_id IS DISTINCT FROM d.revision_id
			ORDER BY 1`)
		stale, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("verifying the PostgreSQL search index: %w", err)
		}
		if len(stale) > 0 {
			if _, err := tx.Exec(ctx, `SELECT search_refresh(id) FROM unnest($1::bigint[]) AS id`, stale); err != nil {
				return fmt.Errorf("refreshing the PostgreSQL search index: %w", err)
			}
		}
		repaired = len(stale)
		return nil
	})
	return repaired, err
}
