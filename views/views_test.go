package views

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search"
	"hansewiki/workflow"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newTestServer builds the HTTP surface on a fresh database holding items.
func newTestServer(t testing.TB, items ...wiki.ImportItem) *Server {
	t.Helper()
	return newTestServerWith(t, nil, items...)
}

// newTestServerWith lets a test set options (metrics token, proxies).
func newTestServerWith(t testing.TB, set func(*Options), items ...wiki.ImportItem) *Server {
	t.Helper()
	pool := pgtest.Pool(t)
	store := wiki.NewStore(pool, markdown.New())
	if len(items) > 0 {
		if _, err := store.ImportAll(context.Background(), items, wiki.ImportOptions{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz, err := auth.NewService(context.Background(), pool, auth.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	sessions := auth.NewSessions(pool, false)
	searcher, err := search.Open(context.Background(), search.Config{Store: store, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	// As serve wires it: the server follows its own (and any other
	// instance's) writes through a listener, and writes wait for fences.
	barrier := wiki.NewBarrier(pool, log)
	opts := Options{Store: store, Auth: authz, Sessions: sessions, Workflow: workflow.NewService(store, authz, log), Search: searcher, Log: log,
		Barrier: barrier}
	if set != nil {
		set(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	listener := wiki.NewListener(pool, log)
	s.Follow(listener)
	if err := barrier.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { listener.Run(ctx); done <- struct{}{} }()
	go func() { barrier.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	select {
	case <-listener.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not connect")
	}
	return s
}

func do(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

var sampleItems = []wiki.ImportItem{
	{Source: "a", Draft: wiki.Draft{City: "luebeck", Title: "Quartiersbus in Lübeck", Visibility: wiki.Public,
		Topics: []string{"mobilitaet"}, Tags: []string{"bus"}, Body: "## Überblick\n\nDer Bus fährt.\n",
		Experience: wiki.Experience{Status: "umsetzung", StartYear: 2023}}},
	{Source: "b", Draft: wiki.Draft{City: "luebeck", Title: "Intern", Visibility: wiki.Network, Body: "Geheim"}},
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
