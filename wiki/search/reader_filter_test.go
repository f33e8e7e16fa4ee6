package search

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/meilisearch/meilisearch-go"

	"hansewiki/wiki"
	"hansewiki/wiki/search/searchtest"
)

// TestReaderFiltersAgreeWithCanRead evaluates MeiliFilter in Meilisearch
// and SQLFilter in PostgreSQL over every city × visibility and compares the
// admitted sets with wiki.Reader.CanRead for many kinds of reader.
func TestReaderFiltersAgreeWithCanRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cities := []string{"luebeck", "rostock", "schwerin", "wismar", `quote"city`}
	visibilities := []string{"public", "network", "city", "unknown"}
	type doc struct {
		ID         int    `json:"id"`
		City       string `json:"city"`
		Visibility string `json:"visibility"`
	}
	var docs []doc
	for _, c := range cities {
		for _, v := range visibilities {
			docs = append(docs, doc{len(docs) + 1, c, v})
		}
	}
	readers := []wiki.Reader{
		{}, {Cities: []string{"rostock"}}, {Cities: []string{wiki.AllCities}},
		{Member: true}, {Member: true, Cities: []string{"rostock"}}, {Member: true, Cities: []string{"rostock", "wismar"}},
		{Member: true, Cities: []string{wiki.AllCities}}, {Member: true, Cities: []string{"schwerin", wiki.AllCities}},
		{Member: true, Cities: []string{`quote"city`}},
	}

	url, key := searchtest.Shared(t)
	m := NewMeili(url, key, searchtest.Index(t, url, key), nil)
	if err := m.ApplySettings(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := m.Client().Index(m.Index()).AddDocumentsWithContext(ctx, docs, nil)
	if err := m.wait(ctx, "adding", info, err); err != nil {
		t.Fatal(err)
	}
	pool := newTestPool(t)

	for _, r := range readers {
		var want []int
		for _, d := range docs {
			if r.CanRead(d.City, wiki.Visibility(d.Visibility)) {
				want = append(want, d.ID)
			}
		}
		// Meilisearch
		raw, err := m.Client().Index(m.Index()).SearchRawWithContext(ctx, "", &meilisearch.SearchRequest{
			Filter: MeiliFilter(r), Limit: 1000, AttributesToRetrieve: []string{"id"}})
		if err != nil {
			t.Fatalf("%+v: %s: %v", r, MeiliFilter(r), err)
		}
		var resp struct{ Hits []doc }
		if err := jsonUnmarshal(*raw, &resp); err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, h := range resp.Hits {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("reader %+v: Meilisearch filter %s admits %v, CanRead %v", r, MeiliFilter(r), got, want)
		}
		// PostgreSQL
		args := []any{}
		cond := SQLFilter(r, "d.visibility", "d.city", &args)
		var ids, cs, vs []any
		for _, d := range docs {
			ids, cs, vs = append(ids, d.ID), append(cs, d.City), append(vs, d.Visibility)
		}
		n := len(args)
		args = append(args, ids, cs, vs)
		rows, _ := pool.Query(ctx, fmt.Sprintf(`SELECT d.id FROM unnest($%d::int[], $%d::text[], $%d::text[]) AS d(id, city, visibility)
			WHERE %s ORDER BY d.id`, n+1, n+2, n+3, cond), args...)
		got, err = pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("reader %+v: SQL filter %s admits %v, CanRead %v", r, cond, got, want)
		}
	}
}
