package search

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search/searchtest"
)

// backend is one implementation under test.
type backend struct {
	name string
	s    Searcher
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openService opens the search service on a fresh database, with
// Meilisearch on an index of the test's own when meili is set.
func openService(t testing.TB, meili bool) (*Service, *wiki.Store) {
	t.Helper()
	pool := newTestPool(t)
	store := wiki.NewStore(pool, markdown.New())
	cfg := Config{Store: store, Log: quietLog()}
	if meili {
		cfg.MeiliURL, cfg.MeiliKey = searchtest.Shared(t)
		cfg.MeiliIndex = searchtest.Index(t, cfg.MeiliURL, cfg.MeiliKey)
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// withFixtures imports fs into one database and returns both backends over
// it, the Meilisearch index filled through the outbox.
func withFixtures(t testing.TB, fs []fixture) ([]string, []backend) {
	t.Helper()
	svc, store := openService(t, true)
	keys := importFixtures(t, store.Pool(), fs)
	if _, err := svc.Worker().Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	return keys, []backend{{EnginePostgres, svc.PG()}, {EngineMeilisearch, svc.Meili()}}
}
