package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

// leakCorpus: articles of every visibility, and a public and a network
// page linking to all of them and to one that does not exist.
var leakCorpus = map[string]string{
	"rostock/intern.md":   "---\ntitle: Geheimplan Rostock\nvisibility: city\n---\nKlärwerk\n",
	"rostock/netzwerk.md": "---\ntitle: Netzwerkplan Rostock\nvisibility: network\n---\nKlärwerk\n",
	"rostock/offen.md":    "---\ntitle: Offener Plan\nvisibility: public\n---\nKlärwerk\n",
	"wismar/intern.md":    "---\ntitle: Geheimplan Wismar\nvisibility: city\n---\nKlärwerk\n",
	"rostock/verweise.md": "---\ntitle: Verweisliste\nvisibility: public\n---\n" + leakLinks + "\n",
	"rostock/netz.md":     "---\ntitle: Netzverweise\nvisibility: network\n---\n" + leakLinks + "\n",
}

const leakLinks = "[[intern]] [[netzwerk]] [[offen]] [[wismar/intern]] [[fehlt]]"

// leakTargets: the link targets, with the title and visibility.
var leakTargets = []struct{ path, title, vis string }{
	{"rostock/intern", "Geheimplan Rostock", "city"},
	{"rostock/netzwerk", "Netzwerkplan Rostock", "network"},
	{"rostock/offen", "Offener Plan", "public"},
	{"wismar/intern", "Geheimplan Wismar", "city"},
}

// canRead is the permission table of the specification for the subjects
// below, written out independently of the code.
func canRead(user, path, vis string) bool {
	city, _, _ := strings.Cut(path, "/")
	switch {
	case vis == "public":
		return true
	case user == "":
		return false
	case vis == "network" || user == "koordination":
		return true
	case user == "mitglied":
		return false
	case user == "autor-hwi":
		return city == "wismar"
	}
	return city == "rostock" // author, reviewer and admin of Rostock
}

var wikiLinkTag = regexp.MustCompile(`<a href="/c/([a-z-]+)/([a-z-]+)"( class="[^"]*")?( title="[^"]*")?>([^<]*)</a>`)

// linkStates returns, for each link in html to "city/slug", whether it is
// marked existing and its text; a link marked missing must look exactly
// like the one to the article that does not exist (rostock/fehlt).
func linkStates(t *testing.T, who, html string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var missingAttrs string
	for _, m := range wikiLinkTag.FindAllStringSubmatch(html, -1) {
		if m[1]+"/"+m[2] == "rostock/fehlt" {
			missingAttrs = m[3] + m[4]
		}
	}
	if missingAttrs == "" {
		t.Fatalf("%s: no link to the missing article in %s", who, html)
	}
	for _, m := range wikiLinkTag.FindAllStringSubmatch(html, -1) {
		path := m[1] + "/" + m[2]
		if m[3]+m[4] == missingAttrs {
			if _, slug, _ := strings.Cut(path, "/"); m[5] != slug && m[5] != path {
				t.Errorf("%s: link to %s is marked missing but shows %q", who, path, m[5])
			}
			out[path] = ""
			continue
		}
		out[path] = m[5]
	}
	return out
}

