package search

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/meilisearch/meilisearch-go"
)

// Reindex builds a fresh index and swaps it in: the live index holds the
// new documents afterwards, the temporary one is gone, and documents that
// were in the index but are no longer published are not carried over.
func TestReindexSwapsInAFreshIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := openService(t, true)
	importFixtures(t, store.Pool(), fixtures)
	// A stale document the rebuild must drop, as if a delete had been lost.
	if err := svc.Meili().Upsert(ctx, []Document{{ID: 999999, City: "rostock", Slug: "verwaist", Title: "Verwaist", Visibility: "public"}}); err != nil {
		t.Fatal(err)
	}
	var calls, last int
	res, err := svc.Reindex(ctx, func(done, total int) { calls++; last = done })
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents != len(fixtures) || last != len(fixtures) || calls == 0 {
		t.Errorf("reindex reported %d documents, progress %d in %d calls", res.Documents, last, calls)
	}
	if got, want := indexedIDs(t, svc.Meili()), publishedIDs(t, svc); !slices.Equal(got, want) {
		t.Fatalf("indexed %v, published %v", got, want)
	}
	idx, err := svc.Meili().Client().ListIndexesWithContext(ctx, &meilisearch.IndexesQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range idx.Results {
		if strings.HasPrefix(i.UID, svc.Meili().Index()+"_tmp_") {
			t.Errorf("temporary index %s left behind", i.UID)
		}
	}
	r, err := svc.Meili().Search(ctx, member, Query{Text: "Kataster"})
	if err != nil || r.Total != 1 {
		t.Errorf("the swapped-in index lacks its settings: %v %v", r, err)
	}
}

// The PostgreSQL search rows are verified, and repaired when stale.
func TestVerifyRepairsStaleSearchRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := openService(t, false)
	importFixtures(t, store.Pool(), fixtures[:3])
	if n, err := svc.PG().Verify(ctx); err != nil || n != 3 {
		t.Fatalf("articles whose rows are still queued count as stale: %d %v", n, err)
	}
	if _, err := svc.Worker().Refresh(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PG().Verify(ctx); err != nil || n != 0 {
		t.Fatalf("fresh rows reported stale: %d %v", n, err)
	}
	if _, err := store.Pool().Exec(ctx, `DELETE FROM search_documents WHERE article_id = (SELECT min(article_id) FROM search_documents)`); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PG().Verify(ctx); err != nil || n != 1 {
		t.Fatalf("repaired %d rows, want 1: %v", n, err)
	}
	var count int
	store.Pool().QueryRow(ctx, `SELECT count(*) FROM search_documents`).Scan(&count)
	if count != 3 {
		t.Errorf("%d search rows after the repair, want 3", count)
	}
}
