package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/wiki"
)

// PG searches with PostgreSQL full-text search over search_documents.
type PG struct {
	pool  *pgxpool.Pool
	vocab *vocabCache
}

// NewPG returns the PostgreSQL backend on pool.
func NewPG(pool *pgxpool.Pool) *PG {
	return &PG{pool: pool, vocab: newVocabCache(time.Minute, 10000)}
}

// Engine names this backend in results and logs.
const (
	EnginePostgres    = "postgres"
	EngineMeilisearch = "meilisearch"
)

// minCandidates bounds how many matches are ranked with ts_rank. Ranking
// reads every candidate's full tsvector, so it must not run over all
// matches of a word that is in every article: the candidates are the
// matches with the word in the title first, then the newest, and only they
// are ranked (see TestPostgresRanksBoundedCandidates for the plan).
const minCandidates = 200

// sqlArgs numbers query parameters.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// filterSQL is the condition on search_documents d for the reader and the
// query's filters.
func filterSQL(r wiki.Reader, q Query, a *sqlArgs) string {
	where := []string{SQLFilter(r, "d.visibility", "d.city", &a.args)}
	if len(q.Cities) > 0 {
		where = append(where, "d.city = ANY ("+a.add(q.Cities)+"::text[])")
	}
	if len(q.Topics) > 0 {
		where = append(where, "d.topics && "+a.add(q.Topics)+"::text[]")
	}
	if len(q.Tags) > 0 {
		where = append(where, "d.tags && "+a.add(q.Tags)+"::text[]")
	}
	if len(q.Statuses) > 0 {
		where = append(where, "d.status = ANY ("+a.add(q.Statuses)+"::text[])")
	}
	if len(q.Visibilities) > 0 {
		where = append(where, "d.visibility = ANY ("+a.add(q.Visibilities)+"::text[])")
	}
	return strings.Join(where, " AND ")
}

// tsqueryCTE defines the CTE "query" with columns q (everything) and exact
// (without typo corrections) from the plan's alternatives.
func tsqueryCTE(p queryPlan, a *sqlArgs) string {
	groups, texts, prefix, typo := p.arrays()
	return `alts AS (
		SELECT x.g, x.typo, CASE WHEN x.p THEN to_tsquery('hansewiki_german', '''' || x.t || ''':*')
			ELSE plainto_tsquery('hansewiki_german', x.t) END AS q
		FROM unnest(` + a.add(groups) + `::int[], ` + a.add(texts) + `::text[], ` + a.add(prefix) + `::bool[], ` + a.add(typo) + `::bool[]) AS x(g, t, p, typo)),
	grouped AS (
		SELECT hansewiki_tsquery_or(q) AS q, hansewiki_tsquery_or(q) FILTER (WHERE NOT typo) AS exact
		FROM alts GROUP BY g),
	query AS (
		SELECT hansewiki_tsquery_and(q) AS q, hansewiki_tsquery_and(exact) AS exact FROM grouped)`
}

// tsqueries turns the plan into its tsquery (all alternatives) and the
// exact one (without typo corrections), as text.
func (p *PG) tsqueries(ctx context.Context, plan queryPlan) (q, exact string, err error) {
	a := &sqlArgs{}
	err = p.pool.QueryRow(ctx, `WITH `+tsqueryCTE(plan, a)+`
		SELECT coalesce(q::text, ''), coalesce(exact::text, '') FROM query`, a.args...).Scan(&q, &exact)
	if err != nil {
		return "", "", fmt.Errorf("postgres search: %w", err)
	}
	return q, exact, nil
}

// headlineOptions mark matches with the private-use markers; markedHTML
// escapes the text and turns them into <mark>.
var headlineOptions = `StartSel="` + markStart + `", StopSel="` + markEnd + `", MaxWords=32, MinWords=14, ShortWord=3, MaxFragments=2, FragmentDelimiter=" … "`

// headlineInputRunes bounds the text ts_headline reads per hit: it parses
// all of it, and an article may have a megabyte.
const headlineInputRunes = 50000

type pgHit struct {
	City      string    `json:"city"`
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	Snippet   string    `json:"snippet"`
	Marked    bool      `json:"marked"`
	UpdatedAt time.Time `json:"updated_at"`
	Topics    []string  `json:"topics"`
	Status    string    `json:"status"`
}

