package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/migrations"
	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env builds a getenv for run from key/value pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// cli runs one hansewiki command against dbURL and returns its output.
func cli(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut, env("DATABASE_URL", dbURL))
	return out.String() + errOut.String(), err
}

// writeCorpus writes files (path → content) under a new directory.
func writeCorpus(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startServer runs Main on a free port against dbURL until the test ends.
func startServer(t *testing.T, dbURL string) *Main {
	t.Helper()
	return serve(t, openServer(t, dbURL, nil))
}

// openServer opens Main on a free port without serving yet, so a test can
// adjust it first; log nil discards the logs.
func openServer(t *testing.T, dbURL string, log *slog.Logger) *Main {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0"}, Log: log}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// serve runs an opened Main until the test ends.
func serve(t *testing.T, m *Main) *Main {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("graceful shutdown: %v", err)
		}
		m.Close()
	})
	// Serve is ready once the publication listener is connected.
	waitFor(t, func() bool {
		resp, err := http.Get(m.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return m
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	status, body := get(t, url)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %d %q: %v", url, status, body, err)
	}
	return status
}

var corpus = map[string]string{
	"rostock/starkregen-hinweiskarte.md": `---
title: Starkregen-Hinweiskarte
topics: [klimaresilienz, wasser-umwelt]
tags: [starkregen, geodaten]
visibility: public
status: umsetzung
start_year: 2022
funding: Klimaanpassung urbaner Räume
---
## Ausgangslage

Rostock hat 2022 eine **Starkregen-Hinweiskarte** veröffentlicht.

| Jahr | Ereignisse |
|------|-----------:|
| 2021 | 3 |
| 2022 | 5 |

Mehr dazu in [[wismar/gruendach-kataster|Wismars Gründachkataster]] und [[fehlt-noch]].

<script>alert("x")</script>

## Über uns
`,
	"wismar/gruendach-kataster.md": `---
title: Gründach-Kataster
topics: [klimaresilienz, gebaeude]
tags: [gruendach]
visibility: network
---
Nur für Mitglieder. Zurück zu [[rostock/starkregen-hinweiskarte]].
`,
	"schwerin/interne-planung.md": `---
title: Interne Planung
topics: [e-akte]
tags: []
visibility: city
---
Geheim.
`,
}

func TestReadingEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil || !strings.Contains(out, "imported 3 article(s)") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// The command ends with the articles findable: their search rows are
	// written before it returns, with no server running.
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var indexed, queued int
	err = conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM search_documents), (SELECT count(*) FROM search_outbox)`).Scan(&indexed, &queued)
	conn.Close(context.Background())
	if err != nil || indexed != 3 || queued != 0 {
		t.Fatalf("after import: %d search rows, %d queued (%v); want 3 and 0", indexed, queued, err)
	}
	m := startServer(t, dbURL)
	base := m.URL()
	var found struct {
		Hits []struct{ Slug string }
	}
	if getJSON(t, base+"/api/v1/search?q=Starkregen", &found); len(found.Hits) != 1 || found.Hits[0].Slug != "starkregen-hinweiskarte" {
		t.Errorf("search after import = %+v", found)
	}

	status, page := get(t, base+"/c/rostock/starkregen-hinweiskarte")
	if status != 200 {
		t.Fatalf("article page: %d", status)
	}
	for _, want := range []string{
		`<h1 id="article-title">Starkregen-Hinweiskarte</h1>`,
		`id="ueber-uns"`, `href="#ueber-uns"`, // heading IDs keep German letters, and the TOC links them
		"<table", "Klimaanpassung urbaner Räume", "Umsetzung", "2022",
		`href="/c/wismar/gruendach-kataster"`, "wikilink-missing", `lang="de"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("article page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("article page contains the script from the Markdown")
	}
	if strings.Contains(page, "Gründach-Kataster</a>") {
		t.Error("anonymous article page lists a network-only backlink")
	}

	// Hidden articles answer 404 like missing ones, in pages and API.
	for _, path := range []string{"/c/wismar/gruendach-kataster", "/c/schwerin/interne-planung", "/c/wismar/gibt-es-nicht",
		"/c/wismar/gruendach-kataster/history", "/api/v1/articles/wismar/gruendach-kataster",
		"/api/v1/articles/schwerin/interne-planung/revisions"} {
		if status, _ := get(t, base+path); status != 404 {
			t.Errorf("GET %s = %d, want 404", path, status)
		}
	}
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	if getJSON(t, base+"/api/v1/articles/wismar/gruendach-kataster", &apiErr); apiErr.Error.Code != "not_found" {
		t.Errorf("API error body = %+v", apiErr)
	}

	status, home := get(t, base+"/")
	if status != 200 || !strings.Contains(home, "Starkregen-Hinweiskarte") || strings.Contains(home, "Gründach-Kataster") || strings.Contains(home, "Interne Planung") {
		t.Errorf("start page (status %d) must list the public article only", status)
	}
	for _, path := range []string{"/c", "/c/rostock", "/topics", "/topics/klimaresilienz", "/c/rostock/starkregen-hinweiskarte/history", "/?lang=en"} {
		if status, body := get(t, base+path); status != 200 || !strings.Contains(body, "</html>") {
			t.Errorf("GET %s = %d", path, status)
		}
	}
	if _, body := get(t, base+"/topics/klimaresilienz"); !strings.Contains(body, "Starkregen-Hinweiskarte") || strings.Contains(body, "Gründach") {
		t.Error("topic page must list exactly the readable articles")
	}
	if _, body := get(t, base+"/?lang=en"); !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Recently published") {
		t.Error("English start page not in English")
	}

	// JSON API, reading part.
	var cities []wiki.City
	if getJSON(t, base+"/api/v1/cities", &cities); len(cities) != 6 {
		t.Errorf("cities = %v", cities)
	}
	var topics []map[string]string
	if getJSON(t, base+"/api/v1/topics", &topics); len(topics) < 10 || topics[0]["name"] == "" {
		t.Errorf("topics = %v", topics)
	}
	var list []map[string]any
	getJSON(t, base+"/api/v1/articles", &list)
	if len(list) != 1 || list[0]["slug"] != "starkregen-hinweiskarte" || list[0]["updated_at"] == nil {
		t.Errorf("articles = %v", list)
	}
	if getJSON(t, base+"/api/v1/articles?topic=gebaeude", &list); len(list) != 0 {
		t.Errorf("articles on gebaeude for anonymous = %v", list)
	}
	if status, _ := get(t, base+"/api/v1/articles?limit=abc"); status != 400 {
		t.Errorf("bad limit answered %d, want 400", status)
	}
	var art map[string]any
	getJSON(t, base+"/api/v1/articles/rostock/starkregen-hinweiskarte", &art)
	for _, k := range []string{"city", "slug", "title", "body", "html", "revision", "topics", "tags", "visibility", "updated_at"} {
		if _, ok := art[k]; !ok {
			t.Errorf("article JSON lacks %q", k)
		}
	}
	if strings.Contains(art["html"].(string), "<script") || !strings.Contains(art["body"].(string), "<script>") {
		t.Error("API must return the source as written and the HTML sanitized")
	}
	var revs []map[string]any
	getJSON(t, base+"/api/v1/articles/rostock/starkregen-hinweiskarte/revisions", &revs)
	if len(revs) != 1 || revs[0]["published"] != true || revs[0]["author"] != "hansewiki" {
		t.Fatalf("revisions = %v", revs)
	}
	var rev map[string]any
	id := int64(revs[0]["id"].(float64))
	getJSON(t, base+"/api/v1/articles/rostock/starkregen-hinweiskarte/revisions/"+itoa(id), &rev)
	if rev["body"] == "" || rev["html"] == "" || rev["id"].(float64) != float64(id) {
		t.Errorf("revision = %v", rev)
	}
	if status, _ := get(t, base+"/api/v1/articles/wismar/gruendach-kataster/revisions/"+itoa(id)); status != 404 {
		t.Errorf("revision of a hidden article: %d", status)
	}

	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "hansewiki_http_requests_total"} {
		if status, body := get(t, base+path); status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %q", path, status, body)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A publication on one instance must reach the cached pages of every
// instance, and the history and diff must show both versions.
func TestPublicationInvalidatesCachedPagesOnEveryInstance(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	a, b := startServer(t, dbURL), startServer(t, dbURL)
	path := "/c/rostock/starkregen-hinweiskarte"
	for _, m := range []*Main{a, b} {
		get(t, m.URL()+path) // fill each cache
		if _, body := get(t, m.URL()+path); !strings.Contains(body, "Rostock hat 2022") {
			t.Fatal("article not served")
		}
	}

	// Publish a new revision through instance a's store.
	ctx := context.Background()
	art, err := a.Store.Article(ctx, wiki.Reader{}, "rostock", "starkregen-hinweiskarte")
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		d := art.Revision.Draft()
		d.Body = strings.Replace(d.Body, "Rostock hat 2022", "Rostock hat im Jahr 2022", 1)
		d.Summary = "Präzisiert"
		rev, err := a.Store.InsertRevision(ctx, tx, art.ID, art.Revision.ID, wiki.SystemUserID, &d)
		if err != nil {
			return err
		}
		return a.Store.Publish(ctx, tx, art.ID, rev.ID, art.Revision.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Main{a, b} {
		waitFor(t, func() bool {
			_, body := get(t, m.URL()+path)
			return strings.Contains(body, "Rostock hat im Jahr 2022")
		})
	}

	status, hist := get(t, b.URL()+path+"/history")
	if status != 200 || !strings.Contains(hist, "Präzisiert") || strings.Count(hist, `name="from"`) != 2 {
		t.Fatalf("history (%d) must list both versions", status)
	}
	status, diff := get(t, b.URL()+path+"/diff?from="+itoa(art.Revision.ID))
	if status != 200 || !strings.Contains(diff, "<ins>") || !strings.Contains(diff, "im Jahr") {
		t.Fatalf("diff (%d) must show the inserted words:\n%s", status, diff)
	}
	if status, _ := get(t, b.URL()+path+"/diff?from=abc"); status != 404 {
		t.Errorf("diff with a bad revision number: %d", status)
	}
	status, old := get(t, b.URL()+path+"/revisions/"+itoa(art.Revision.ID))
	if status != 200 || !strings.Contains(old, "Rostock hat 2022") || !strings.Contains(old, `role="note"`) {
		t.Errorf("old revision page (%d) must show the old text with a notice", status)
	}
}

func TestExportImportExportIsIdentical(t *testing.T) {
	t.Parallel()
	first, second := pgtest.URL(t), pgtest.URL(t)
	if out, err := cli(t, first, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if out, err := cli(t, first, "seed", "--demo"); err != nil || !strings.Contains(out, "imported 0 article(s)") {
		t.Fatalf("seeding twice must keep what is there: %v\n%s", err, out)
	}
	// One article archived: the flag travels with it.
	conn, _ := pgxConnect(t, first)
	var archived string
	if err := conn.QueryRow(context.Background(), `UPDATE articles SET archived = true
		WHERE id = (SELECT min(id) FROM articles WHERE published_revision_id IS NOT NULL)
		RETURNING city || '/' || slug || '.md'`).Scan(&archived); err != nil {
		t.Fatal(err)
	}
	dir1, dir2 := t.TempDir(), t.TempDir()
	if out, err := cli(t, first, "export", dir1); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if !strings.Contains(readTree(t, dir1)[archived], "\narchived: true\n") {
		t.Errorf("the export of the archived article %s does not say so", archived)
	}
	if out, err := cli(t, second, "import", dir1); err != nil {
		t.Fatalf("import of an export: %v\n%s", err, out)
	}
	if out, err := cli(t, second, "export", dir2); err != nil {
		t.Fatalf("second export: %v\n%s", err, out)
	}
	files1, files2 := readTree(t, dir1), readTree(t, dir2)
	if len(files1) < 12 {
		t.Fatalf("demo export has %d files, want at least a dozen", len(files1))
	}
	for name, content := range files1 {
		if files2[name] != content {
			t.Errorf("%s differs after export → import → export", name)
		}
	}
	if len(files1) != len(files2) {
		t.Errorf("exports have %d and %d files", len(files1), len(files2))
	}
	conn2, _ := pgxConnect(t, second)
	var n int
	if err := conn2.QueryRow(context.Background(), `SELECT count(*) FROM articles WHERE archived`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d archived articles after the import (%v), want 1", n, err)
	}
	if out, err := cli(t, second, "export", dir2); err == nil {
		t.Errorf("export into a non-empty directory must refuse:\n%s", out)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestImportReportsEveryBadFileAndImportsNothing(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	good := "---\ntitle: Gut\ntopics: [energie]\nvisibility: public\n---\nText\n"
	dir := writeCorpus(t, map[string]string{
		"wismar/gut.md":            good,
		"wismar/kaputt.md":         "---\ntitle: Kaputt\n---\nText \xff\xfe\n",
		"wismar/ohne-kopf.md":      "# Nur Text\n",
		"atlantis/versunken.md":    good,
		"wismar/riesig.md":         "---\ntitle: Riesig\n---\n" + strings.Repeat("Text ", 420000),
		"wismar/GROSS.md":          good,
		"wismar/zu/tief/datei.md":  good,
		"stralsund/doppelt.md":     good,
		"stralsund/doppelt-alt.md": "---\ntitle: Doppelt\n---\n",
	})
	_, err := cli(t, dbURL, "import", dir)
	if err == nil {
		t.Fatal("import of bad files succeeded")
	}
	msg := err.Error()
	for _, name := range []string{"wismar/kaputt.md", "wismar/ohne-kopf.md", "wismar/zu/tief/datei.md"} {
		if !strings.Contains(msg, name) {
			t.Errorf("error does not name %s:\n%s", name, msg)
		}
	}
	// Files that parse are checked against the database next.
	if err := os.RemoveAll(filepath.Join(dir, "wismar", "kaputt.md")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "wismar", "ohne-kopf.md"))
	os.RemoveAll(filepath.Join(dir, "wismar", "zu"))
	_, err = cli(t, dbURL, "import", dir)
	if err == nil {
		t.Fatal("import succeeded")
	}
	msg = err.Error()
	for _, want := range []string{"atlantis/versunken.md", "wismar/riesig.md", "wismar/GROSS.md", "nothing was imported"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %s:\n%s", want, msg)
		}
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	conn.QueryRow(context.Background(), "SELECT count(*) FROM articles").Scan(&n)
	if n != 0 {
		t.Fatalf("%d articles imported from a refused import", n)
	}
}

func TestServingRefusesASchemaFromTheFuture(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'future')", migrations.Latest()+1)
	conn.Close(context.Background())
	m := &Main{Config: Config{DatabaseURL: dbURL}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer m.Close()
	if err := m.Open(context.Background()); !errors.Is(err, migrations.ErrSchemaAhead) {
		t.Fatalf("Open = %v, want ErrSchemaAhead", err)
	}
}

// With no DATABASE_URL every command runs on the private cluster under the
// data directory, and stops it again.
func TestEmbeddedDefaultCluster(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "hansewiki-data-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	var out bytes.Buffer
	getenv := env("HANSEWIKI_DATA_DIR", dir)
	if err := run(context.Background(), []string{"seed", "--demo"}, nil, &out, &out, getenv); err != nil {
		t.Fatalf("seed on the embedded cluster: %v\n%s", err, out.String())
	}
	out.Reset()
	exportDir := t.TempDir()
	if err := run(context.Background(), []string{"export", exportDir}, nil, &out, &out, getenv); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "exported") || len(readTree(t, exportDir)) < 12 {
		t.Fatalf("the second command did not see the first one's data:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the private cluster is still running after the command")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func pgxConnect(t *testing.T, dbURL string) (*pgx.Conn, error) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, nil
}
