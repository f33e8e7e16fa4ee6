package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
)

// A city admin archives an article of their city from its page: it leaves
// the start page, the article list and search at once, stays readable at
// its address with a notice, the audit log records who did it, and bringing
// it back makes it findable again. Nobody else may.
func TestArchivingAnArticle(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "admin-hwi", [2]string{"admin", "wismar"})
	addUser(t, dbURL, "autorin-hro", [2]string{"author", "rostock"})
	m := startServer(t, dbURL)
	const page = "/c/rostock/starkregen-hinweiskarte"
	const archive = page + "/archive"

	anon := newClient(t, m.URL())
	findable := func() bool {
		t.Helper()
		_, body := anon.get("/api/v1/search?q=Starkregen")
		var res struct{ Hits []struct{ Slug string } }
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("search answer: %v\n%s", err, body)
		}
		return len(res.Hits) == 1 && res.Hits[0].Slug == "starkregen-hinweiskarte"
	}
	listed := func() bool {
		t.Helper()
		_, home := anon.get("/")
		_, list := anon.get("/api/v1/articles")
		return strings.Contains(home, "Starkregen-Hinweiskarte") && strings.Contains(list, "starkregen-hinweiskarte")
	}
	if !findable() || !listed() {
		t.Fatal("the article is not listed and findable before archiving")
	}

	// Neither an author of the city nor the admin of another city may; they
	// are not offered the button either.
	for _, name := range []string{"autorin-hro", "admin-hwi"} {
		c := newClient(t, m.URL())
		c.login(name, testPassword)
		_, body := c.get(page)
		if strings.Contains(body, "Archivieren") {
			t.Errorf("%s is offered to archive", name)
		}
		if status, _, _ := c.postForm(archive, url.Values{"csrf_token": {csrfOf(t, body)}, "archive": {"on"}}); status != http.StatusForbidden {
			t.Errorf("%s archiving: %d, want 403", name, status)
		}
	}

	admin := newClient(t, m.URL())
	admin.login("admin-hro", testPassword)
	_, body := admin.get(page)
	if !strings.Contains(body, "Archivieren") {
		t.Fatal("the city admin is not offered to archive")
	}
	if status, _, _ := admin.postForm(archive, url.Values{"archive": {"on"}}); status != http.StatusForbidden {
		t.Errorf("archiving without the CSRF token: %d, want 403", status)
	}
	// Archiving asks first, on a page of its own (no JavaScript needed).
	status, _, hdr := admin.postForm(archive, url.Values{"csrf_token": {csrfOf(t, body)}, "archive": {"on"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != archive {
		t.Fatalf("archiving without confirmation: %d → %q, want the question", status, hdr.Get("Location"))
	}
	if status, question := admin.get(archive); status != 200 || !strings.Contains(question, "Artikel archivieren?") || !strings.Contains(question, `name="confirmed" value="1"`) {
		t.Fatalf("confirmation page: %d", status)
	}
	status, _, hdr = admin.postForm(archive, url.Values{"csrf_token": {csrfOf(t, body)}, "archive": {"on"}, "confirmed": {"1"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != page {
		t.Fatalf("archiving: %d → %q", status, hdr.Get("Location"))
	}
	_, body = admin.get(page)
	for _, want := range []string{"Der Artikel ist archiviert.", "Dieser Artikel ist archiviert", "Wieder aktivieren"} {
		if !strings.Contains(body, want) {
			t.Errorf("after archiving the page lacks %q", want)
		}
	}
	if findable() || listed() {
		t.Error("the archived article is still listed or findable")
	}
	if status, body := anon.get(page); status != 200 || !strings.Contains(body, "Dieser Artikel ist archiviert") {
		t.Errorf("the archived article's page: %d, or without the notice", status)
	}
	_, events := admin.get("/api/v1/audit?object=" + url.QueryEscape("article:rostock/starkregen-hinweiskarte"))
	if !strings.Contains(events, `"article.archived"`) || !strings.Contains(events, `"admin-hro"`) {
		t.Errorf("the audit log lacks the archiving: %s", events)
	}

	_, body = admin.get(page)
	if status, _, _ := admin.postForm(archive, url.Values{"csrf_token": {csrfOf(t, body)}, "archive": {"off"}}); status != http.StatusSeeOther {
		t.Fatalf("bringing back: %d", status)
	}
	if !listed() {
		t.Error("the article brought back is not listed")
	}
	// Its search row is written by the worker, right after commit.
	deadline := time.Now().Add(10 * time.Second)
	for !findable() {
		if time.Now().After(deadline) {
			t.Fatal("the article brought back is not findable 10 s later")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