// TestNoSideChannelReveals is the permission matrix of the side channels:
// for every role, the preview (with every visibility it may choose), the
// stored link markers of public and network pages, a proposal's rendering,
// backlinks, feeds and search show an article only to those who may open
// it, and right after an approval narrowed it nobody else learns of it.
func TestNoSideChannelReveals(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, leakCorpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "mitglied")
	addUser(t, dbURL, "autor-hro", [2]string{"author", "rostock"})
	addUser(t, dbURL, "autor-hwi", [2]string{"author", "wismar"})
	addUser(t, dbURL, "pruefer-hro", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	m := startServer(t, dbURL)
	users := []string{"", "mitglied", "autor-hro", "autor-hwi", "pruefer-hro", "admin-hro", "koordination"}
	clients := map[string]*client{}
	for _, u := range users {
		clients[u] = newClient(t, m.URL())
		if u != "" {
			clients[u].token = apiToken(t, m.URL(), u)
		}
	}
	html := func(c *client, path string) string {
		t.Helper()
		var a struct{ HTML string }
		status, body := c.get("/api/v1/articles/" + path)
		if status != 200 || json.Unmarshal([]byte(body), &a) != nil {
			t.Fatalf("GET %s = %d %s", path, status, body)
		}
		return a.HTML
	}

	for _, user := range users {
		c := clients[user]
		// Stored link markers: one rendering for every reader of the page,
		// so a link is marked existing only where all of them may open it.
		for page, audience := range map[string]string{"rostock/verweise": "", "rostock/netz": "mitglied"} {
			if !canRead(user, page, map[string]string{"": "public", "mitglied": "network"}[audience]) {
				continue
			}
			states := linkStates(t, user+" reading "+page, html(c, page))
			for _, target := range leakTargets {
				want := ""
				if canRead(audience, target.path, target.vis) {
					want = target.title
				}
				if got := states[target.path]; got != want {
					t.Errorf("%q reading %s: link to %s shows %q, want %q", user, page, target.path, got, want)
				}
			}
		}

		// The preview, with each visibility the requester may choose.
		for _, vis := range []string{"public", "network", "city"} {
			form := url.Values{"city": {"rostock"}, "visibility": {vis}, "body": {leakLinks}}
			status, body, _ := c.postForm("/preview", form)
			if user == "" {
				if status == 200 {
					t.Errorf("anonymous preview answered 200: %s", body)
				}
				continue
			}
			if status != 200 {
				t.Fatalf("%s preview: %d %s", user, status, body)
			}
			audience := map[string]string{"public": "", "network": "mitglied", "city": "pruefer-hro"}[vis]
			states := linkStates(t, user+" previewing "+vis, body)
			for _, target := range leakTargets {
				want := ""
				if canRead(user, target.path, target.vis) && canRead(audience, target.path, target.vis) {
					want = target.title
				}
				if got := states[target.path]; got != want {
					t.Errorf("%q previewing a %s Rostock article: link to %s shows %q, want %q", user, vis, target.path, got, want)
				}
			}
		}

		// Backlinks, feeds and search name only readable articles.
		for _, path := range []string{"/c/rostock/offen", "/feed.atom", "/c/rostock/feed.atom", "/api/v1/search?q=Klärwerk",
			"/api/v1/search/suggest?q=Geheimpl", "/api/v1/search/suggest?q=Netzwerkpl", "/api/v1/search/suggest?q=Netzverw"} {
			_, body := c.get(path)
			for _, secret := range []struct{ path, title, vis string }{leakTargets[0], leakTargets[1], leakTargets[3], {"rostock/netz", "Netzverweise", "network"}} {
				if strings.Contains(body, secret.title) && !canRead(user, secret.path, secret.vis) {
					t.Errorf("%q GET %s names %q", user, path, secret.title)
				}
			}
		}
	}

	// A proposal of an author from Wismar: a city-only version of the
	// public link page. Its stored rendering is made for Rostock's staff;
	// the author's view of it must not show what the author may not know.
	var base struct{ Revision int64 }
	_, body := clients["autor-hwi"].get("/api/v1/articles/rostock/verweise")
	json.Unmarshal([]byte(body), &base)
	status, resp := clients["autor-hwi"].sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "verweise",
		"base_revision": base.Revision, "title": "Verweisliste", "body": leakLinks, "summary": "Sichtbarkeit", "visibility": "city"})
	if status != 201 {
		t.Fatalf("proposal: %d %s", status, resp)
	}
	var change struct{ ID int64 }
	json.Unmarshal([]byte(resp), &change)
	for _, user := range []string{"autor-hwi", "pruefer-hro"} {
		status, page := clients[user].get(fmt.Sprintf("/changes/%d", change.ID))
		if status != 200 {
			t.Fatalf("%s GET change page: %d", user, status)
		}
		for _, target := range leakTargets {
			if strings.Contains(page, target.title) && !canRead(user, target.path, target.vis) {
				t.Errorf("%s sees %q on the change page of a proposal", user, target.title)
			}
		}
	}
	if _, page := clients["pruefer-hro"].get(fmt.Sprintf("/changes/%d", change.ID)); !strings.Contains(page, "Geheimplan Rostock") {
		t.Error("Rostock's reviewer does not see the link title in a Rostock-only proposal")
	}

	// A member watches the public article; Rostock makes it city-only. At
	// once, with no wait: the public pages mark the link missing, search
	// does not find it, and the member's notifications do not name it.
	if status, body, _ := clients["mitglied"].postForm("/c/rostock/offen/watch", url.Values{"watch": {"on"}}); status >= 400 {
		t.Fatalf("watch: %d %s", status, body)
	}
	waitFor(t, func() bool { // the search worker has indexed the corpus
		_, body := clients[""].get("/api/v1/search?q=Offener")
		return strings.Contains(body, "Offener Plan")
	})
	_, body = clients["autor-hro"].get("/api/v1/articles/rostock/offen")
	json.Unmarshal([]byte(body), &base)
	status, resp = clients["autor-hro"].sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "offen",
		"base_revision": base.Revision, "title": "Vertraulicher Plan", "body": "Klärwerk", "summary": "nur intern", "visibility": "city", "submit": true})
	if status != 201 {
		t.Fatalf("narrowing proposal: %d %s", status, resp)
	}
	json.Unmarshal([]byte(resp), &change)
	if status, body := clients["pruefer-hro"].act(change.ID, "approve", ""); status != 200 {
		t.Fatalf("approve: %d %s", status, body)
	}
	for _, user := range []string{"", "mitglied", "autor-hwi"} {
		c := clients[user]
		if got := linkStates(t, user, html(c, "rostock/verweise"))["rostock/offen"]; got != "" {
			t.Errorf("%q: right after narrowing, the public page marks the link as existing (%q)", user, got)
		}
		// The HTML page and the feeds too, though they may come from a cache.
		_, page := c.get("/c/rostock/verweise")
		if got := linkStates(t, user, page)["rostock/offen"]; got != "" {
			t.Errorf("%q: right after narrowing, the public page's HTML marks the link as existing (%q)", user, got)
		}
		for _, feed := range []string{"/feed.atom", "/c/rostock/feed.atom"} {
			if _, body := c.get(feed); strings.Contains(body, "Offener Plan") || strings.Contains(body, "/c/rostock/offen") {
				t.Errorf("%q: right after narrowing, %s still lists the article", user, feed)
			}
		}
		for _, path := range []string{"/api/v1/search?q=Offener", "/api/v1/search?q=Vertraulicher", "/api/v1/search/suggest?q=Vertraul",
			"/feed.atom", "/c/rostock/offen"} {
			if _, body := c.get(path); strings.Contains(body, "Vertraulicher Plan") || strings.Contains(body, `"slug":"offen"`) {
				t.Errorf("%q: right after narrowing, GET %s reveals the article: %s", user, path, body)
			}
		}
	}
	if _, page := clients["mitglied"].get("/notifications"); strings.Contains(page, "Vertraulicher Plan") || strings.Contains(page, "Offener Plan") {
		t.Error("the watcher's notifications name the article that became city-only")
	}
	if _, page := clients["autor-hro"].get("/notifications"); !strings.Contains(page, "Vertraulicher Plan") {
		t.Error("the author's notifications do not name their own published change")
	}

	// The preview takes no more than an article may hold.
	big := url.Values{"city": {"rostock"}, "visibility": {"public"}, "body": {strings.Repeat("[^1] ", wiki.MaxBodyBytes/5+1)}}
	if status, _, _ := clients["mitglied"].postForm("/preview", big); status != 413 {
		t.Errorf("preview of a text over 1 MiB: %d, want 413", status)
	}
}
