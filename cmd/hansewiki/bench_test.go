package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki/markdown"
)

// The 20 KB German article with tables that the rendering benchmark uses.
const articleFixture = "../../wiki/markdown/testdata/artikel-20kb.md"

func fixtureCorpus(b *testing.B) string {
	b.Helper()
	body, err := os.ReadFile(articleFixture)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "rostock"), 0o755)
	file := "---\ntitle: Klimaanpassung in der Hansestadt\ntopics: [klimaresilienz]\ntags: [starkregen]\nvisibility: public\nstatus: umsetzung\n---\n" + string(body)
	if err := os.WriteFile(filepath.Join(dir, "rostock", "klimaanpassung.md"), []byte(file), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

type loadResult struct {
	requests int
	rps      float64
	p50, p99 time.Duration
}

// load sends GET url from conns keep-alive connections for d, like wrk.
func load(b *testing.B, url string, conns int, d time.Duration) loadResult {
	b.Helper()
	transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	var mu sync.Mutex
	var all []time.Duration
	var failed error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if failed != nil {
		b.Fatalf("GET %s: %v", url, failed)
	}
	slices.Sort(all)
	return loadResult{requests: len(all), rps: float64(len(all)) / d.Seconds(),
		p50: all[len(all)/2], p99: all[len(all)*99/100]}
}

// BenchmarkArticlePageUnderLoad compares the anonymous article page of the
// real server (real PostgreSQL, page cache) with a plain net/http handler
// serving a fixed 20 KB body, both under 32 connections in the same run.
// Run: go test ./cmd/hansewiki -run '^$' -bench ArticlePageUnderLoad -benchtime 1x
func BenchmarkArticlePageUnderLoad(b *testing.B) {
	const conns = 32
	d := 5 * time.Second
	if v := os.Getenv("LOAD_SECONDS"); v != "" {
		if s, err := time.ParseDuration(v + "s"); err == nil {
			d = s
		}
	}
	dbURL := pgtest.URL(b)
	if _, err := runCLI(dbURL, "import", fixtureCorpus(b)); err != nil {
		b.Fatal(err)
	}
	m := startServerB(b, dbURL)
	pageURL := m.URL() + "/c/rostock/klimaanpassung"
	resp, err := http.Get(pageURL)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("article page: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	static := make([]byte, 20*1024)
	for i := range static {
		static[i] = 'a' + byte(i%26)
	}
	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(static)
	}))
	defer ref.Close()

	for range b.N {
		load(b, ref.URL, conns, time.Second) // warm-up both
		load(b, pageURL, conns, time.Second)
		base := load(b, ref.URL, conns, d)
		wiki := load(b, pageURL, conns, d)
		b.ReportMetric(base.rps, "static_req/s")
		b.ReportMetric(wiki.rps, "page_req/s")
		b.ReportMetric(100*wiki.rps/base.rps, "%_of_static")
		b.ReportMetric(float64(wiki.p99.Microseconds())/1000, "page_p99_ms")
		b.ReportMetric(float64(base.p99.Microseconds())/1000, "static_p99_ms")
		b.ReportMetric(float64(len(page))/1024, "page_KiB")
	}
}

// BenchmarkFirstViewAfterPublish measures an article view right after a
// publication flushed the page cache, against the reference of one
// PostgreSQL read of the revision plus one render of its Markdown — what a
// wiki that renders on view would pay. Both run in the same process on the
// same data; the ratio is what counts.
func BenchmarkFirstViewAfterPublish(b *testing.B) {
	dbURL := pgtest.URL(b)
	if _, err := runCLI(dbURL, "import", fixtureCorpus(b)); err != nil {
		b.Fatal(err)
	}
	m := startServerB(b, dbURL)
	ctx := context.Background()
	renderer := markdown.New()
	var revID int64
	if err := m.Pool.QueryRow(ctx, `SELECT published_revision_id FROM articles`).Scan(&revID); err != nil {
		b.Fatal(err)
	}
	b.Run("reference_read_and_render", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var body, city string
			err := m.Pool.QueryRow(ctx, `SELECT r.body, a.city FROM revisions r JOIN articles a ON a.id = r.article_id WHERE r.id = $1`, revID).Scan(&body, &city)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := renderer.Render([]byte(body), city, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first_view", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m.Handler.Invalidate("rostock/klimaanpassung")
			rec := httptest.NewRecorder()
			m.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/c/rostock/klimaanpassung", nil))
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("cached_view", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			rec := httptest.NewRecorder()
			m.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/c/rostock/klimaanpassung", nil))
		}
	})
}

// BenchmarkImport1000 imports 1,000 generated German articles into an
// empty database with the CLI, as an administrator would.
// Run: go test ./cmd/hansewiki -run '^$' -bench Import1000 -benchtime 1x
func BenchmarkImport1000(b *testing.B) {
	dir := b.TempDir()
	cities := []string{"luebeck", "neubrandenburg", "rostock", "schwerin", "stralsund", "wismar"}
	topics := []string{"klimaresilienz", "mobilitaet", "e-akte", "energie", "buergerbeteiligung", "stadtdaten"}
	for i := range 1000 {
		city := cities[i%len(cities)]
		var body strings.Builder
		fmt.Fprintf(&body, "## Ausgangslage\n\nDie Stadt prüft Maßnahme %d zur Klimaanpassung und Mobilität. Siehe [[%s/artikel-%04d]].\n\n", i, cities[(i+1)%6], (i+1)%1000)
		body.WriteString("| Jahr | Kosten (€) | Förderung |\n|---|---:|---|\n")
		for y := 2019; y < 2025; y++ {
			fmt.Fprintf(&body, "| %d | %d.000 | Bund und Land |\n", y, (i*y)%900+100)
		}
		body.WriteString("\n## Ergebnisse\n\n- Gründächer auf öffentlichen Gebäuden\n- Starkregenvorsorge mit Rückhaltebecken\n- Bürgerbeteiligung über die Online-Plattform\n\n")
		body.WriteString(strings.Repeat("Die Erfahrungen zeigen, dass frühe Abstimmung mit den Ämtern Zeit spart. ", 20))
		file := fmt.Sprintf("---\ntitle: Artikel %04d\ntopics: [%s]\ntags: [test, jahr-%d]\nvisibility: public\n---\n%s\n", i, topics[i%len(topics)], 2019+i%6, body.String())
		p := filepath.Join(dir, city, fmt.Sprintf("artikel-%04d.md", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dbURL := pgtest.URL(b)
		b.StartTimer()
		out, err := runCLI(dbURL, "import", dir)
		if err != nil || !strings.Contains(out, "imported 1000 article(s)") {
			b.Fatalf("import: %v\n%s", err, out)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
}

func runCLI(dbURL string, args ...string) (string, error) {
	var out strings.Builder
	err := run(context.Background(), args, strings.NewReader(""), &out, &out, env("DATABASE_URL", dbURL))
	return out.String(), err
}

func startServerB(b *testing.B, dbURL string) *Main {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0"}}
	m.Log = discardLogger()
	if err := m.Open(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.Listen(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	b.Cleanup(func() { cancel(); <-done; m.Close() })
	for range 200 {
		if resp, err := http.Get(m.URL() + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return m
}
