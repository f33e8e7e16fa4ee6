package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hansewiki/wiki"
)

// minSimilarity is the trigram similarity from which a listed word counts
// as what a typo may have meant ("klimaanpasung" and "klimaanpassung" are
// 0.75; "sensor" and "sensoren" 0.6).
const minSimilarity = 0.45

// expand adds the word list's alternatives to every single-word group:
// compounds ending in the word (German puts the head last, so "kataster"
// finds "Gründachkataster") and similar words for typos. The word list is
// global, but alternatives only widen a query whose every match is still
// filtered for the reader, so they reveal nothing.
//
// A similar word counts as a typo only within Meilisearch's typo budget
// (see typoBudget): trigram similarity alone also finds other words that
// share most letters, and "Kernverwaltung" would find every article about
// "Verwaltung" (6,080 of 10,000 generated articles, where Meilisearch
// finds 535) and rank all of them.
func (p *PG) expand(ctx context.Context, plan *queryPlan) error {
	var missing []string
	for _, g := range plan.groups {
		if g.single && expandable(g.word) {
			if _, ok := p.vocab.get(g.word); !ok {
				missing = append(missing, g.word)
			}
		}
	}
	if len(missing) > 0 {
		rows, err := p.pool.Query(ctx, `SELECT x.w, s.word, s.typo
			FROM unnest($1::text[]) AS x(w), LATERAL (SELECT hansewiki_fold(x.w) AS f) f,
			LATERAL (
				(SELECT s.word, true AS typo FROM search_words s
				 WHERE s.word % f.f AND s.word <> f.f AND similarity(s.word, f.f) >= $2
				 ORDER BY similarity(s.word, f.f) DESC, s.word LIMIT 3)
				UNION ALL
				(SELECT s.word, false FROM search_words s
				 WHERE s.word ~ ('^[[:alpha:]]{3,}' || f.f || '(e|en|n|er|ern|es|s|ns|nen)?$')
				 ORDER BY length(s.word), s.word LIMIT 8)
			) s`, missing, minSimilarity)
		if err != nil {
			return fmt.Errorf("word list: %w", err)
		}
		found := map[string]vocabEntry{}
		var w, word string
		var typo bool
		for rows.Next() {
			if err := rows.Scan(&w, &word, &typo); err != nil {
				rows.Close()
				return err
			}
			e := found[w]
			if typo {
				e.similar = true
				if typoDistance(stemFoldWord(w), word) > typoBudget(w) {
					found[w] = e
					continue
				}
			}
			e.alts = append(e.alts, planAlt{text: word, typo: typo})
			found[w] = e
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("word list: %w", err)
		}
		for _, m := range missing {
			e := found[m]
			// A typo of a synonym term finds the term's whole group.
			if st, ok := synonymTypo(m); ok {
				e.similar, e.synonym = true, &st
				for _, t := range groupTexts(st.group) {
					e.alts = append(e.alts, planAlt{text: t, typo: true})
				}
			}
			p.vocab.put(m, e)
		}
	}
	for gi, g := range plan.groups {
		if !g.single || !expandable(g.word) {
			continue
		}
		e, _ := p.vocab.get(g.word)
		plan.groups[gi].similar = e.similar
		plan.groups[gi].synonym = e.synonym
		for _, a := range e.alts {
			if a.text != g.word {
				plan.groups[gi].alts = append(plan.groups[gi].alts, a)
			}
		}
	}
	return nil
}

// vocabEntry is what the word list offers for one query word.
type vocabEntry struct {
	alts    []planAlt
	similar bool // it has similar words, within the typo budget or not
	// synonym is the synonym term the word is a typo of, if any.
	synonym *synonymTerm
}

// Meilisearch's typo budget, which its index settings use too: words of
// five letters may have one typo, of eight letters two.
const (
	oneTypoRunes  = 5
	twoTyposRunes = 8
)

func typoBudget(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n >= twoTyposRunes:
		return 2
	case n >= oneTypoRunes:
		return 1
	}
	return 0
}

// typoDistance is the number of typos between a and b: letters inserted,
// deleted, replaced or two swapped (optimal string alignment distance),
// counted up to 3.
func typoDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > 2 || d < -2 {
		return 3
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], 3)
}

// stemFoldWord folds a word as hansewiki_fold does: lower case, accents
// dropped, ß as ss.
func stemFoldWord(w string) string {
	var b strings.Builder
	for _, r := range w {
		b.WriteString(foldRune(r))
	}
	return b.String()
}

