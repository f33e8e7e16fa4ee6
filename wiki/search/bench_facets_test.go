package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search/searchtest"
)

// Faceted queries (issue 13) on the 10,000 generated articles, whose
// start years, cost bands and funding programmes are spread over 12, 6
// and 8 values: filters on the experience fields, alone and with text, and
// every answer counting all seven facets. Same clients and targets as
// BenchmarkSearch10k; run with
//
//	LOAD_SECONDS=4 go test ./wiki/search -run '^$' -bench Facets10k -benchtime 1x -timeout 20m -v

var facetQueries = []Query{
	{CostBands: []string{"50k-250k"}},
	{StartYears: []int{2021, 2022}, Statuses: []string{"umsetzung"}},
	{Fundings: []string{"Modellprojekte Smart Cities"}, Topics: []string{"klimaresilienz"}},
	{Text: "Starkregenvorsorge", Fundings: []string{"Modellprojekte Smart Cities", "EFRE"}},
	{Text: "Bürgerbeteiligung", CostBands: []string{"unter-10k", "10k-50k"}, Cities: []string{"rostock"}},
	{Text: "Ausgangslage", StartYears: []int{2020}}, // a word in every article
	{Text: "Wärmeplanung Förderung", CostBands: []string{"ueber-1m"}, Sort: ByUpdated},
	{Topics: []string{"mobilitaet"}, StartYears: []int{2024}, CostBands: []string{"250k-1m", "ueber-1m"}},
}

func BenchmarkFacets10k(b *testing.B) {
	ctx := context.Background()
	pool := newTestPool(b)
	store := wiki.NewStore(pool, markdown.New())
	url, key := searchtest.Shared(b)
	svc, err := Open(ctx, Config{Store: store, MeiliURL: url, MeiliKey: key, MeiliIndex: searchtest.Index(b, url, key), Log: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	bulkPublish(b, pool, generate(benchArticles, 42))
	if _, err := svc.Worker().Refresh(ctx, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM search_outbox`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE search_documents, search_words, search_experience_sets`); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Reindex(ctx, nil); err != nil {
		b.Fatal(err)
	}
	var sets int
	pool.QueryRow(ctx, `SELECT count(*) FROM search_experience_sets`).Scan(&sets)
	b.Logf("setup: %d articles, %d combinations of start year, cost band and funding", benchArticles, sets)
	d := loadDuration()
	m, pg := svc.Meili(), svc.PG()

	// Both backends answer every query alike (the behaviour suite checks
	// values; here the totals and facet counts on the large corpus).
	for _, q := range facetQueries {
		a, err := pg.Search(ctx, benchReader, q)
		if err != nil {
			b.Fatal(err)
		}
		c, err := m.Search(ctx, benchReader, q)
		if err != nil {
			b.Fatal(err)
		}
		if q.Text == "" && (a.Total != c.Total || !experienceFacetsEqual(a.Facets, c.Facets)) {
			b.Errorf("%+v: PostgreSQL total %d facets %v, Meilisearch total %d facets %v", q, a.Total, a.Facets, c.Total, c.Facets)
		}
	}

	for range b.N {
		transport := &http.Transport{DialContext: (&net.Dialer{}).DialContext, MaxIdleConns: 128, MaxIdleConnsPerHost: 64}
		client := &http.Client{Transport: transport}
		bodies := make([][]byte, len(facetQueries))
		for i, q := range facetQueries {
			nq, _ := q.normalize()
			bodies[i], _ = json.Marshal(m.searchRequest(benchReader, nq))
		}
		raw := func(i int) error {
			req, _ := http.NewRequest(http.MethodPost, url+"/indexes/"+m.Index()+"/search", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("raw search: %d", resp.StatusCode)
			}
			return err
		}
		service := func(i int) error {
			_, err := m.Search(ctx, benchReader, facetQueries[i%len(facetQueries)])
			return err
		}
		latencies(b, benchClients, time.Second, raw)
		latencies(b, benchClients, time.Second, service)
		var rawAll, svcAll []time.Duration
		for range 2 {
			rawAll = append(rawAll, latencies(b, benchClients, d/2, raw)...)
			svcAll = append(svcAll, latencies(b, benchClients, d/2, service)...)
		}
		slices.Sort(rawAll)
		slices.Sort(svcAll)
		ratio := float64(p95(svcAll)) / float64(p95(rawAll))
		b.ReportMetric(ms(p95(rawAll)), "meili_raw_p95_ms")
		b.ReportMetric(ms(p95(svcAll)), "meili_service_p95_ms")
		b.ReportMetric(ratio, "service/raw_p95")
		b.Logf("(a) Meilisearch, faceted, %d clients: raw p50 %.2f ms p95 %.2f ms (%d req); service p50 %.2f ms p95 %.2f ms (%d req); p95 ratio %.2f (target ≤ 1.2)",
			benchClients, ms(p50(rawAll)), ms(p95(rawAll)), len(rawAll), ms(p50(svcAll)), ms(p95(svcAll)), len(svcAll), ratio)

		pgq := func(i int) error {
			_, err := pg.Search(ctx, benchReader, facetQueries[i%len(facetQueries)])
			return err
		}
		latencies(b, benchClients, time.Second, pgq)
		pgAll := latencies(b, benchClients, d, pgq)
		b.ReportMetric(ms(p95(pgAll)), "pg_p95_ms")
		b.Logf("(b) PostgreSQL, faceted, %d clients: p50 %.2f ms p95 %.2f ms (%d req) (target p95 < 30 ms)",
			benchClients, ms(p50(pgAll)), ms(p95(pgAll)), len(pgAll))
		for _, q := range facetQueries {
			one := latencies(b, 1, 300*time.Millisecond, func(int) error { _, err := pg.Search(ctx, benchReader, q); return err })
			res, _ := pg.Search(ctx, benchReader, q)
			b.Logf("    %-100s %5d matches, p50 %.2f ms alone", fmt.Sprintf("%q %v %v %v %v %v", q.Text, q.Cities, q.Topics, q.StartYears, q.CostBands, q.Fundings),
				res.Total, ms(p50(one)))
		}
	}
}