// Search runs q for r: hits, facet counts over all matches and the total in
// one statement, after one look-up in the word list (cached).
func (p *PG) Search(ctx context.Context, r wiki.Reader, q Query) (*Result, error) {
	q, err := q.normalize()
	if err != nil {
		return nil, err
	}
	plan := planFor(q.Text)
	if len(plan.groups) > 0 {
		if err := p.expand(ctx, &plan); err != nil {
			return nil, err
		}
	}
	var tsq, exact string
	if len(plan.groups) > 0 {
		if tsq, exact, err = p.tsqueries(ctx, plan); err != nil {
			return nil, err
		}
	}
	sql, args := searchSQL(r, q, plan, tsq, exact)
	var total int
	var facetsJSON, hitsJSON []byte
	var literal bool
	if err := p.pool.QueryRow(ctx, sql, args...).Scan(&total, &facetsJSON, &hitsJSON, &literal); err != nil {
		return nil, fmt.Errorf("postgres search: %w", err)
	}
	res := &Result{Total: total, Facets: newFacets(), Hits: []Hit{}, Engine: EnginePostgres}
	var facets [][3]any
	if err := json.Unmarshal(facetsJSON, &facets); err != nil {
		return nil, err
	}
	for _, f := range facets {
		name, _ := f[0].(string)
		key, _ := f[1].(string)
		n, _ := f[2].(float64)
		switch name {
		case "city":
			res.Facets.City[key] = int(n)
		case "status":
			res.Facets.Status[key] = int(n)
		case "topics":
			res.Facets.Topics[key] = int(n)
		case "tags":
			res.Facets.Tags[key] = int(n)
		}
	}
	var hits []pgHit
	if err := json.Unmarshal(hitsJSON, &hits); err != nil {
		return nil, err
	}
	for _, h := range hits {
		hit := Hit{City: h.City, Slug: h.Slug, Title: h.Title, UpdatedAt: h.UpdatedAt, Topics: h.Topics, Status: h.Status}
		if h.Marked {
			hit.Snippet = markedHTML(h.Snippet)
		} else {
			hit.Snippet = leadSnippet(h.Snippet)
		}
		if hit.Topics == nil {
			hit.Topics = []string{}
		}
		res.Hits = append(res.Hits, hit)
	}
	if len(plan.groups) > 0 && !literal {
		if res.DidYouMean, err = p.didYouMean(ctx, r, q, plan); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// searchSQL is the one statement Search runs: matches, a page of hits with
// snippets, facet counts, the total, and whether the words as typed match.
//
// The tsqueries come in as constants, not from a CTE: a value from a CTE is
// unknown when the statement is planned, and PostgreSQL then scans every
// row instead of the GIN index.
func searchSQL(r wiki.Reader, q Query, plan queryPlan, tsq, exact string) (string, []any) {
	a := &sqlArgs{}
	var sql strings.Builder
	text := len(plan.groups) > 0
	var qp, epRef string
	if text {
		qp = a.add(tsq) + "::tsquery"
	}
	// Only added when used: an unused parameter has no type and fails.
	ep := func() string {
		if epRef == "" {
			epRef = a.add(exact) + "::tsquery"
		}
		return epRef
	}
	sql.WriteString("WITH ")
	filter := filterSQL(r, q, a)
	match := filter
	if text {
		match = "d.tsv @@ " + qp + " AND " + filter
	}
	sql.WriteString(`matches AS MATERIALIZED (
		SELECT d.article_id, d.city, d.status, d.topics, d.tags, d.updated_at, d.title_sort`)
	if text && q.Sort == ByRelevance {
		sql.WriteString(`, d.title_tsv @@ ` + qp + ` AS in_title`)
	}
	sql.WriteString(` FROM search_documents d WHERE ` + match + `),`)

	limit, offset := a.add(q.Limit), a.add(q.Offset)
	switch {
	case text && q.Sort == ByRelevance:
		// Rank a bounded candidate set only; see minCandidates.
		cand := a.add(max(minCandidates, 2*(q.Offset+q.Limit)))
		sql.WriteString(`
	candidates AS (
		SELECT article_id FROM matches ORDER BY in_title DESC, updated_at DESC, article_id DESC LIMIT ` + cand + `),
	page AS (
		SELECT d.article_id, row_number() OVER (ORDER BY
			(d.tsv @@ ` + ep() + `) DESC, ts_rank(d.tsv, ` + qp + `) DESC,
			d.updated_at DESC, d.article_id DESC) AS pos
		FROM candidates c JOIN search_documents d USING (article_id)
		ORDER BY pos LIMIT ` + limit + ` OFFSET ` + offset + `),`)
	default:
		order := "updated_at DESC, article_id DESC"
		if q.Sort == ByTitle {
			order = "title_sort, article_id"
		}
		sql.WriteString(`
	page AS (
		SELECT article_id, row_number() OVER (ORDER BY ` + order + `) AS pos
		FROM matches ORDER BY ` + order + ` LIMIT ` + limit + ` OFFSET ` + offset + `),`)
	}
	snippet := "left(d.body_text, 600)"
	marked := "false"
	if text {
		snippet = `ts_headline('hansewiki_german', left(translate(d.body_text, '<>` + markStart + markEnd + `', '` + angleOpen + angleClose + `'), ` +
			strconv.Itoa(headlineInputRunes) + `), ` + qp + `, ` + a.add(headlineOptions) + `)`
		marked = "true"
	}
	sql.WriteString(`
	facets AS (
		SELECT 'city' AS f, city AS k, count(*) AS n FROM matches GROUP BY city
		UNION ALL SELECT 'status', status, count(*) FROM matches WHERE status <> '' GROUP BY status
		UNION ALL SELECT 'topics', t, count(*) FROM matches, unnest(topics) t GROUP BY t
		UNION ALL (SELECT 'tags', t, count(*) FROM matches, unnest(tags) t GROUP BY t ORDER BY 3 DESC, 2 LIMIT ` + strconv.Itoa(maxFacetValues) + `))
	SELECT (SELECT count(*) FROM matches),
		(SELECT coalesce(json_agg(json_build_array(f, k, n)), '[]') FROM facets),
		(SELECT coalesce(json_agg(json_build_object('city', d.city, 'slug', d.slug, 'title', d.title,
			'snippet', ` + snippet + `, 'marked', ` + marked + `, 'updated_at', d.updated_at, 'topics', d.topics, 'status', d.status)
			ORDER BY p.pos), '[]')
		 FROM page p JOIN search_documents d USING (article_id))`)
	// Whether the words as typed (without typo corrections) match anything:
	// if not, a correction is offered.
	if text && plan.hasTypos() {
		sql.WriteString(`,
		EXISTS (SELECT 1 FROM search_documents d WHERE d.tsv @@ ` + ep() + ` AND ` + filter + `)`)
	} else {
		sql.WriteString(`, (SELECT count(*) > 0 FROM matches)`)
	}

	return sql.String(), a.args
}
