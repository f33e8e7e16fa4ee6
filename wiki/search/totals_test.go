package search

import (
	"context"
	"testing"
)

// A word in every article is counted exactly, beyond Meilisearch's default
// cap of 1,000, on both backends, on the first and on a later page; the
// city facet adds up to the total.
func TestTotalsAreExact(t *testing.T) {
	t.Parallel()
	const n = 1200
	ctx := context.Background()
	svc, store := openService(t, true)
	bulkPublish(t, store.Pool(), generate(n, 3))
	if _, err := svc.Worker().Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range []backend{{EnginePostgres, svc.PG()}, {EngineMeilisearch, svc.Meili()}} {
		for _, q := range []Query{{Text: "Ausgangslage"}, {Text: "Ausgangslage", Offset: 40, Limit: 20}} {
			res, err := b.s.Search(ctx, networkAdmin, q)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, c := range res.Facets.City {
				sum += c
			}
			if res.Total != n || sum != n || len(res.Hits) != 20 {
				t.Errorf("%s, offset %d: total %d, city facet sum %d, %d hits; want %d, %d, 20",
					b.name, q.Offset, res.Total, sum, len(res.Hits), n, n)
			}
		}
	}
}
