package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/migrations/pglocal"
	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

// Fault tests: PostgreSQL restarts and dropped LISTEN connections under
// load, with two instances on one database. Both must survive, say "not
// ready" while they cannot follow other instances' changes, and afterwards
// carry on: page caches, roles and the search outbox.

const faultArticle = "/c/rostock/starkregen-hinweiskarte"

// faultSetup imports the articles and accounts the fault tests use.
func faultSetup(t *testing.T, dbURL string) {
	t.Helper()
	files := maps.Clone(corpus)
	files["rostock/intern.md"] = "---\ntitle: Intern Rostock\ntopics: [energie]\nvisibility: city\n---\nNur für Rostock.\n"
	if out, err := cli(t, dbURL, "import", writeCorpus(t, files)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "lotte")
}

// statusOf answers the status of GET url, or 0 when there was no answer.
func statusOf(url string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus waits until GET url answers want.
func waitStatus(t *testing.T, url string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	got := 0
	for got = statusOf(url); got != want; got = statusOf(url) {
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d for %s, want %d", url, got, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lightLoad reads pages, API answers and /readyz from every instance until
// stop is called; stop reports how many requests answered 200.
func lightLoad(ms ...*Main) (stop func() int64) {
	ctx, cancel := context.WithCancel(context.Background())
	var ok atomic.Int64
	var wg sync.WaitGroup
	for _, m := range ms {
		for _, path := range []string{faultArticle, "/api/v1/articles/rostock/starkregen-hinweiskarte", "/", "/readyz"} {
			wg.Go(func() {
				for ctx.Err() == nil {
					if statusOf(m.URL()+path) == 200 {
						ok.Add(1)
					}
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
	}
	return func() int64 { cancel(); wg.Wait(); return ok.Load() }
}

// listenBackends counts the instances' LISTEN connections on the database.
func listenBackends(t *testing.T, m *Main) int {
	t.Helper()
	var n int
	if err := m.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, wiki.ListenerApp).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// publishEdit changes the cached article through a's JSON API: the author
// proposes, the reviewer approves, and the change is published.
func publishEdit(t *testing.T, a *Main, text string) {
	t.Helper()
	publishThroughAPI(t, a, "\n\n"+text, "public", "Ergänzt")
}

// publishThroughAPI publishes a change of the fault corpus's article: the
// author proposes it (the body extended by extra, with visibility vis), the
// reviewer approves it; it returns once the approval answered.
func publishThroughAPI(t *testing.T, a *Main, extra, vis, summary string) {
	t.Helper()
	author, reviewer := newClient(t, a.URL()), newClient(t, a.URL())
	author.token, reviewer.token = apiToken(t, a.URL(), "autorin"), apiToken(t, a.URL(), "pruefer")
	var art struct {
		Title    string
		Body     string
		Revision int64
	}
	status, body := author.get("/api/v1/articles/rostock/starkregen-hinweiskarte")
	if err := json.Unmarshal([]byte(body), &art); status != 200 || err != nil {
		t.Fatalf("reading the article: %d %s", status, body)
	}
	created := author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "starkregen-hinweiskarte",
		"base_revision": art.Revision, "title": art.Title, "body": art.Body + extra, "summary": summary,
		"topics": []string{"klimaresilienz"}, "visibility": vis, "submit": true}, 201)
	approved := reviewer.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", created.ID), map[string]string{"comment": "Gut"}, 200)
	if approved.State != "published" {
		t.Fatalf("after the approval: %+v", approved)
	}
}

// cacheArticle makes sure each instance holds the article page in its cache.
func cacheArticle(t *testing.T, ms ...*Main) {
	t.Helper()
	for _, m := range ms {
		for range 2 {
			if status, _ := get(t, m.URL()+faultArticle); status != 200 {
				t.Fatalf("article: %d", status)
			}
		}
	}
}

// carriesOn checks what must hold once both instances are back: the edit
// published through a is on b's (cached) page and found by b's PostgreSQL
// search, the outbox is empty, and the role grant is enforced by both.
func carriesOn(t *testing.T, a, b *Main, word string, readers map[*Main]*client) {
	t.Helper()
	for _, m := range []*Main{a, b} {
		waitFor(t, func() bool {
			_, body := get(t, m.URL()+faultArticle)
			return strings.Contains(body, word)
		})
	}
	waitFor(t, func() bool {
		var found struct{ Hits []struct{ City, Slug string } }
		getJSON(t, b.URL()+"/api/v1/search?q="+word, &found)
		var pending int
		if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM search_outbox`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return len(found.Hits) == 1 && found.Hits[0].Slug == "starkregen-hinweiskarte" && pending == 0
	})
	for _, c := range readers {
		waitFor(t, func() bool {
			status, _ := c.get("/api/v1/articles/rostock/intern")
			return status == 200
		})
	}
}

// readersOf gives lotte an API client on each instance and checks that
// she cannot read Rostock's city-only article yet.
func readersOf(t *testing.T, ms ...*Main) map[*Main]*client {
	t.Helper()
	readers := map[*Main]*client{}
	for _, m := range ms {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), "lotte")
		if status, _ := c.get("/api/v1/articles/rostock/intern"); status != 404 {
			t.Fatalf("lotte reads a city-only article without a role: %d", status)
		}
		readers[m] = c
	}
	return readers
}

// Dropping the LISTEN connections under load (a failover, an administrator
// ending backends): both instances survive; while they cannot listen again
// they answer /readyz with 503 although queries still work, and what was
// published and granted meanwhile reaches both once they are back.
func TestDroppedListenConnectionsUnderLoad(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	faultSetup(t, dbURL)
	a, b := startServer(t, dbURL), startServer(t, dbURL)
	ctx := context.Background()
	// One LISTEN connection per process, and no other connection listens.
	var listeners, listening int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE application_name = $1), count(*) FILTER (WHERE query ILIKE 'LISTEN%')
		FROM pg_stat_activity WHERE datname = current_database()`, wiki.ListenerApp).Scan(&listeners, &listening); err != nil {
		t.Fatal(err)
	}
	if listeners != 2 || listening != 2 {
		t.Fatalf("two instances hold %d listener connections and %d connections that ran LISTEN, want 2 and 2", listeners, listening)
	}
	stopLoad := lightLoad(a, b)
	for i := range 3 {
		if _, err := a.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, wiki.ListenerApp); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return listenBackends(t, a) == 2 })
		for _, m := range []*Main{a, b} {
			waitStatus(t, m.URL()+"/readyz", 200, 10*time.Second)
		}
		if i == 0 {
			publishEdit(t, a, "Pegelmessung")
			waitFor(t, func() bool { _, body := get(t, b.URL()+faultArticle); return strings.Contains(body, "Pegelmessung") })
		}
	}
	if ok := stopLoad(); ok == 0 {
		t.Fatal("no request of the load succeeded")
	}

	// Now keep them from listening again: no new connections to the
	// database. The pools' open connections still answer queries.
	cacheArticle(t, a, b)
	readers := readersOf(t, a, b)
	var db string
	a.Pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db)
	admCfg := a.Pool.Config().ConnConfig.Copy()
	admCfg.Database = "postgres"
	adm, err := pgx.ConnectConfig(ctx, admCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.Close(ctx) })
	allow := func(ok bool) {
		t.Helper()
		if _, err := adm.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t`, pgx.Identifier{db}.Sanitize(), ok)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	if _, err := adm.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = $2`, db, wiki.ListenerApp); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Main{a, b} {
		waitStatus(t, m.URL()+"/readyz", 503, 10*time.Second)
		if status := statusOf(m.URL() + "/healthz"); status != 200 {
			t.Fatalf("/healthz = %d while not ready", status)
		}
	}
	// Published and granted while nobody listens: the notifications are lost.
	publishEdit(t, a, "Rückhaltebecken")
	if err := a.Auth.Grant(ctx, "lotte", "author", "rostock", "test"); err != nil {
		t.Fatal(err)
	}
	allow(true)
	for _, m := range []*Main{a, b} {
		waitStatus(t, m.URL()+"/readyz", 200, 10*time.Second)
	}
	carriesOn(t, a, b, "Rückhaltebecken", readers)
}

// A restart of PostgreSQL (stop, then start on the same socket) with two
// instances under load: both survive, /readyz answers 503 while the
// database is away and 200 once they listen again, and afterwards a
// publication through one instance reaches the other's page cache and
// search, and a role granted is enforced by both.
func TestPostgresRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL cluster")
	}
	if _, err := pglocal.BinDir(); err != nil {
		t.Fatal(err) // says what to install
	}
	t.Parallel()
	dir, err := os.MkdirTemp("", "hw-fault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // reachable for the unprivileged server user when run as root
	opts := pglocal.Options{Dir: dir + "/pg", Port: 5433, NoSync: true}
	ctx := context.Background()
	cluster, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	faultSetup(t, cluster.URL)
	a, b := startServer(t, cluster.URL), startServer(t, cluster.URL)
	cacheArticle(t, a, b)
	readers := readersOf(t, a, b)

	stopLoad := lightLoad(a, b)
	publishEdit(t, a, "Pegelmessung")
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Main{a, b} {
		waitStatus(t, m.URL()+"/readyz", 503, 10*time.Second)
		if status := statusOf(m.URL() + "/healthz"); status != 200 {
			t.Fatalf("/healthz = %d while PostgreSQL is down", status)
		}
	}
	time.Sleep(500 * time.Millisecond) // a little outage under load
	if cluster, err = pglocal.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Main{a, b} {
		waitStatus(t, m.URL()+"/readyz", 200, 30*time.Second)
	}
	if ok := stopLoad(); ok == 0 {
		t.Fatal("no request of the load succeeded")
	}

	cacheArticle(t, b)
	publishEdit(t, a, "Rückhaltebecken")
	if out, err := cli(t, cluster.URL, "role", "grant", "lotte", "author", "rostock"); err != nil {
		t.Fatalf("role grant: %v\n%s", err, out)
	}
	carriesOn(t, a, b, "Rückhaltebecken", readers)
}

