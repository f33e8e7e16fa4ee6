package search

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki"
)

// indexedIDs and publishedIDs are the two sides that must converge.
func indexedIDs(t testing.TB, m *Meili) []int64 {
	t.Helper()
	ids, err := m.DocumentIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func publishedIDs(t testing.TB, svc *Service) []int64 {
	t.Helper()
	rows, _ := svc.Pool().Query(context.Background(), `SELECT a.id FROM articles a
		WHERE a.published_revision_id IS NOT NULL AND NOT a.archived ORDER BY a.id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// waitConverged waits until the index holds exactly the published,
// not archived articles.
func waitConverged(t testing.TB, svc *Service) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, want := indexedIDs(t, svc.Meili()), publishedIDs(t, svc)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index did not converge: indexed %v, published %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pending(t testing.TB, svc *Service) int {
	t.Helper()
	l, err := svc.Worker().Lag(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l.Pending
}

func runWorker(t testing.TB, svc *Service) {
	t.Helper()
	t.Cleanup(startWorker(context.Background(), svc))
}

// startWorker runs the worker as serve does, woken by the process's
// listener, until stop is called.
func startWorker(ctx context.Context, svc *Service) (stop func()) {
	l := wiki.NewListener(svc.Pool(), quietLog())
	l.Subscribe(wiki.PublishedChannel, func(context.Context, string) error { svc.Worker().Wake(); return nil })
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	wg.Go(func() { svc.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// Publishing and archiving reach Meilisearch through the running worker,
// woken by the publication's notification, and the outbox ends empty.
func TestOutboxFollowsPublishingAndArchiving(t *testing.T) {
	t.Parallel()
	svc, store := openService(t, true)
	runWorker(t, svc)
	keys := importFixtures(t, store.Pool(), fixtures[:4])
	waitConverged(t, svc)

	if _, err := store.Pool().Exec(context.Background(), `UPDATE articles SET archived = true WHERE city || '/' || slug = $1`, keys[fxLuft]); err != nil {
		t.Fatal(err)
	}
	svc.Worker().Wake() // archiving sends no notification; the poll would find it too
	waitConverged(t, svc)
	res, err := svc.Meili().Search(context.Background(), member, Query{Text: "Feinstaub"})
	if err != nil || res.Total != 0 {
		t.Fatalf("archived article still found: %v %v", res, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending(t, svc) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("outbox not empty")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g := svc.Gauges()["hansewiki_search_outbox_pending"](); g != 0 {
		t.Errorf("pending gauge = %v after draining", g)
	}
}

// A worker that dies after Meilisearch confirmed but before it deleted its
// rows (a panic, or its context cancelled) loses nothing and duplicates
// nothing: the rows stay, the next worker sends the same documents again,
// and upserting by article id is idempotent.
func TestWorkerCrashMidBatchLosesNothing(t *testing.T) {
	t.Parallel()
	for _, crash := range []string{"panic", "cancel"} {
		t.Run(crash, func(t *testing.T) {
			t.Parallel()
			svc, store := openService(t, true)
			importFixtures(t, store.Pool(), fixtures)
			before := pending(t, svc)
			w := svc.Worker()
			ctx, cancel := context.WithCancel(context.Background())
			w.testHook = func(stage string) {
				if stage != "indexed" {
					return
				}
				if crash == "panic" {
					panic("injected crash")
				}
				cancel()
			}
			func() {
				defer func() { recover() }()
				w.Drain(ctx)
			}()
			cancel()
			if got := indexedIDs(t, svc.Meili()); len(got) == 0 {
				t.Fatal("the crashed batch never reached Meilisearch; the test proves nothing")
			}
			if after := pending(t, svc); after != before {
				t.Fatalf("outbox rows %d → %d: rows were deleted by a batch that did not commit", before, after)
			}
			w.testHook = nil
			if _, err := w.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got, want := indexedIDs(t, svc.Meili()), publishedIDs(t, svc); !slices.Equal(got, want) {
				t.Fatalf("indexed %v, published %v", got, want)
			}
			if n := pending(t, svc); n != 0 {
				t.Fatalf("%d outbox rows left", n)
			}
		})
	}
}

// Two instances draining one outbox at once share it and converge.
func TestTwoWorkersShareTheOutbox(t *testing.T) {
	t.Parallel()
	svc, store := openService(t, true)
	other, err := Open(context.Background(), Config{Store: store, MeiliURL: svc.Meili().url, MeiliKey: svc.Meili().key,
		MeiliIndex: svc.Meili().Index(), Log: quietLog(), BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	svc.Worker().batch = 2
	importFixtures(t, store.Pool(), fixtures)
	errs := make(chan error, 2)
	for _, s := range []*Service{svc, other} {
		go func() { _, err := s.Worker().Drain(context.Background()); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// A worker stops when it finds nothing due it may take; one more pass
	// picks up rows whose article the other worker held at that moment.
	if _, err := svc.Worker().Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, svc)
	if n := pending(t, svc); n != 0 {
		t.Fatalf("%d outbox rows left", n)
	}
}

// Without Meilisearch the PostgreSQL index is the tables themselves: the
// worker just empties the outbox.
func TestPostgresOnlyWorkerEmptiesTheOutbox(t *testing.T) {
	t.Parallel()
	svc, store := openService(t, false)
	importFixtures(t, store.Pool(), fixtures[:3])
	if pending(t, svc) == 0 {
		t.Fatal("publishing wrote no outbox rows")
	}
	if _, err := svc.Worker().Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, svc); n != 0 {
		t.Fatalf("%d outbox rows left", n)
	}
	res, err := svc.Search(context.Background(), member, Query{Text: "Rufbus"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != EnginePostgres {
		t.Errorf("engine %s without Meilisearch", res.Engine)
	}
}
