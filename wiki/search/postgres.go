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
	vocab *ttlCache[vocabEntry] // the word list's alternatives per query word
	tsq   *ttlCache[pgQuery]    // tsqueries per set of alternatives
	tags  *ttlCache[string]     // tags as written (see TagLabels)
}

// NewPG returns the PostgreSQL backend on pool.
func NewPG(pool *pgxpool.Pool) *PG {
	return &PG{pool: pool,
		// The word list changes slowly, and most searches repeat words.
		vocab: newTTLCache[vocabEntry](time.Minute, 10000),
		tsq:   newTTLCache[pgQuery](time.Hour, 10000),
		tags:  newTTLCache[string](10*time.Minute, 10000)}
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
// query's filters. The values are hidden from the planner (see hideParam).
func filterSQL(r wiki.Reader, q Query, a *sqlArgs) string {
	where := []string{SQLFilter(r, "d.visibility", "d.city", &a.args)}
	array := func(v []string) string { return hideParam(a.add(v)+"::text[]") + "::text[]" }
	if len(q.Cities) > 0 {
		where = append(where, "d.city = ANY ("+array(q.Cities)+")")
	}
	if len(q.Topics) > 0 {
		where = append(where, "d.topics && "+array(q.Topics))
	}
	if len(q.Tags) > 0 {
		where = append(where, "d.tags && "+array(q.Tags))
	}
	if len(q.Statuses) > 0 {
		where = append(where, "d.status = ANY ("+array(q.Statuses)+")")
	}
	if len(q.StartYears) > 0 {
		years := make([]int32, len(q.StartYears))
		for i, y := range q.StartYears {
			years[i] = int32(y)
		}
		where = append(where, "d.start_year = ANY ("+hideParam(a.add(years)+"::int[]")+"::int[])")
	}
	if len(q.CostBands) > 0 {
		where = append(where, "d.cost_band = ANY ("+array(q.CostBands)+")")
	}
	if len(q.Fundings) > 0 {
		where = append(where, "d.funding = ANY ("+array(q.Fundings)+")")
	}
	if len(q.Visibilities) > 0 {
		where = append(where, "d.visibility = ANY ("+array(q.Visibilities)+")")
	}
	return strings.Join(where, " AND ")
}

// headlineInputRunes bounds the text a snippet is looked for in, as an
// article may have a megabyte.
const headlineInputRunes = 50000

type pgHit struct {
	City      string    `json:"city"`
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	UpdatedAt time.Time `json:"updated_at"`
	Topics    []string  `json:"topics"`
	Status    string    `json:"status"`
}

// Search runs q for r: hits, facet counts over all matches, the total and
// "did you mean" in one statement, after the word list's alternatives and
// the tsqueries (both cached).
func (p *PG) Search(ctx context.Context, r wiki.Reader, q Query) (*Result, error) {
	q, err := q.normalize()
	if err != nil {
		return nil, err
	}
	plan := planFor(q.Text)
	var tq pgQuery
	if len(plan.groups) > 0 {
		if err := p.expand(ctx, &plan); err != nil {
			return nil, err
		}
		if tq, err = p.tsqueries(ctx, plan); err != nil {
			return nil, err
		}
	}
	sql, args := searchSQL(r, q, plan, tq)
	var total int
	var facetsJSON, hitsJSON []byte
	var texts []string
	var literal bool
	var fixes []dymFix
	if err := p.pool.QueryRow(ctx, sql, args...).Scan(&total, &facetsJSON, &hitsJSON, &texts, &literal, &fixes); err != nil {
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
		if into := res.Facets.facet(name); into != nil && key != "" {
			into[key] = int(n)
		}
	}
	var hits []pgHit
	if err := json.Unmarshal(hitsJSON, &hits); err != nil {
		return nil, err
	}
	if len(texts) != len(hits) {
		return nil, fmt.Errorf("postgres search: %d texts for %d hits", len(texts), len(hits))
	}
	for i, h := range hits {
		hit := Hit{City: h.City, Slug: h.Slug, Title: h.Title, UpdatedAt: h.UpdatedAt, Topics: h.Topics, Status: h.Status}
		if len(plan.groups) > 0 {
			hit.Snippet = highlight(texts[i], tq.lexemes)
		} else {
			hit.Snippet = leadSnippet(texts[i])
		}
		if hit.Topics == nil {
			hit.Topics = []string{}
		}
		res.Hits = append(res.Hits, hit)
	}
	if len(plan.groups) > 0 && !literal {
		res.DidYouMean = plan.correctedBy(fixes)
	}
	return res, nil
}

// searchSQL is the one statement Search runs: the total, facet counts, a
// page of hits with the text their snippets are cut from, whether the words
// as typed match and, when they do not, corrections for "did you mean".
//
// Matching always goes through the GIN index on tsv: the tsquery is hidden
// from the planner (see hideParam), which then assumes few matches. With
// the value in view it counts the matches of a common word right but
// prices a sequential scan without its real cost, detoasting every tsvector
// (30 ms on 10,000 articles against 3 ms for the index, which never reads
// them). Hiding every other value too lets the prepared statement keep one
// plan.
func searchSQL(r wiki.Reader, q Query, plan queryPlan, tq pgQuery) (string, []any) {
	a := &sqlArgs{}
	var sql strings.Builder
	text := len(plan.groups) > 0
	var qp, qIndex, epRef string
	if text {
		qp = a.add(tq.q) + "::tsquery"
		qIndex = hideParam(qp)
	}
	// Only added when used: an unused parameter has no type and fails.
	ep := func() string {
		if epRef == "" {
			epRef = a.add(tq.exact) + "::tsquery"
		}
		return epRef
	}
	filter := filterSQL(r, q, a)
	match := filter
	if text {
		match = "d.tsv @@ " + qIndex + " AND " + filter
	}
	cols := "d.article_id, d.updated_at, d.facet_set, d.tag_set, d.exp_set"
	if q.Sort == ByTitle {
		cols += ", d.title_sort"
	}
	sql.WriteString(`WITH matches AS MATERIALIZED (
		SELECT ` + cols + ` FROM search_documents d WHERE ` + match + `),`)

	limit, offset := hideParam(a.add(q.Limit)+"::int"), hideParam(a.add(q.Offset)+"::int")
	ranked := text && q.Sort == ByRelevance
	switch {
	case ranked:
		// Rank a bounded candidate set only (see minCandidates): the
		// newest matches with the whole query in the title, then the
		// newest others. Title matches come from the title's own index, as
		// testing every match's title would cost as much as the matching;
		// the newest others are among the newest matches of all. A title
		// that matches also matches tsv, which holds the title: the query
		// has no negation.
		cand := hideParam(a.add(max(minCandidates, 2*(q.Offset+q.Limit))) + "::int")
		// Matches of the words as typed first; without typo alternatives
		// every match is one, and the tsvector is read once, for the rank.
		exact := "true"
		if plan.hasTypos() {
			exact = "d.tsv @@ " + ep()
		}
		sql.WriteString(`
	titled AS MATERIALIZED (
		SELECT d.article_id, d.updated_at FROM search_documents d WHERE d.title_tsv @@ ` + qIndex + ` AND ` + filter + `
		ORDER BY d.updated_at DESC, d.article_id DESC LIMIT ` + cand + `),
	newest AS (
		SELECT article_id, updated_at FROM matches ORDER BY updated_at DESC, article_id DESC LIMIT ` + cand + `),
	candidates AS (
		SELECT article_id FROM (
			SELECT article_id, updated_at, true AS in_title FROM titled
			UNION ALL
			SELECT article_id, updated_at, false FROM newest WHERE article_id NOT IN (SELECT article_id FROM titled)) c
		ORDER BY in_title DESC, updated_at DESC, article_id DESC LIMIT ` + cand + `),
	ranked AS MATERIALIZED (
		SELECT article_id, exact, row_number() OVER (ORDER BY exact DESC, rank DESC, updated_at DESC, article_id DESC) AS pos
		FROM (SELECT d.article_id, d.updated_at, ` + exact + ` AS exact, ts_rank(d.tsv, ` + qp + `) AS rank
		      FROM candidates c JOIN search_documents d USING (article_id)) c),
	page AS (
		SELECT article_id, pos FROM ranked ORDER BY pos LIMIT ` + limit + ` OFFSET ` + offset + `),`)
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
	// The text snippets are cut from (see highlight), in page order.
	textLen := 600
	if text {
		textLen = headlineInputRunes
	}
	// Facets in one pass over the matches: grouped by their numbered
	// combinations of city, status and topics, of tags, and of start year,
	// cost band and funding (see search_facet_sets), then the few groups
	// are split into values. Tags and funding are free values: like
	// Meilisearch (maxValuesPerFacet), only the most frequent are listed.
	top := strconv.Itoa(maxFacetValues)
	sql.WriteString(`
	groups AS (
		SELECT facet_set, tag_set, exp_set, grouping(facet_set, tag_set) AS g, count(*) AS n
		FROM matches GROUP BY GROUPING SETS ((facet_set), (tag_set), (exp_set))),
	facet_groups AS (
		SELECT s.city, s.status, s.topics, g.n FROM groups g JOIN search_facet_sets s ON s.id = g.facet_set WHERE g.g = 1),
	exp_groups AS (
		SELECT s.start_year, s.cost_band, s.funding, g.n FROM groups g JOIN search_experience_sets s ON s.id = g.exp_set WHERE g.g = 3),
	facets AS (
		SELECT 'city' AS f, city AS k, sum(n) AS n FROM facet_groups GROUP BY city
		UNION ALL SELECT 'status', status, sum(n) FROM facet_groups WHERE status <> '' GROUP BY status
		UNION ALL SELECT 'topics', t, sum(n) FROM facet_groups, unnest(topics) t GROUP BY t
		UNION ALL (SELECT 'tags', t, sum(n) FROM groups g JOIN search_tag_sets s ON s.id = g.tag_set, unnest(s.tags) t
			WHERE g.g = 2 GROUP BY t ORDER BY 3 DESC, 2 LIMIT ` + top + `)
		UNION ALL SELECT 'start_year', start_year::text, sum(n) FROM exp_groups WHERE start_year <> 0 GROUP BY start_year
		UNION ALL SELECT 'cost_band', cost_band, sum(n) FROM exp_groups WHERE cost_band <> '' GROUP BY cost_band
		UNION ALL (SELECT 'funding', funding, sum(n) FROM exp_groups WHERE funding <> ''
			GROUP BY funding ORDER BY 3 DESC, 2 LIMIT ` + top + `))`)
	// Whether the words as typed (without typo corrections) match anything
	// the reader may read; if not, "did you mean" offers a correction, in
	// the same statement: its subquery only runs when asked for.
	literal := `EXISTS (SELECT 1 FROM matches)`
	if text && plan.hasTypos() {
		literal = readableMatch(hideParam(ep()), filter)
		if ranked {
			// Mostly one of the ranked candidates answers it.
			literal = `coalesce((SELECT bool_or(exact) FROM ranked), false) OR ` + literal
		}
	}
	dym := `'[]'::json`
	if text {
		if d := dymSQL(plan, filter, a); d != "" {
			dym = `CASE WHEN (SELECT v FROM literal) THEN '[]'::json ELSE ` + dymJSON(d) + ` END`
		}
	}
	// The page's rows, looked up one by one by their key: joined as a
	// whole, a page of a filter without text (estimated at a tenth of
	// thousands of matches) was hash-joined with every search row.
	pageRows := `page p CROSS JOIN LATERAL (SELECT d.* FROM search_documents d WHERE d.article_id = p.article_id OFFSET 0) d`
	sql.WriteString(`,
	literal AS (SELECT ` + literal + ` AS v),
	hits AS MATERIALIZED (
		SELECT p.pos, json_build_object('city', d.city, 'slug', d.slug, 'title', d.title,
			'updated_at', d.updated_at, 'topics', d.topics, 'status', d.status) AS hit,
			left(d.body_text, ` + strconv.Itoa(textLen) + `) AS text
		FROM ` + pageRows + `)
	SELECT (SELECT coalesce(sum(n), 0)::int FROM groups WHERE g = 1),
		(SELECT coalesce(json_agg(json_build_array(f, k, n)), '[]') FROM facets),
		(SELECT coalesce(json_agg(hit ORDER BY pos), '[]') FROM hits),
		(SELECT coalesce(array_agg(text ORDER BY pos), '{}') FROM hits),
		(SELECT v FROM literal), ` + dym)
	return sql.String(), a.args
}