// didYouMean corrects the words that match nothing r may read (with the
// query's filters) to the most similar listed word that does, and returns
// the query with those words replaced; "" when nothing can be corrected.
// Every suggested word is checked against readable articles, so a word
// that only hidden articles contain is never suggested. PG.Search asks the
// same in its one statement (see dymSQL); Meilisearch asks here.
func (p *PG) didYouMean(ctx context.Context, r wiki.Reader, q Query, plan queryPlan) (string, error) {
	a := &sqlArgs{}
	sql := dymSQL(plan, filterSQL(r, q, a), a)
	if sql == "" {
		return "", nil
	}
	var fixes []dymFix
	if err := p.pool.QueryRow(ctx, `SELECT `+dymJSON(sql), a.args...).Scan(&fixes); err != nil {
		return "", fmt.Errorf("did you mean: %w", err)
	}
	return plan.correctedBy(fixes), nil
}

// dymSQL is the query for "did you mean": rows (g, display) of a group of
// the plan and the correction of its word, for the single words that match
// nothing the filter admits and have a listed word that does. filter is
// filterSQL's condition, its parameters already in a. "" when no word of
// the plan could be corrected.
func dymSQL(plan queryPlan, filter string, a *sqlArgs) string {
	var altGroups, wordGroups, synGroups, termGroups []int32
	var altTexts, words, synDisplays, synKeys, termTexts []string
	for gi, g := range plan.groups {
		// A word without similar listed words has no correction either:
		// expand looks for them alike.
		if !g.single || !expandable(g.word) || !g.similar {
			continue
		}
		wordGroups = append(wordGroups, int32(gi))
		words = append(words, g.word)
		for _, a := range g.alts {
			if !a.typo {
				altGroups = append(altGroups, int32(gi))
				altTexts = append(altTexts, a.text)
			}
		}
		if st := g.synonym; st != nil {
			synGroups = append(synGroups, int32(gi))
			synDisplays = append(synDisplays, st.display)
			synKeys = append(synKeys, st.key)
			for _, t := range groupTexts(st.group) {
				termGroups = append(termGroups, int32(gi))
				termTexts = append(termTexts, t)
			}
		}
	}
	if len(words) == 0 {
		return ""
	}
	ints := func(v []int32) string { return hideParam(a.add(v)+"::int[]") + "::int[]" }
	texts := func(v []string) string { return hideParam(a.add(v)+"::text[]") + "::text[]" }
	ag, at, wg, ww := ints(altGroups), texts(altTexts), ints(wordGroups), texts(words)
	sim := strconv.FormatFloat(minSimilarity, 'f', -1, 64)
	// Typos of synonym terms: the term is offered when an article the
	// reader may read matches its group (see synonymTypo).
	// Only a word that finds nothing the reader may read is corrected. The
	// condition stands inside each candidate query, where it does not depend
	// on their rows: PostgreSQL checks it first and skips the trigram scans
	// of the word list for every word that matches (nearly all of them).
	noMatch := `NOT ` + readableMatch("grouped.q", filter)
	synCTE, synCand := "", ""
	if len(synGroups) > 0 {
		sg, sd, sk, tg, tt := ints(synGroups), texts(synDisplays), texts(synKeys), ints(termGroups), texts(termTexts)
		synCTE = `,
		syn AS (
			SELECT x.g, hansewiki_tsquery_or(plainto_tsquery('hansewiki_german', x.t)) AS q
			FROM unnest(` + tg + `, ` + tt + `) AS x(g, t) GROUP BY x.g),
		syn_terms AS (
			SELECT x.g, x.display, x.key FROM unnest(` + sg + `, ` + sd + `, ` + sk + `) AS x(g, display, key))`
		synCand = `
			UNION ALL
			SELECT t.display, similarity(t.key, f.f) FROM syn_terms t JOIN syn USING (g)
			WHERE t.g = w.g AND ` + noMatch + `
			  AND ` + readableMatch("syn.q", filter)
	}
	return `WITH alts AS (
			SELECT x.g, plainto_tsquery('hansewiki_german', x.t) AS q FROM unnest(` + ag + `, ` + at + `) AS x(g, t)),
		grouped AS (SELECT g, hansewiki_tsquery_or(q) AS q FROM alts GROUP BY g)` + synCTE + `
		SELECT w.g, c.display
		FROM unnest(` + wg + `, ` + ww + `) AS w(g, w)
		JOIN grouped USING (g)
		CROSS JOIN LATERAL (SELECT hansewiki_fold(w.w) AS f) f
		CROSS JOIN LATERAL (
			SELECT c.display FROM (
			(SELECT s.display, similarity(s.word, f.f) AS sim FROM search_words s
			WHERE ` + noMatch + `
			  AND s.word % f.f AND s.word <> f.f AND similarity(s.word, f.f) >= ` + sim + `
			  AND EXISTS (SELECT 1 FROM search_documents d
			              WHERE d.tsv @@ plainto_tsquery('hansewiki_german', s.word) AND ` + filter + `)
			ORDER BY similarity(s.word, f.f) DESC, s.word LIMIT 1)` + synCand + `) c
			ORDER BY c.sim DESC, c.display LIMIT 1) c`
}