// Shutting down waits for the background work: when Serve returns, the
// listener, the search and mail workers and the session cleanup have all
// stopped. (Not parallel: the other tests' servers must not be running
// while the goroutines are counted.)
func TestShutdownWaitsForBackgroundWork(t *testing.T) {
	dbURL := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0", BaseURL: "http://wiki.example",
		SMTPURL: "smtp://127.0.0.1:1?from=wiki@example.org"}, Log: discardLogger()}
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	waitStatus(t, m.URL()+"/readyz", 200, 10*time.Second)
	workers := []string{"wiki.(*Listener).Run", "wiki.(*Barrier).Run", "search.(*Worker).Run", "workflow.(*Mailer).Run", "auth.(*Sessions).RunCleanup"}
	running := func() []string {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var found []string
		for _, w := range workers {
			if strings.Contains(stacks, w) {
				found = append(found, w)
			}
		}
		return found
	}
	if got := running(); len(got) != len(workers) {
		t.Fatalf("while serving, running: %v, want all of %v", got, workers)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if got := running(); len(got) > 0 {
		t.Fatalf("Serve returned while still running: %v", got)
	}
	// A cleanly stopped instance deregisters: no narrowing waits for it.
	var left int
	if err := m.Pool.QueryRow(context.Background(), `SELECT count(*) FROM instances`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("after shutdown %d instance(s) still registered (%v)", left, err)
	}
}

// A background worker that panics is restarted instead of ending the
// process, and stops with the others.
func TestPanickingWorkerIsRestarted(t *testing.T) {
	t.Parallel()
	m := &Main{Log: discardLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopBackground = cancel
	var runs atomic.Int32
	again := make(chan struct{})
	m.goBackground(ctx, "flaky", func(ctx context.Context) {
		if runs.Add(1) == 1 {
			panic("a bug")
		}
		close(again)
		<-ctx.Done()
	})
	select {
	case <-again:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker was not restarted")
	}
	m.waitBackground()
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs", n)
	}
}
