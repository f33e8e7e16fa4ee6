package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/search"
	"hansewiki/wiki/search/searchtest"
)

// reindexCLI runs `hansewiki reindex` the way run() dispatches it.
func reindexCLI(t *testing.T, cfg Config) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := cmdReindex(context.Background(), cfg, log, nil, &out, &errOut)
	return out.String() + errOut.String(), err
}

// The administrator's view of reindex: after importing articles, reindex
// fills the Meilisearch index so search finds them, with the permission
// filter in force; without MEILI_URL it says there is nothing to rebuild.
func TestReindexCommand(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}

	out, err := reindexCLI(t, Config{DatabaseURL: dbURL})
	if err != nil || !strings.Contains(out, "nothing to rebuild") {
		t.Fatalf("reindex without Meilisearch: %v\n%s", err, out)
	}

	// A server of the test's own: the command writes the default index.
	srv := searchtest.Start(t)
	url, key := srv.URL, srv.Key
	cfg := Config{DatabaseURL: dbURL, MeiliURL: url, MeiliAPIKey: key}
	out, err = reindexCLI(t, cfg)
	if err != nil || !strings.Contains(out, "reindexed 3 article(s)") {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	// Again: a second rebuild swaps in a fresh copy, same content.
	if out, err = reindexCLI(t, cfg); err != nil || !strings.Contains(out, "reindexed 3 article(s)") {
		t.Fatalf("second reindex: %v\n%s", err, out)
	}
	m, err := open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	svc, err := search.Open(context.Background(), search.Config{Store: m.Store, MeiliURL: url, MeiliKey: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r    wiki.Reader
		want []string
	}{
		{wiki.Reader{}, []string{"rostock/starkregen-hinweiskarte"}},
		{wiki.Reader{Member: true}, []string{"rostock/starkregen-hinweiskarte", "wismar/gruendach-kataster"}},
	} {
		res, err := svc.Meili().Search(context.Background(), c.r, search.Query{Sort: search.ByTitle})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.City+"/"+h.Slug)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("reader %+v finds %v after reindex, want %v", c.r, got, c.want)
		}
	}
}
