package workflow_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search"
	"hansewiki/workflow"
)

var benchCities = []string{"luebeck", "neubrandenburg", "rostock", "schwerin", "stralsund", "wismar"}

const (
	benchArticles  = 10000
	benchRevisions = 10 // per article; the last one is published
	benchChanges   = 400
	benchClients   = 4
	benchWarmUp    = 20
)

// seedLargeWiki fills e's database set-based, the way years of use would:
// 10,000 articles in six cities with 10 revisions each (German bodies of
// about 3.5 KB and their pre-rendered HTML), a published change request
// with its review for every later revision, and the hash-chained audit
// events those changes left (create, submit, approve, published).
func seedLargeWiki(b *testing.B, e *env) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	steps := []string{
		`INSERT INTO users (username, email)
			SELECT 'autor-' || c, 'autor-' || c || '@example.org' FROM unnest($1::text[]) c
			UNION ALL
			SELECT 'pruefer-' || c || '-' || i, 'pruefer-' || c || '-' || i || '@example.org' FROM unnest($1::text[]) c, generate_series(1, 3) i
			UNION ALL
			SELECT 'netzwerk-admin', 'netzwerk@example.org'`,
		`INSERT INTO casbin_rules (ptype, v0, v1, v2)
			SELECT 'g', 'autor-' || c, 'author', c FROM unnest($1::text[]) c
			UNION ALL
			SELECT 'g', 'pruefer-' || c || '-' || i, 'reviewer', c FROM unnest($1::text[]) c, generate_series(1, 3) i
			UNION ALL
			SELECT 'g', 'netzwerk-admin', 'admin', '*'`,
		`CREATE TEMP TABLE bench_text (n int PRIMARY KEY, heading text, para text)`,
		`INSERT INTO bench_text VALUES
			(0, 'Ausgangslage', 'Die Stadtverwaltung hat im Rahmen der Smarten Hanse gemeinsam mit den Stadtwerken und dem Umweltamt untersucht, wie sich Starkregenereignisse auf die Entwässerung der Innenstadt auswirken. Grundlage waren die Messreihen der vergangenen zehn Jahre, ergänzt um Hinweise aus der Bürgerschaft und Einsatzberichte der Feuerwehr.'),
			(1, 'Ziele', 'Ziel des Vorhabens ist es, gefährdete Straßenzüge frühzeitig zu erkennen, Unterführungen rechtzeitig zu sperren und die Bevölkerung über die städtische Warn-App zu informieren. Dabei sollen vorhandene Sensoren weiter genutzt und nur dort ergänzt werden, wo Lücken in der Abdeckung bestehen.'),
			(2, 'Vorgehen', 'In einem ersten Schritt wurden die Fachverfahren der Ämter erfasst und ihre Schnittstellen dokumentiert. Anschließend hat eine Arbeitsgruppe aus Verwaltung, Eigenbetrieben und Hochschule einen Prototypen entwickelt, der Pegelstände, Niederschlagsradar und Kanalnetzdaten in einer Karte zusammenführt.'),
			(3, 'Beteiligung', 'Die Bürgerbeteiligung fand in drei Runden statt: eine Online-Umfrage mit über tausend Rückmeldungen, zwei Stadtteilspaziergänge und eine Abschlussveranstaltung im Rathaus. Viele Hinweise betrafen verstopfte Abläufe und fehlende Informationen in leichter Sprache.'),
			(4, 'Datenschutz', 'Personenbezogene Daten werden nicht verarbeitet. Die Messwerte stehen unter einer offenen Lizenz im Datenportal der Stadt bereit und werden alle fünfzehn Minuten aktualisiert. Der Datenschutzbeauftragte wurde von Beginn an beteiligt und hat das Verfahrensverzeichnis geprüft.'),
			(5, 'Kosten und Förderung', 'Die Gesamtkosten belaufen sich auf rund 480.000 Euro, davon wurden 65 Prozent aus dem Bundesprogramm Modellprojekte Smart Cities gefördert. Für den Betrieb rechnet die Stadt mit jährlichen Kosten von etwa 35.000 Euro für Wartung, Mobilfunk und Lizenzen.'),
			(6, 'Ergebnisse', 'Nach zwei Jahren Betrieb zeigt sich, dass Warnungen im Mittel vierzig Minuten früher ausgelöst werden als zuvor. Die Zahl der überfluteten Keller in den beobachteten Quartieren ist deutlich gesunken, und die Einsatzplanung der Feuerwehr profitiert von der gemeinsamen Lagekarte.'),
			(7, 'Schwierigkeiten', 'Schwierig war die Abstimmung zwischen den Ämtern über Zuständigkeiten für den Betrieb der Sensoren. Außerdem mussten einzelne Messstellen nach Vandalismus ersetzt werden. Die Ausschreibung der Funktechnik dauerte länger als geplant, weil zunächst kein Angebot einging.'),
			(8, 'Übertragbarkeit', 'Das Vorgehen lässt sich auf andere Städte der Smarten Hanse übertragen. Wismar und Stralsund haben bereits Interesse angemeldet; die Schnittstellenbeschreibungen und das Betriebskonzept stehen allen Partnerstädten im Wiki zur Verfügung.'),
			(9, 'Nächste Schritte', 'Im kommenden Jahr sollen weitere Messstellen an kleineren Gewässern folgen. Zudem prüft die Verwaltung, ob die Daten in den digitalen Zwilling der Stadt einfließen können und wie Hinweise aus der Bevölkerung direkt in die Karte übernommen werden.'),
			(10, 'Ansprechpartner', 'Fragen beantwortet die Stabsstelle Digitalisierung. Sie koordiniert den Austausch mit den übrigen Städten des Netzwerks und lädt zweimal im Jahr zu einem Erfahrungsaustausch ein, bei dem Fachleute aus Verwaltung, Wissenschaft und Wirtschaft berichten.'),
			(11, 'Fazit', 'Insgesamt hat sich der Aufwand gelohnt: Die Verwaltung arbeitet mit gemeinsamen Daten statt mit getrennten Tabellen, die Öffentlichkeit ist besser informiert, und die gewonnenen Erfahrungen helfen bei weiteren Vorhaben zur Klimaanpassung und zur Digitalisierung der Verwaltung.')`,
		`INSERT INTO articles (city, slug, created_at)
			SELECT ($1::text[])[1 + i % 6], 'erfahrungsbericht-' || i, now() - interval '4 years' + i * interval '2 hours'
			FROM generate_series(1, 10000) i`,
		`CREATE TEMP TABLE bench_articles AS
			SELECT a.id, a.city, row_number() OVER (ORDER BY a.id) AS k, u.id AS author_id
			FROM articles a JOIN users u ON u.username = 'autor-' || a.city WHERE a.slug LIKE 'erfahrungsbericht-%'`,
		// Revisions get explicit ids so each one's base is its predecessor.
		`INSERT INTO revisions (id, article_id, base_revision_id, title, body, summary, visibility, topics, tags,
				status, start_year, author_id, created_at, published_at, html)
			OVERRIDING SYSTEM VALUE
			SELECT o.off + (a.k - 1) * 10 + n, a.id, CASE WHEN n > 1 THEN o.off + (a.k - 1) * 10 + n - 1 END,
				'Erfahrungsbericht ' || a.k || ': ' || t.name_de, txt.body, 'Fassung ' || n,
				(ARRAY['public', 'network', 'city'])[1 + a.k % 3], ARRAY[t.slug], ARRAY['smarte-hanse', 'bericht-' || (a.k % 50)],
				(ARRAY['idee', 'planung', 'umsetzung', 'abgeschlossen'])[1 + a.k % 4], 2015 + a.k % 10, a.author_id,
				now() - interval '4 years' + a.k * interval '2 hours' + n * interval '3 days',
				now() - interval '4 years' + a.k * interval '2 hours' + n * interval '3 days',
				txt.html
			FROM bench_articles a
			CROSS JOIN (SELECT coalesce(max(id), 0) AS off FROM revisions) o
			CROSS JOIN generate_series(1, 10) n
			JOIN (SELECT slug, name_de, row_number() OVER (ORDER BY slug) - 1 AS i FROM topics) t ON t.i = a.k % 10
			CROSS JOIN LATERAL (
				SELECT string_agg('## ' || p.heading || E'\n\n' || p.para || ' Stand: Fassung ' || n || ', Messpunkt ' || ((a.k * 7 + j) % 97) || '.', E'\n\n' ORDER BY j) AS body,
					string_agg('<h2 id="' || lower(replace(p.heading, ' ', '-')) || '">' || p.heading || '</h2><p>' || p.para ||
						' Stand: Fassung ' || n || ', Messpunkt ' || ((a.k * 7 + j) % 97) || '.</p>', E'\n' ORDER BY j) AS html
				FROM generate_series(0, 11) j JOIN bench_text p ON p.n = (j + a.k + n) % 12) txt`,
		`SELECT setval(pg_get_serial_sequence('revisions', 'id'), (SELECT max(id) FROM revisions))`,
		`ANALYZE revisions, articles, bench_articles`,
		`UPDATE articles a SET published_revision_id = l.id, published_at = l.published_at
			FROM (SELECT DISTINCT ON (r.article_id) r.article_id, r.id, r.published_at
				FROM revisions r JOIN bench_articles b ON b.id = r.article_id ORDER BY r.article_id, r.id DESC) l
			WHERE a.id = l.article_id`,
		`ANALYZE`,
		`INSERT INTO change_requests (article_id, author_id, state, base_revision_id, revision_id, required_approvals,
				created_at, updated_at, submitted_at, closed_at)
			SELECT r.article_id, r.author_id, 'published', r.base_revision_id, r.id, 1,
				r.created_at - interval '1 day', r.created_at, r.created_at - interval '20 hours', r.created_at
			FROM revisions r JOIN bench_articles b ON b.id = r.article_id
			WHERE r.base_revision_id IS NOT NULL ORDER BY r.id`,
		`INSERT INTO reviews (change_id, reviewer_id, revision_id, decision, comment, created_at)
			SELECT c.id, u.id, c.revision_id, 'approve', '', c.closed_at
			FROM change_requests c JOIN articles a ON a.id = c.article_id JOIN users u ON u.username = 'pruefer-' || a.city || '-1'
			WHERE c.state = 'published'`,
		// The chain is built here instead of by the trigger, one row at a time.
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain`,
		`DO $$
		DECLARE
			r record;
			seq bigint;
			prev bytea;
			h bytea;
		BEGIN
			SELECT chain_seq, hash INTO seq, prev FROM audit_events ORDER BY chain_seq DESC LIMIT 1;
			seq := coalesce(seq, 0);
			FOR r IN SELECT c.id, s.action, s.step, c.closed_at - (4 - s.step) * interval '5 hours' AS at,
					CASE WHEN s.step IN (1, 2) THEN 'autor-' || a.city ELSE 'pruefer-' || a.city || '-1' END AS actor,
					jsonb_build_object('revision', c.revision_id, 'base', c.base_revision_id) AS detail
				FROM change_requests c JOIN articles a ON a.id = c.article_id
				CROSS JOIN (VALUES (1, 'change.create'), (2, 'change.submit'), (3, 'change.approve'), (4, 'change.published')) s(step, action)
				WHERE c.state = 'published' ORDER BY c.id, s.step
			LOOP
				seq := seq + 1;
				h := audit_event_digest(prev, seq, r.at, r.actor, r.action, 'change:' || r.id, r.detail, '192.0.2.10');
				INSERT INTO audit_events (at, actor, action, object, detail, client_addr, chain_seq, prev_hash, hash)
					VALUES (r.at, r.actor, r.action, 'change:' || r.id, r.detail, '192.0.2.10', seq, prev, h);
				prev := h;
			END LOOP;
		END $$`,
		`ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain`,
		`ANALYZE`,
	}
	// One connection: the steps share temporary tables.
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	for i, q := range steps {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, benchCities)
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seeding, step %d: %v", i, err)
		}
	}
	var articles, revisions, audit int
	var bodyKB float64
	e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM revisions),
		(SELECT count(*) FROM audit_events), (SELECT avg(octet_length(body)) / 1024 FROM revisions)`).Scan(&articles, &revisions, &audit, &bodyKB)
	if articles < benchArticles || revisions < benchArticles*benchRevisions {
		b.Fatalf("seeded %d articles and %d revisions", articles, revisions)
	}
	b.Logf("seeded %d articles, %d revisions (%.1f KB bodies), %d audit events in %s", articles, revisions, bodyKB, audit, time.Since(start).Round(time.Millisecond))

	// Fresh services that know the new people and their roles.
	if e.auth, err = auth.NewService(ctx, e.pool, auth.Options{Log: quiet}); err != nil {
		b.Fatal(err)
	}
	e.wf = workflow.NewService(e.store, e.auth, quiet)
	rows, err := e.pool.Query(ctx, `SELECT id FROM users WHERE username LIKE 'autor-%' OR username LIKE 'pruefer-%'`)
	if err != nil {
		b.Fatal(err)
	}
	ids := []int64{}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		identity, err := e.auth.IdentityByID(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		e.users[identity.Username] = identity
	}
}

