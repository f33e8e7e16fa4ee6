package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki"
)

// A publication becomes findable with PostgreSQL search shortly after it
// commits: the running worker, woken by the publication's notification,
// writes the search row, and the outbox ends empty.
func TestPostgresSearchFollowsPublishing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := openService(t, false)
	runWorker(t, svc)
	keys := importFixtures(t, store.Pool(), fixtures[:7])
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := svc.Search(ctx, member, Query{Text: "Gründachkataster"})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(hitKeys(res.Hits), []string{keys[fxGruendach]}) && pending(t, svc) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after publishing: hits %v, %d outbox rows left", hitKeys(res.Hits), pending(t, svc))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A change that narrows who may find an article takes effect in the
// transaction that makes it, not when the worker gets to it: no reader
// finds an article, or its text in a snippet, that they may no longer open.
func TestNarrowingHidesAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := openService(t, false) // no worker runs: only the trigger acts
	keys := importFixtures(t, store.Pool(), fixtures[:7])
	if _, err := svc.Worker().Refresh(ctx, nil); err != nil {
		t.Fatal(err)
	}
	anonymous := wiki.Reader{}
	found := func(r wiki.Reader, text string) []string {
		t.Helper()
		res, err := svc.Search(ctx, r, Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return hitKeys(res.Hits)
	}
	if got := found(anonymous, "Pegelsensoren"); !slices.Equal(got, []string{keys[fxPegel]}) {
		t.Fatalf("before: %v", got)
	}

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
	for name, r := range map[string]wiki.Reader{"anonymous": anonymous, "member": member} {
		if got := found(r, "Pegelsensoren"); len(got) != 0 {
			t.Errorf("%s finds the article made city-only before the worker ran: %v", name, got)
		}
	}
	rostock := wiki.Reader{Member: true, Cities: []string{"rostock"}}
	if _, err := svc.Worker().Refresh(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := found(rostock, "Pegelsensoren"); !slices.Equal(got, []string{keys[fxPegel]}) {
		t.Errorf("Rostock's staff do not find their city-only article after the refresh: %v", got)
	}
	if got := found(member, "Pegelsensoren"); len(got) != 0 {
		t.Errorf("members find the city-only article after the refresh: %v", got)
	}

	// Archived and moved articles are gone at once as well.
	if _, err := store.Pool().Exec(ctx, `UPDATE articles SET archived = true WHERE city || '/' || slug = $1`, keys[fxRufbus]); err != nil {
		t.Fatal(err)
	}
	if got := found(anonymous, "Rufbus"); len(got) != 0 {
		t.Errorf("the archived article is still found: %v", got)
	}
	if _, err := store.Pool().Exec(ctx, `UPDATE articles SET slug = 'gruendach-kataster' WHERE city || '/' || slug = $1`, keys[fxGruendach]); err != nil {
		t.Fatal(err)
	}
	if got := found(anonymous, "Gründachkataster"); len(got) != 0 {
		t.Errorf("the moved article is found under its old address: %v", got)
	}
	if _, err := svc.Worker().Refresh(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := found(anonymous, "Gründachkataster"); !slices.Equal(got, []string{"neubrandenburg/gruendach-kataster"}) {
		t.Errorf("after the refresh the moved article is found as %v", got)
	}
}
