package views

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"hansewiki/wiki/search"
)

// A scrape after a few requests shows them under their route names, the
// backlogs and the runtime; with a token set, only a scraper with it reads.
func TestMetricsByRouteWithBacklogsAndToken(t *testing.T) {
	t.Parallel()
	s := newTestServerWith(t, func(o *Options) { o.MetricsToken = "scrape-secret" }, sampleItems...)
	// As cmd does: the search outbox publishes its gauges.
	for name, fn := range s.search.(*search.Service).Gauges() {
		s.Metrics().Gauge(name, fn)
	}
	author := account(t, s, "autorin", "author", "luebeck")
	rec := doJSON(t, s, "POST", "/api/v1/changes", author, map[string]any{"city": "luebeck", "title": "Neue Radwege",
		"body": "Text", "summary": "neu", "topics": []string{}, "tags": []string{}, "visibility": "public", "submit": true})
	if rec.Code != http.StatusCreated {
		t.Fatalf("proposing a change: %d %s", rec.Code, rec.Body)
	}
	// One mail waiting, one sent: the queue is one long.
	if _, err := s.store.Pool().Exec(context.Background(), `INSERT INTO mail_queue (to_addr, subject, body, message_id, sent_at)
		VALUES ('a@example.org', 'x', 'x', 'm1', NULL), ('b@example.org', 'y', 'y', 'm2', now())`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/c/luebeck/quartiersbus-in-luebeck", "/c/luebeck/quartiersbus-in-luebeck", "/search?q=bus", "/gibt/es/nicht"} {
		do(t, s, "GET", path)
	}

	for name, header := range map[string]string{"none": "", "wrong": "Bearer scrape-secreT", "account token": "Bearer " + author, "basic": "Basic c2NyYXBlLXNlY3JldA=="} {
		rec := get(t, s, "GET", "/metrics", "Authorization", header)
		if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "hansewiki_") {
			t.Errorf("scrape with %s authorization = %d, want 401 without metrics", name, rec.Code)
		}
	}
	rec = get(t, s, "GET", "/metrics", "Authorization", "Bearer scrape-secret")
	if rec.Code != 200 {
		t.Fatalf("scrape with the token = %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`hansewiki_http_requests_total{code="2xx",method="GET",route="article"} 2`,
		`hansewiki_http_requests_total{code="2xx",method="GET",route="search"} 1`,
		`hansewiki_http_requests_total{code="2xx",method="POST",route="api.changes.create"} 1`,
		`hansewiki_http_requests_total{code="4xx",method="GET",route="unmatched"} 1`,
		`hansewiki_http_requests_total{code="4xx",method="GET",route="metrics"} 4`,
		`hansewiki_http_request_duration_seconds_bucket{method="GET",route="article",le="+Inf"} 2`,
		`hansewiki_http_request_duration_seconds_count{method="GET",route="search"} 1`,
		`hansewiki_page_cache_hits_total 1`,
		`hansewiki_page_cache_misses_total 2`, // the article once, the search page once
		`hansewiki_review_backlog{city="luebeck"} 1`,
		`hansewiki_review_backlog{city="rostock"} 0`,
		`hansewiki_review_oldest_seconds{city="luebeck"} `,
		`hansewiki_review_oldest_seconds{city="rostock"} 0`,
		`hansewiki_articles_overdue{city="rostock"} 0`,
		`hansewiki_review_overdue{city="rostock"} 0`,
		`hansewiki_mail_queue_length 1`,
		`hansewiki_search_outbox_lag_seconds `,
		`hansewiki_search_outbox_pending `,
		`go_goroutines `,
		`go_gc_duration_seconds`,
		`process_cpu_seconds_total `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(grepLines(body, "hansewiki_"))
	}
}

// Without a token /metrics is open, as before.
func TestMetricsOpenWithoutToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	rec := do(t, s, "GET", "/metrics")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "hansewiki_mail_queue_length") {
		t.Fatalf("GET /metrics without a configured token = %d", rec.Code)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