// readableMatch is the condition that a document the reader may read
// matches the tsquery tsq. A plain EXISTS lets PostgreSQL expect an early
// hit and scan the table in order instead of asking the text index: 15 ms
// on 10,000 articles for a word that matches nothing, which is what every
// typo is. Materialized with a limit above the planner's guess of the
// matches, the index is used: 0.1–0.4 ms whether the word is rare, common
// or missing.
func readableMatch(tsq, filter string) string {
	return `EXISTS (WITH m AS MATERIALIZED (SELECT 1 FROM search_documents d WHERE d.tsv @@ ` + tsq + ` AND ` + filter + ` LIMIT 1000) SELECT 1 FROM m)`
}

// dymJSON wraps dymSQL's rows into one JSON array of dymFix.
func dymJSON(sql string) string {
	return `(SELECT coalesce(json_agg(json_build_array(x.g, x.display)), '[]') FROM (` + sql + `) x)`
}

// dymFix is a row of dymSQL: [group, correction].
type dymFix [2]any

// correctedBy is corrected with the fixes of dymSQL.
func (p queryPlan) correctedBy(fixes []dymFix) string {
	byPos := map[int]string{} // position in plan.all → correction
	for _, f := range fixes {
		g, _ := f[0].(float64)
		display, _ := f[1].(string)
		if gi := int(g); gi >= 0 && gi < len(p.groups) && display != "" {
			byPos[p.groups[gi].pos] = display
		}
	}
	return p.corrected(byPos)
}

// corrected spells the query with the words at the given positions replaced
// by their spelling as written ("ÖPNV", "Mobilitätsstation"); a correction
// the articles only write in lower case is capitalized like the word it
// replaces. "" without replacements.
func (p queryPlan) corrected(fixes map[int]string) string {
	if len(fixes) == 0 {
		return ""
	}
	out := make([]string, len(p.all))
	for i, t := range p.all {
		out[i] = t.orig
		if fix, ok := fixes[i]; ok {
			if r, _ := utf8.DecodeRuneInString(t.orig); unicode.IsUpper(r) && fix == strings.ToLower(fix) {
				fr, n := utf8.DecodeRuneInString(fix)
				fix = string(unicode.ToUpper(fr)) + fix[n:]
			}
			out[i] = fix
		}
	}
	return strings.Join(out, " ")
}

// TagLabels returns tags as the articles write them: tags are stored in lower
// case ("öpnv"), and a one-word tag that article text spells otherwise
// ("ÖPNV") is shown so. Tags without such a spelling map to themselves.
// Callers pass only tags of articles the reader may read: the word list
// holds the words of hidden articles too, so an arbitrary tag would ask
// whether any article has it; for a visible tag the spelling, which differs
// from it only in case, tells nothing but how a word already seen is written.
func (p *PG) TagLabels(ctx context.Context, tags []string) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	var missing []string
	for _, t := range tags {
		if l, ok := p.tags.get(t); ok {
			out[t] = l
		} else if _, dup := out[t]; !dup {
			out[t] = t
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT t, s.display FROM unnest($1::text[]) AS t
		JOIN search_words s ON s.word = hansewiki_fold(t) AND s.as_written AND lower(s.display) = t`, missing)
	if err != nil {
		return out, fmt.Errorf("tag labels: %w", err)
	}
	var t, display string
	for rows.Next() {
		if err := rows.Scan(&t, &display); err != nil {
			rows.Close()
			return out, fmt.Errorf("tag labels: %w", err)
		}
		out[t] = display
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("tag labels: %w", err)
	}
	for _, m := range missing {
		p.tags.put(m, out[m])
	}
	return out, nil
}

// TagLabels asks the word list in PostgreSQL, whichever backend searches.
func (m *Meili) TagLabels(ctx context.Context, tags []string) (map[string]string, error) {
	return m.pg.TagLabels(ctx, tags)
}
