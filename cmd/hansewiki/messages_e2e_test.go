package main

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

// editorForm is what the editor posts for a new article or an edit.
func editorForm(page, title, body, op string, topics ...string) url.Values {
	v := url.Values{"csrf_token": {csrfField.FindStringSubmatch(page)[1]}, "title": {title}, "body": {body},
		"visibility": {"public"}, "op": {op}, "topics": topics}
	if m := regexp.MustCompile(`name="base_revision" value="(\d+)"`).FindStringSubmatch(page); m != nil {
		v.Set("base_revision", m[1])
	}
	return v
}

var revisionField = regexp.MustCompile(`name="revision" value="(\d+)"`)

// pageText is a page's HTML with the tags dropped and entities decoded, for
// checking what a person reads.
func pageText(page string) string {
	noTags := regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(noTags)), " ")
}

// The messages of the review workflow say what happened and what to do,
// and pages show names where they used to show codes.
func TestMessagesSayWhatHappened(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "kollege", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	m := startServer(t, dbURL)
	base := m.URL()
	author, colleague, reviewer := newClient(t, base), newClient(t, base), newClient(t, base)
	author.login("autorin", testPassword)
	colleague.login("kollege", testPassword)
	reviewer.login("pruefer", testPassword)
	propose := func(c *client, path string, form func(page string) url.Values) (int, string, string) {
		t.Helper()
		_, page := c.get(path)
		status, body, hdr := c.postForm(path, form(page))
		return status, body, hdr.Get("Location")
	}

	// An empty text cannot go to review, and the editor says why; as a
	// draft it may be kept.
	status, page, _ := propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Leerer Entwurf", " \n\n", "submit")
	})
	if status != 422 || !strings.Contains(pageText(page), "Der Text ist leer. Zur Prüfung lässt sich nur ein Artikel mit Text einreichen") {
		t.Errorf("submitting an empty text: %d, want 422 saying the text is empty:\n%s", status, pageText(page))
	}
	if status, _, _ := propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Leerer Entwurf", "", "save")
	}); status != 303 {
		t.Errorf("saving an empty draft: %d, want 303", status)
	}

	body := "Erster Absatz über Gründächer.\n\n" + strings.Repeat("Eine Zeile, die gleich bleibt.\n\n", 12) + "Letzter Absatz.\n"
	status, _, loc := propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Gründach-Kataster", body, "submit", "klimaresilienz")
	})
	if status != 303 || !strings.HasPrefix(loc, "/changes/") {
		t.Fatalf("submitting a new article: %d → %q", status, loc)
	}
	change := loc

	// "Meine Änderungen" is where the author's change belongs, not the
	// reviewer's view of it.
	current := `href="/changes" aria-current="page"`
	if _, p := author.get(change); !strings.Contains(p, current) {
		t.Errorf("the author's own change does not mark 'Meine Änderungen' as current")
	}
	if _, n := reviewer.get("/notifications"); !strings.Contains(n, `class="unread"`) {
		t.Fatalf("the reviewer was not notified of the submission")
	} else if !strings.Contains(pageText(n), "Test autorin bittet um Prüfung") {
		t.Errorf("the notification does not name the author by display name:\n%s", pageText(n))
	}
	_, p := reviewer.get(change)
	// Opening the change reads the notification about it.
	if _, n := reviewer.get("/notifications"); strings.Contains(n, `class="unread"`) {
		t.Errorf("the notification about a change stays unread after the change was opened")
	}
	if strings.Contains(p, current) {
		t.Errorf("a reviewer's view of someone else's change marks 'Meine Änderungen' as current")
	}
	rev := revisionField.FindStringSubmatch(p)
	if rev == nil {
		t.Fatalf("the reviewer's change page has no decision form:\n%s", pageText(p))
	}

	// A decision that needs a reason says so once, not wrapped in a
	// second "please check".
	status, p, _ = reviewer.postForm(change+"/action", url.Values{"csrf_token": {csrfOf(t, p)}, "action": {"request-changes"}, "revision": {rev[1]}})
	text := pageText(p)
	if status != 422 || !strings.Contains(text, "Bitte begründen Sie die Entscheidung in einem Kommentar.") || strings.Contains(text, "Bitte prüfen Sie Ihre Eingabe") {
		t.Errorf("requesting changes without a reason: %d, want 422 with the reason asked for once:\n%s", status, text)
	}

	// The approval that completes the quorum says the article is published
	// and links it.
	status, _, hdr := reviewer.postForm(change+"/action", url.Values{"csrf_token": {csrfOf(t, p)}, "action": {"approve"}, "revision": {rev[1]}})
	if status != 303 || hdr.Get("Location") != change {
		t.Fatalf("approving: %d → %q", status, hdr.Get("Location"))
	}
	_, p = reviewer.get(change)
	text = pageText(p)
	if !strings.Contains(text, "Mit Ihrer Freigabe ist die Änderung jetzt veröffentlicht.") ||
		!strings.Contains(p, `<a href="/c/rostock/gruendach-kataster">Zum veröffentlichten Artikel</a>`) {
		t.Errorf("after the last approval the change page does not say it is published with a link to the article:\n%s", text)
	}
	if strings.Contains(text, "Ihre Freigabe wurde gespeichert.") {
		t.Errorf("after the last approval the page still says only that the approval was recorded")
	}
	// Published, it is still a new article; the reviewer appears by name.
	if !strings.Contains(text, "Art Neuer Artikel") {
		t.Errorf("the published change's kind is no longer 'Neuer Artikel':\n%s", text)
	}
	if !strings.Contains(text, "Test pruefer · freigegeben") {
		t.Errorf("the decision does not name the reviewer by display name:\n%s", text)
	}

	// The history links the version to the change that published it, for
	// those whose roles let them open it.
	link := fmt.Sprintf(`<a href="%s">Änderung %s: Freigaben und Diskussion</a>`, change, strings.TrimPrefix(change, "/changes/"))
	if _, h := reviewer.get("/c/rostock/gruendach-kataster/history"); !strings.Contains(h, link) {
		t.Errorf("the history does not link the version to its change %s:\n%s", change, pageText(h))
	}
	if _, h := newClient(t, base).get("/c/rostock/gruendach-kataster/history"); strings.Contains(h, `href="`+change+`"`) {
		t.Errorf("the history links a visitor to a change they cannot open")
	}

	// A second article with the same title: the two cases, each with its link.
	status, p, _ = propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Gründach-Kataster", "Noch einmal.", "submit")
	})
	if status != 409 || !strings.Contains(pageText(p), "Einen Artikel mit diesem Titel gibt es in dieser Stadt schon.") ||
		!strings.Contains(p, `<a href="/c/rostock/gruendach-kataster">Zum bestehenden Artikel</a>`) {
		t.Errorf("a title of a published article: %d, want 409 naming the existing article with a link:\n%s", status, pageText(p))
	}
	status, _, loc = propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Zisternen im Quartier", "Regenwasser sammeln.", "submit")
	})
	if status != 303 {
		t.Fatalf("second new article: %d", status)
	}
	status, p, _ = propose(author, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Zisternen im Quartier", "Doppelt.", "submit")
	})
	if status != 409 || !strings.Contains(pageText(p), "liegt schon ein Vorschlag vor") ||
		!strings.Contains(p, fmt.Sprintf(`<a href="%s">Zum Vorschlag (Änderung %s)</a>`, loc, strings.TrimPrefix(loc, "/changes/"))) {
		t.Errorf("a title already proposed, by the same author: %d, want 409 linking the proposal %s:\n%s", status, loc, pageText(p))
	}
	status, p, _ = propose(colleague, "/c/rostock/new", func(p string) url.Values {
		return editorForm(p, "Zisternen im Quartier", "Doppelt.", "submit")
	})
	if status != 409 || !strings.Contains(pageText(p), "liegt schon ein Vorschlag einer anderen Person vor") || strings.Contains(p, `href="`+loc+`"`) {
		t.Errorf("a title someone else proposed: %d, want 409 without a link to a change the colleague may not open:\n%s", status, pageText(p))
	}

	// An edit that adds a topic: the changed-fields table names topics.
	status, _, loc = propose(author, "/c/rostock/gruendach-kataster/edit", func(p string) url.Values {
		return editorForm(p, "Gründach-Kataster", strings.Replace(body, "Letzter Absatz.", "Letzter Absatz, ergänzt.", 1), "submit", "klimaresilienz", "soziale-stadt")
	})
	if status != 303 {
		t.Fatalf("proposing an edit: %d", status)
	}
	_, p = author.get(loc)
	text = pageText(p)
	if !strings.Contains(text, "Themen Klimaresilienz Klimaresilienz, Soziale Stadt") || strings.Contains(text, "soziale-stadt") {
		t.Errorf("the changed-fields table does not name the topics:\n%s", text)
	}
	if !strings.Contains(text, "unveränderte Zeilen") {
		t.Errorf("the diff of a long text skips no unchanged lines:\n%s", text)
	}
	// In English, nothing of the German catalog; and the other way round.
	for _, lang := range []string{"en", "de"} {
		for _, path := range []string{loc, "/changes", "/notifications", "/c/rostock/gruendach-kataster", "/c/rostock/gruendach-kataster/history", "/account"} {
			_, p := author.get(path + "?lang=" + lang)
			checkOneLanguage(t, lang, path, p)
		}
	}
	if _, p := author.get(loc + "?lang=en"); !strings.Contains(pageText(p), "unchanged lines") {
		t.Errorf("the English diff does not say 'unchanged lines':\n%s", pageText(p))
	}
	author.get("/?lang=de")

	// A public article describes itself with its first paragraph; other
	// pages with the site's description.
	anon := newClient(t, base)
	if _, p := anon.get("/c/rostock/gruendach-kataster"); !strings.Contains(p, `<meta name="description" content="Erster Absatz über Gründächer.">`) {
		t.Errorf("the public article's meta description is not its first paragraph")
	}
	if _, p := anon.get("/topics"); !strings.Contains(p, `<meta name="description" content="Hansewiki ist die gemeinsame Wissensbasis`) {
		t.Errorf("the topics page has no meta description")
	}
	// A page that is not there offers the search and, to visitors, signing in.
	if status, p := anon.get("/c/rostock/gibt-es-nicht"); status != 404 || !strings.Contains(p, `id="error-q" name="q"`) ||
		!strings.Contains(p, `href="/login?next=%2Fc%2Frostock%2Fgibt-es-nicht"`) {
		t.Errorf("the 404 page (%d) offers no search or no sign-in:\n%s", status, pageText(p))
	}
	// Topics without readable articles are not listed as "E-Akte 0".
	if _, p := anon.get("/"); strings.Contains(p, `href="/topics/e-akte"`) {
		t.Errorf("the start page lists a topic with no article the visitor can read")
	}

	// Feed categories: the slug as the term, the name as the label.
	if _, feed := newClient(t, base).get("/feed.atom"); !strings.Contains(feed, `<category term="klimaresilienz" label="Klimaresilienz">`) {
		t.Errorf("the feed's categories carry no topic names:\n%s", feed)
	}
}

// catalogs are the UI's translations, read from the source like the
// server embeds them.
func catalogs(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range []string{"de", "en"} {
		data, err := os.ReadFile("../../views/i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]string
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		out[lang] = c
	}
	return out
}

var placeholder = regexp.MustCompile(`%[-+ #0-9.]*[a-zA-Z%]`)

// checkOneLanguage fails when a page in lang shows a text of the other
// language's catalog: every fragment between placeholders that is long
// enough to be telling and differs between the languages.
func checkOneLanguage(t *testing.T, lang, path, page string) {
	t.Helper()
	cats := catalogs(t)
	other := "de"
	if lang == "de" {
		other = "en"
	}
	text := pageText(page)
	for key, s := range cats[other] {
		if s == cats[lang][key] || key == "lang" {
			continue
		}
		for _, frag := range placeholder.Split(s, -1) {
			frag = strings.TrimSpace(frag)
			if len([]rune(frag)) >= 14 && !strings.Contains(cats[lang][key], frag) && strings.Contains(text, frag) {
				t.Errorf("%s (%s) shows %q, the %s text of %s", path, lang, frag, other, key)
			}
		}
	}
}
