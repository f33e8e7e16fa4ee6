package search

import (
	"context"
	"slices"
	"testing"
	"time"

	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search/searchtest"
)

// Meilisearch stops while articles are published and archived: the wiki
// keeps publishing, search answers from PostgreSQL with everything
// published, the outbox keeps every change, and after Meilisearch is back
// the index converges and search returns to it.
func TestMeilisearchDownDuringPublishing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := searchtest.Start(t)
	pool := newTestPool(t)
	store := wiki.NewStore(pool, markdown.New())
	svc, err := Open(ctx, Config{Store: store, MeiliURL: srv.URL, MeiliKey: srv.Key, MeiliIndex: "articles",
		Log: quietLog(), PollInterval: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, svc)
	keys := importFixtures(t, pool, fixtures[:5])
	waitConverged(t, svc)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	later := importFixtures(t, pool, fixtures[5:])
	if _, err := pool.Exec(ctx, `UPDATE articles SET archived = true WHERE city || '/' || slug = $1`, keys[fxRufbus]); err != nil {
		t.Fatal(err)
	}
	svc.Worker().Wake()

	// The worker has tried and failed; nothing was dropped.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var failed int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM search_outbox WHERE attempts > 0 AND last_error <> ''`).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker recorded no failure while Meilisearch was down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The worker refreshes the PostgreSQL rows of what was published while
	// Meilisearch stays down.
	deadline = time.Now().Add(10 * time.Second)
	for {
		res, err := svc.Search(ctx, member, Query{Text: "Gründachkataster"})
		if err != nil {
			t.Fatalf("search while Meilisearch is down: %v", err)
		}
		if res.Engine == EnginePostgres && slices.Equal(hitKeys(res.Hits), []string{later[fxGruendach-5]}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fallback answered %s with %v", res.Engine, hitKeys(res.Hits))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res, _ := svc.Search(ctx, member, Query{Text: "Rufbus"}); res.Total != 0 {
		t.Errorf("fallback still finds the archived article")
	}
	if s, err := svc.Suggest(ctx, member, "Klimaresil", 5); err != nil || len(s) != 1 {
		t.Errorf("suggest while down: %v %v", s, err)
	}
	if n := pending(t, svc); n < len(fixtures)-5+1 {
		t.Fatalf("only %d outbox rows kept for %d changes", n, len(fixtures)-5+1)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, svc)
	deadline = time.Now().Add(15 * time.Second)
	for {
		res, err := svc.Search(ctx, member, Query{Text: "Gründachkataster"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Engine == EngineMeilisearch && len(res.Hits) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search did not return to Meilisearch: %s %v", res.Engine, hitKeys(res.Hits))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := pending(t, svc); n != 0 {
		t.Errorf("%d outbox rows left after catching up", n)
	}
}