// percentile returns the nearest-rank percentile p (0..100) of sorted d.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkSubmitApprove measures submit and approve (which publishes: the
// quorum is 1) through the real workflow.Service, from 4 concurrent
// clients, in a database of 10,000 articles and 100,000 revisions (and the
// 90,000 change requests and 360,000 audit events behind them), with SMTP
// configured. It reports p50/p95/p99 in ms per operation (target: p95 under
// 25 ms on 2 cores) and throughput. The set-up takes a minute or two, so
// each run measures a fixed 400 changes; run it with -benchtime 1x.
//
//	go test ./workflow/ -run '^$' -bench SubmitApprove -benchtime 1x
func BenchmarkSubmitApprove(b *testing.B) {
	e := newEnv(b)
	seedLargeWiki(b, e)
	// The search worker of the default configuration (PostgreSQL search)
	// runs beside the workflow, as in `hansewiki serve`: every publication
	// wakes it to refresh the article's search row after commit, on the
	// same two cores.
	searcher, err := search.Open(context.Background(), search.Config{Store: e.store, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := searcher.Worker().Refresh(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("search rows of %d seeded articles written in %s", n, time.Since(start).Round(time.Millisecond))
	wctx, stopWorker := context.WithCancel(context.Background())
	// Woken by publications, as in serve.
	changes := wiki.NewListener(e.pool, quiet)
	changes.Subscribe(wiki.PublishedChannel, func(context.Context, string) error { searcher.Worker().Wake(); return nil })
	workerDone := make(chan struct{}, 2)
	go func() { changes.Run(wctx); workerDone <- struct{}{} }()
	go func() { searcher.Run(wctx); workerDone <- struct{}{} }()
	defer func() { stopWorker(); <-workerDone; <-workerDone }()
	// With SMTP configured every notification also queues a mail.
	e.wf.Mail = &workflow.MailSettings{Host: "127.0.0.1", Port: "25", From: "wiki@hansewiki.example", BaseURL: "https://wiki.example"}
	ctx := context.Background()
	everything := wiki.Reader{Member: true, Cities: []string{"*"}}

	type timing struct{ create, submit, approve time.Duration }
	change := func(i int) (timing, error) {
		var t timing
		// Articles spread over the whole wiki, none touched twice.
		k := 1 + (i*7919)%benchArticles
		city := benchCities[k%6]
		a, err := e.store.Article(ctx, everything, city, fmt.Sprintf("erfahrungsbericht-%d", k))
		if err != nil {
			return t, err
		}
		author := workflow.Meta{Identity: e.users["autor-"+city], Addr: "192.0.2.20"}
		reviewer := workflow.Meta{Identity: e.users[fmt.Sprintf("pruefer-%s-%d", city, 1+i%3)], Addr: "192.0.2.30"}
		d := a.Revision.Draft()
		d.Body += fmt.Sprintf("\n\n## Nachtrag %d\n\nDie Messstelle am Hafen wurde im Frühjahr ergänzt; erste Ergebnisse liegen vor.", i)
		d.Summary = "Nachtrag zum Betrieb"
		start := time.Now()
		c, err := e.wf.Create(ctx, author, workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID})
		if err != nil {
			return t, err
		}
		t.create = time.Since(start)
		start = time.Now()
		if _, err := e.wf.Submit(ctx, author, c.ID, ""); err != nil {
			return t, err
		}
		t.submit = time.Since(start)
		start = time.Now()
		c, err = e.wf.Approve(ctx, reviewer, c.ID, "Passt.", 0)
		if err != nil {
			return t, err
		}
		t.approve = time.Since(start)
		if c.State != workflow.Published {
			return t, fmt.Errorf("change %d is %s after approval", c.ID, c.State)
		}
		return t, nil
	}
	run := func(first, n int) ([]timing, time.Duration) {
		next := make(chan int)
		var mu sync.Mutex
		var all []timing
		var wg sync.WaitGroup
		start := time.Now()
		for range benchClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					t, err := change(i)
					if err != nil {
						b.Error(err)
						continue
					}
					mu.Lock()
					all = append(all, t)
					mu.Unlock()
				}
			}()
		}
		for i := first; i < first+n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		return all, time.Since(start)
	}

	run(0, benchWarmUp)
	b.ResetTimer()
	all, elapsed := run(benchWarmUp, benchChanges)
	b.StopTimer()
	if b.Failed() {
		return
	}
	// The worker kept up: soon after the last approval every published
	// revision is in the search rows.
	caughtUp := time.Now()
	for {
		var behind int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM articles a LEFT JOIN search_documents d ON d.article_id = a.id
			WHERE a.published_revision_id IS NOT NULL AND NOT a.archived
			  AND d.revision_id IS DISTINCT FROM a.published_revision_id`).Scan(&behind); err != nil {
			b.Fatal(err)
		}
		if behind == 0 {
			break
		}
		if time.Since(caughtUp) > 30*time.Second {
			b.Fatalf("%d search rows still behind 30 s after the last publication", behind)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(ms(time.Since(caughtUp)), "search-caught-up-after-ms")
	report := func(name string, pick func(timing) time.Duration) {
		d := make([]time.Duration, len(all))
		for i, t := range all {
			d[i] = pick(t)
		}
		slices.Sort(d)
		b.ReportMetric(ms(percentile(d, 50)), name+"-p50-ms")
		b.ReportMetric(ms(percentile(d, 95)), name+"-p95-ms")
		b.ReportMetric(ms(percentile(d, 99)), name+"-p99-ms")
	}
	report("create", func(t timing) time.Duration { return t.create })
	report("submit", func(t timing) time.Duration { return t.submit })
	report("approve", func(t timing) time.Duration { return t.approve })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "changes/s")
	b.ReportMetric(float64(2*len(all))/elapsed.Seconds(), "submit+approve-ops/s")
	b.ReportMetric(0, "ns/op")
}

// More proposals at once than the pool has connections: each must finish.
// (A transaction that waited for a second pool connection used to starve
// the pool: every proposal hung until its context ended.)
func TestConcurrentProposalsWithASmallPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg, err := pgxpool.ParseConfig(e.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	wf := workflow.NewService(wiki.NewStore(pool, markdown.New()), e.auth, quiet)
	a := e.current("warnow-pegel")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d := a.Revision.Draft()
			d.Body = fmt.Sprintf("Vorschlag %d", i)
			if _, err := wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: i%2 == 0}); err != nil {
				t.Errorf("proposal %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
}
