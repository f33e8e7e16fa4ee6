package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

// autosave posts the editor fields to an autosave URL as editor.js does.
func (c *client) autosave(path, csrf string, fields url.Values) (int, string) {
	c.t.Helper()
	status, body, _ := c.do("POST", path, strings.NewReader(fields.Encode()), "Content-Type", "application/x-www-form-urlencoded",
		"X-CSRF-Token", csrf, "Accept", "application/json")
	return status, body
}

// autosaved reads the caller's autosaved fields for an editor.
func (c *client) autosaved(path string) (int, url.Values) {
	c.t.Helper()
	status, body := c.get(path)
	var a struct{ Fields url.Values }
	if status == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			c.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return status, a.Fields
}

var baseRevision = regexp.MustCompile(`name="base_revision" value="(\d+)"`)

// Autosave keeps each person's own text per editor: only its owner reads
// it, it needs the CSRF token, it has the Markdown size limit, the editor
// offers and restores it, and saving the change deletes it.
func TestEditorAutosave(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "kollegin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "mitglied")
	m := startServer(t, dbURL)
	author, colleague, member := newClient(t, m.URL()), newClient(t, m.URL()), newClient(t, m.URL())
	author.login("autorin", testPassword)
	colleague.login("kollegin", testPassword)
	member.login("mitglied", testPassword)

	const edit = "/c/rostock/starkregen-hinweiskarte/edit"
	const auto = edit + "/autosave"
	_, page := author.get(edit)
	csrf := csrfOf(t, page)
	base := baseRevision.FindStringSubmatch(page)[1]
	text := "## Ausgangslage\n\nHalb geschriebener Satz über die Pegelwarnung"
	fields := url.Values{"title": {"Starkregen-Hinweiskarte"}, "body": {text}, "topics": {"klimaresilienz", "wasser-umwelt"},
		"visibility": {"public"}, "base_revision": {base}}

	status, body := author.autosave(auto, csrf, fields)
	var saved struct{ Message string }
	json.Unmarshal([]byte(body), &saved)
	if status != http.StatusOK || !strings.HasPrefix(saved.Message, "Entwurf gespeichert ") {
		t.Fatalf("autosave: %d %s", status, body)
	}
	if status, got := author.autosaved(auto); status != http.StatusOK || got.Get("body") != text || len(got["topics"]) != 2 {
		t.Fatalf("reading the autosave back: %d %v", status, got)
	}

	// Nobody else reads it: a colleague with the same rights finds nothing.
	if status, got := colleague.autosaved(auto); status != http.StatusNotFound || got != nil {
		t.Errorf("another author reads the autosave: %d %v", status, got)
	}
	if _, other := colleague.get(edit); strings.Contains(other, "Halb geschriebener Satz") || strings.Contains(other, "automatisch gespeicherten Entwurf") {
		t.Error("another author's editor shows or offers the autosaved text")
	}
	// Without the role to edit, nothing is stored at all.
	_, memberPage := member.get("/account")
	if status, _ := member.autosave(auto, csrfOf(t, memberPage), fields); status != http.StatusForbidden {
		t.Errorf("autosave by a member without the author role: %d, want 403", status)
	}

	// The CSRF token is required like on every form.
	if status, _ := author.autosave(auto, "falsch", url.Values{"body": {"untergeschoben"}}); status != http.StatusForbidden {
		t.Errorf("autosave with a wrong CSRF token: %d, want 403", status)
	}
	// The Markdown limit of 1 MiB, counted as Markdown: a full MiB of
	// umlauts (three times that in form encoding) is kept, one byte more is 413.
	full := url.Values{"title": {"x"}, "body": {strings.Repeat("ü", wiki.MaxBodyBytes/2)}}
	if status, body := author.autosave(auto, csrf, full); status != http.StatusOK {
		t.Errorf("autosave of exactly 1 MiB: %d %s", status, body)
	}
	full.Set("body", full.Get("body")+"x")
	if status, _ := author.autosave(auto, csrf, full); status != http.StatusRequestEntityTooLarge {
		t.Errorf("autosave over 1 MiB: %d, want 413", status)
	}
	if status, got := author.autosaved(auto); status != http.StatusOK || len(got.Get("body")) != wiki.MaxBodyBytes {
		t.Errorf("after the refused autosave the last one must stay: %d, %d bytes", status, len(got.Get("body")))
	}
	author.autosave(auto, csrf, fields)

	// The editor offers the newer text, and restores it into the form.
	if _, page := author.get(edit); !strings.Contains(page, "Es gibt einen automatisch gespeicherten Entwurf vom") || strings.Contains(page, "Halb geschriebener Satz") {
		t.Error("the editor must offer the autosaved text, not silently replace the published one")
	}
	_, restored := author.get(edit + "?autosave=restore")
	if !strings.Contains(restored, "Halb geschriebener Satz über die Pegelwarnung</textarea>") ||
		!strings.Contains(restored, "Der automatisch gespeicherte Entwurf ist wiederhergestellt.") {
		t.Error("restoring does not put the autosaved text into the form")
	}
	// Discarding without JavaScript returns to the editor, and the text is gone.
	status, _, hdr := author.postForm(auto, url.Values{"csrf_token": {csrf}, "op": {"discard"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != edit {
		t.Errorf("discard: %d to %q", status, hdr.Get("Location"))
	}
	if status, _ := author.autosaved(auto); status != http.StatusNotFound {
		t.Errorf("after discarding: %d, want 404", status)
	}

	// Saving the change deletes the autosave of that editor.
	author.autosave(auto, csrf, fields)
	form := url.Values{"csrf_token": {csrf}, "op": {"draft"}, "summary": {"Warnung"}}
	for k, v := range fields {
		form[k] = v
	}
	status, _, hdr = author.postForm(edit, form)
	if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/changes/") {
		t.Fatalf("saving the change: %d", status)
	}
	if status, _ := author.autosaved(auto); status != http.StatusNotFound {
		t.Errorf("the autosave survived saving the change: %d", status)
	}
	// A proposal has its own autosave, as private as the others.
	changeAuto := hdr.Get("Location") + "/edit/autosave"
	if status, body := author.autosave(changeAuto, csrf, fields); status != http.StatusOK {
		t.Fatalf("autosave of a proposal: %d %s", status, body)
	}
	if status, got := colleague.autosaved(changeAuto); status == http.StatusOK || got != nil {
		t.Errorf("another author reads the autosave of a proposal: %d", status)
	}
}

var heldField = regexp.MustCompile(`name="held" value="([^"]*)"`)

// A form sent after the session ended is not refused and forgotten: the
// login page says the text is kept, and after sign-in the same editor
// shows it, to be checked and sent again. Nothing is saved on the way.
func TestExpiredSessionKeepsEditorText(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	m := startServer(t, dbURL)
	db, _ := pgxConnect(t, dbURL)
	changes := func() (n int) {
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM change_requests`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := changes()

	author := newClient(t, m.URL())
	author.login("autorin", testPassword)
	_, page := author.get("/c/rostock/new")
	text := "Zwei Stunden Arbeit: <Hitzeaktionsplan> & Trinkbrunnen \"überall\"\n\n- erste Idee\n- zweite Idee"
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "title": {"Hitzeaktionsplan"}, "body": {text},
		"visibility": {"network"}, "topics": {"klimaresilienz"}, "base_revision": {"0"}, "op": {"submit"}}

	// The session ends while the person writes.
	if _, err := db.Exec(context.Background(), `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	// A form from another site is still refused, and keeps nothing.
	status, body, _ := author.do("POST", "/c/rostock/new", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if status != http.StatusForbidden || strings.Contains(body, "Trinkbrunnen") {
		t.Errorf("cross-site post without a session: %d", status)
	}

	status, login, _ := author.postForm("/c/rostock/new", form)
	if status != http.StatusUnauthorized || !strings.Contains(login, "Ihre Sitzung ist abgelaufen. Melden Sie sich an – Ihr Text bleibt erhalten.") {
		t.Fatalf("submitting after the session ended: %d, want the login page with the notice:\n%s", status, login)
	}
	held := heldField.FindStringSubmatch(login)
	if held == nil || !strings.Contains(login, `name="next" value="/c/rostock/new"`) {
		t.Fatal("the login page does not carry the text and the way back to the editor")
	}
	if changes() != before {
		t.Fatal("a change was created without a session")
	}

	// A mistyped password keeps the text on the login page too.
	retry := url.Values{"csrf_token": {csrfOf(t, login)}, "username": {"autorin"}, "password": {"falsch"},
		"next": {"/c/rostock/new"}, "held": {html.UnescapeString(held[1])}}
	status, login, _ = author.postForm("/login", retry)
	if status != http.StatusUnauthorized || heldField.FindStringSubmatch(login) == nil || !strings.Contains(login, "Ihr Text bleibt erhalten") {
		t.Fatalf("failed sign-in dropped the text: %d", status)
	}
	retry.Set("password", testPassword)
	retry.Set("csrf_token", csrfOf(t, login))
	status, _, hdr := author.postForm("/login", retry)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/c/rostock/new" {
		t.Fatalf("sign-in with the kept text: %d to %q", status, hdr.Get("Location"))
	}
	_, editor := author.get("/c/rostock/new")
	if !strings.Contains(editor, html.EscapeString(text)+"</textarea>") || !strings.Contains(editor, `value="Hitzeaktionsplan"`) ||
		!strings.Contains(editor, "Ihr Text ist wiederhergestellt") {
		t.Fatalf("after sign-in the editor does not show the kept text:\n%s", editor)
	}
	if changes() != before {
		t.Fatal("the kept text was submitted without the person seeing it again")
	}

	// A token gone stale (signed in again in another tab) keeps the text
	// too, but not for a form from another site.
	form.Set("body", text+"\n- dritte Idee")
	status, _, _ = author.do("POST", "/c/rostock/new", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if _, got := author.autosaved("/c/rostock/new/autosave"); status != http.StatusForbidden || strings.Contains(got.Get("body"), "dritte Idee") {
		t.Errorf("cross-site post with a stale token: %d, kept %q", status, got.Get("body"))
	}
	status, _, hdr = author.postForm("/c/rostock/new", form)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/c/rostock/new" {
		t.Fatalf("stale token: %d to %q, want back to the editor", status, hdr.Get("Location"))
	}
	_, editor = author.get("/c/rostock/new")
	if !strings.Contains(editor, "- dritte Idee</textarea>") {
		t.Fatal("the editor does not show the text sent with a stale token")
	}
	if changes() != before {
		t.Fatal("a form with a stale token was saved")
	}

	// Sent again from the restored editor, it is submitted, and the kept text is gone.
	form.Set("csrf_token", csrfOf(t, editor))
	status, _, hdr = author.postForm("/c/rostock/new", form)
	if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/changes/") || changes() != before+1 {
		t.Fatalf("submitting the restored text: %d to %q", status, hdr.Get("Location"))
	}
	if status, _ := author.autosaved("/c/rostock/new/autosave"); status != http.StatusNotFound {
		t.Errorf("the kept text outlived the submission: %d", status)
	}
}
