package search

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
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
		found := map[string][]planAlt{}
		var w, word string
		var typo bool
		for rows.Next() {
			if err := rows.Scan(&w, &word, &typo); err != nil {
				rows.Close()
				return err
			}
			found[w] = append(found[w], planAlt{text: word, typo: typo})
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("word list: %w", err)
		}
		for _, m := range missing {
			p.vocab.put(m, found[m])
		}
	}
	for gi, g := range plan.groups {
		if !g.single || !expandable(g.word) {
			continue
		}
		alts, _ := p.vocab.get(g.word)
		for _, a := range alts {
			if a.text != g.word {
				plan.groups[gi].alts = append(plan.groups[gi].alts, a)
			}
		}
	}
	return nil
}

// didYouMean corrects the words that match nothing r may read (with the
// query's filters) to the most similar listed word that does, and returns
// the query with those words replaced; "" when nothing can be corrected.
// Every suggested word is checked against readable articles, so a word
// that only hidden articles contain is never suggested.
func (p *PG) didYouMean(ctx context.Context, r wiki.Reader, q Query, plan queryPlan) (string, error) {
	var altGroups, wordGroups []int32
	var altTexts, words []string
	for gi, g := range plan.groups {
		if !g.single || !expandable(g.word) {
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
	}
	if len(words) == 0 {
		return "", nil
	}
	a := &sqlArgs{}
	ag, at, wg, ww, sim := a.add(altGroups), a.add(altTexts), a.add(wordGroups), a.add(words), a.add(minSimilarity)
	filter := filterSQL(r, q, a)
	rows, err := p.pool.Query(ctx, `WITH alts AS (
			SELECT x.g, plainto_tsquery('hansewiki_german', x.t) AS q FROM unnest(`+ag+`::int[], `+at+`::text[]) AS x(g, t)),
		grouped AS (SELECT g, hansewiki_tsquery_or(q) AS q FROM alts GROUP BY g)
		SELECT w.g, c.display
		FROM unnest(`+wg+`::int[], `+ww+`::text[]) AS w(g, w)
		JOIN grouped USING (g)
		CROSS JOIN LATERAL (SELECT hansewiki_fold(w.w) AS f) f
		CROSS JOIN LATERAL (
			SELECT s.display FROM search_words s
			WHERE NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.tsv @@ grouped.q AND `+filter+`)
			  AND s.word % f.f AND s.word <> f.f AND similarity(s.word, f.f) >= `+sim+`
			  AND EXISTS (SELECT 1 FROM search_documents d
			              WHERE d.tsv @@ plainto_tsquery('hansewiki_german', s.word) AND `+filter+`)
			ORDER BY similarity(s.word, f.f) DESC, s.word LIMIT 1) c`, a.args...)
	if err != nil {
		return "", fmt.Errorf("did you mean: %w", err)
	}
	fixes := map[int]string{} // position in plan.all → correction
	var g int32
	var display string
	for rows.Next() {
		if err := rows.Scan(&g, &display); err != nil {
			rows.Close()
			return "", err
		}
		fixes[plan.groups[g].pos] = display
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("did you mean: %w", err)
	}
	return plan.corrected(fixes), nil
}

// corrected spells the query with the words at the given positions replaced,
// capitalized like the word they replace; "" without replacements.
func (p queryPlan) corrected(fixes map[int]string) string {
	if len(fixes) == 0 {
		return ""
	}
	out := make([]string, len(p.all))
	for i, t := range p.all {
		out[i] = t.orig
		if fix, ok := fixes[i]; ok {
			if r, _ := utf8.DecodeRuneInString(t.orig); unicode.IsUpper(r) {
				fr, n := utf8.DecodeRuneInString(fix)
				fix = string(unicode.ToUpper(fr)) + fix[n:]
			}
			out[i] = fix
		}
	}
	return strings.Join(out, " ")
}

// vocabCache remembers the word list's alternatives per query word for a
// while: the list changes slowly, and most searches repeat words.
type vocabCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[string]vocabEntry
}

type vocabEntry struct {
	alts    []planAlt
	expires time.Time
}

func newVocabCache(ttl time.Duration, max int) *vocabCache {
	return &vocabCache{ttl: ttl, max: max, entries: map[string]vocabEntry{}}
}

func (c *vocabCache) get(word string) ([]planAlt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[word]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.alts, true
}

func (c *vocabCache) put(word string, alts []planAlt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries) // crude, but bounded; it refills from one query each
	}
	c.entries[word] = vocabEntry{alts: alts, expires: time.Now().Add(c.ttl)}
}

// flush forgets everything, e.g. after articles were imported in a test.
func (c *vocabCache) flush() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
