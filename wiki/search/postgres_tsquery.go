package search

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// pgQuery is a query plan as tsqueries, built by PostgreSQL's parser and
// German stemmer.
type pgQuery struct {
	q     string // every alternative
	exact string // without typo corrections
	// lexemes are q's operands, which snippets highlight.
	lexemes []lexeme
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

// tsqueries turns the plan into its tsqueries. The same alternatives always
// give the same tsqueries (the text search configuration only changes with
// a migration), so they are cached, which saves a round trip per search.
func (p *PG) tsqueries(ctx context.Context, plan queryPlan) (pgQuery, error) {
	key := plan.key()
	if tq, ok := p.tsq.get(key); ok {
		return tq, nil
	}
	a := &sqlArgs{}
	var tq pgQuery
	err := p.pool.QueryRow(ctx, `WITH `+tsqueryCTE(plan, a)+`
		SELECT coalesce(q::text, ''), coalesce(exact::text, '') FROM query`, a.args...).Scan(&tq.q, &tq.exact)
	if err != nil {
		return tq, fmt.Errorf("postgres search: %w", err)
	}
	tq.lexemes = tsqueryLexemes(tq.q)
	p.tsq.put(key, tq)
	return tq, nil
}

// key identifies the plan's alternatives.
func (p queryPlan) key() string {
	var b strings.Builder
	for gi, g := range p.groups {
		for _, a := range g.alts {
			b.WriteString(strconv.Itoa(gi))
			b.WriteByte(0)
			b.WriteString(a.text)
			b.WriteByte(0)
			b.WriteString(strconv.FormatBool(a.prefix) + strconv.FormatBool(a.typo))
			b.WriteByte(1)
		}
	}
	return b.String()
}

// tsqueryLexemes returns the operands of a tsquery in its text form, such
// as "'sensor':* & ( 'datenportal' | 'portal' )".
func tsqueryLexemes(q string) []lexeme {
	var out []lexeme
	for i := 0; i < len(q); i++ {
		if q[i] != '\'' {
			continue
		}
		var b strings.Builder
		for i++; i < len(q); i++ {
			c := q[i]
			if c == '\\' && i+1 < len(q) {
				i++
				b.WriteByte(q[i])
				continue
			}
			if c == '\'' {
				if i+1 < len(q) && q[i+1] == '\'' {
					i++
					b.WriteByte('\'')
					continue
				}
				break
			}
			b.WriteByte(c)
		}
		l := lexeme{text: b.String(), prefix: i+1 < len(q) && strings.HasPrefix(q[i+1:], ":*")}
		if l.text != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
