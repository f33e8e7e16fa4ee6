package search

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki"
)

// Meilisearch applies a narrowing a moment after the approval has
// answered (the worker sends it after commit). Queries asked in between,
// here before the worker runs at all, must already leave the article out
// for readers who may no longer open it: hits, totals, facets,
// suggestions and similar articles alike, on the service and on the
// Meilisearch backend itself.
func TestMeilisearchHidesANarrowedArticleBeforeItIsApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := openService(t, true) // no worker runs: Meilisearch stays behind
	keys := importFixtures(t, store.Pool(), fixtures[:7])
	if _, err := svc.Worker().Drain(ctx); err != nil {
		t.Fatal(err)
	}
	anonymous := wiki.Reader{}
	rostock := wiki.Reader{Member: true, Cities: []string{"rostock"}}
	backends := map[string]Searcher{"service": svc, "meilisearch": svc.Meili()}
	check := func(when string, r wiki.Reader, wantFound bool) {
		t.Helper()
		for name, b := range backends {
			res, err := b.Search(ctx, r, Query{Text: "Pegelsensoren"})
			if err != nil {
				t.Fatal(err)
			}
			found := slices.Contains(hitKeys(res.Hits), keys[fxPegel])
			if found != wantFound || (res.Total > 0) != wantFound || (res.Facets.City["rostock"] > 0) != wantFound {
				t.Errorf("%s, %s, reader %+v: found %v, total %d, facet %v; want found %v",
					when, name, r, found, res.Total, res.Facets.City, wantFound)
			}
			all, err := b.Search(ctx, r, Query{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(hitKeys(all.Hits), keys[fxPegel]) != wantFound {
				t.Errorf("%s, %s, reader %+v: listing without words: found %v", when, name, r, !wantFound)
			}
			sugg, err := b.Suggest(ctx, r, "Pegelsens", 10)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(sugg, func(s Suggestion) bool { return s.City+"/"+s.Slug == keys[fxPegel] }) != wantFound {
				t.Errorf("%s, %s, reader %+v: suggestions %v", when, name, r, sugg)
			}
		}
	}
	check("before", anonymous, true)

	// A new revision visible to Rostock's staff only.
	city, slug, _ := strings.Cut(keys[fxPegel], "/")
	a, err := store.Article(ctx, networkAdmin, city, slug)
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		var author int64
		if err := tx.QueryRow(ctx, `SELECT author_id FROM revisions WHERE id = $1`, a.Revision.ID).Scan(&author); err != nil {
			return err
		}
		d := a.Revision.Draft()
		d.Visibility = wiki.CityVis
		rev, err := store.InsertRevision(ctx, tx, a.ID, a.Revision.ID, author, &d)
		if err != nil {
			return err
		}
		return store.Publish(ctx, tx, a.ID, rev.ID, a.Revision.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Meilisearch still holds the public document.
	docs, err := svc.Meili().DocumentIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(docs, a.ID) {
		t.Fatalf("test setup: the article is not in the index (%v)", docs)
	}
	check("right after narrowing", anonymous, false)
	check("right after narrowing", member, false)
	// Rostock's staff may read it: leaving it out until applied is fine,
	// finding it is too; only after the worker ran must they find it.
	if _, err := svc.Worker().Drain(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the worker ran", anonymous, false)
	check("after the worker ran", rostock, true)
}
