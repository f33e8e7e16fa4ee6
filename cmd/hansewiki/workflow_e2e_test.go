package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

type changeJSON struct {
	ID                int64
	State             string
	City, Slug        string
	Author            string
	BaseRevision      *int64 `json:"base_revision"`
	Revision          int64
	RequiredApprovals *int `json:"required_approvals"`
	Reviews           []struct{ Reviewer, Decision, Comment string }
}

func (c *client) change(method, path string, body any, wantStatus int) changeJSON {
	c.t.Helper()
	status, resp := c.sendJSON(method, path, body)
	if status != wantStatus {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, wantStatus, resp)
	}
	var ch changeJSON
	json.Unmarshal([]byte(resp), &ch)
	return ch
}

func (c *client) act(id int64, action, comment string) (int, string) {
	return c.sendJSON("POST", fmt.Sprintf("/api/v1/changes/%d/%s", id, action), map[string]string{"comment": comment})
}

func TestReviewWorkflowOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "autor-wismar", [2]string{"author", "wismar"})
	addUser(t, dbURL, "pruefer1", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "pruefer2", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "pruefer-wismar", [2]string{"reviewer", "wismar"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	m := startServer(t, dbURL)
	as := func(user string) *client {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), user)
		return c
	}
	author, rev1, rev2, wismar, revW, admin := as("autorin"), as("pruefer1"), as("pruefer2"), as("autor-wismar"), as("pruefer-wismar"), as("admin-hro")
	anon := newClient(t, m.URL())

	// The author proposes a new article; it stays invisible until approved.
	created := author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Hitzeaktionsplan Rostock",
		"body": "## Maßnahmen\n\nTrinkbrunnen und kühle Orte.", "summary": "Erste Fassung", "topics": []string{"klimaresilienz"},
		"tags": []string{"hitze"}, "visibility": "public", "status": "planung", "start_year": 2025, "submit": true}, 201)
	if created.State != "in_review" || created.Slug != "hitzeaktionsplan-rostock" || *created.RequiredApprovals != 1 {
		t.Fatalf("created: %+v", created)
	}
	if status, _ := anon.get("/c/rostock/hitzeaktionsplan-rostock"); status != 404 {
		t.Fatalf("unapproved article visible: %d", status)
	}
	// Nobody approves their own change; reviewers of other cities do not decide.
	own := admin.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Eigener Vorschlag", "body": "x", "visibility": "public", "submit": true}, 201)
	if status, body := admin.act(own.ID, "approve", ""); status != http.StatusForbidden {
		t.Fatalf("self-approval: %d %s", status, body)
	}
	if status, _ := revW.act(created.ID, "approve", ""); status != http.StatusNotFound {
		t.Fatalf("reviewer of Wismar approving a Rostock change: %d, want 404 (not visible)", status)
	}
	approved := rev1.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", created.ID), map[string]string{"comment": "Gut"}, 200)
	if approved.State != "published" || len(approved.Reviews) != 1 || approved.Reviews[0].Reviewer != "pruefer1" {
		t.Fatalf("after approval: %+v", approved)
	}
	if status, page := anon.get("/c/rostock/hitzeaktionsplan-rostock"); status != 200 || !strings.Contains(page, "Trinkbrunnen") {
		t.Fatalf("published article: %d", status)
	}
	// Approving a change that is not in review answers 409 with its state.
	status, body := rev2.act(created.ID, "approve", "")
	if status != http.StatusConflict || !strings.Contains(body, `"state":"published"`) {
		t.Fatalf("approve a published change: %d %s", status, body)
	}

	// Quorum of two: the same reviewer twice counts once.
	admin.change("PUT", "/api/v1/cities/rostock", map[string]int{"required_approvals": 2}, 200)
	var art struct{ Revision int64 }
	_, a := anon.get("/api/v1/articles/rostock/hitzeaktionsplan-rostock")
	json.Unmarshal([]byte(a), &art)
	edit := func(c *client, body string) changeJSON {
		return c.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "hitzeaktionsplan-rostock",
			"base_revision": art.Revision, "title": "Hitzeaktionsplan Rostock", "body": body, "summary": "Ergänzt",
			"topics": []string{"klimaresilienz"}, "visibility": "public", "submit": true}, 201)
	}
	first := edit(author, "## Maßnahmen\n\nTrinkbrunnen, kühle Orte und Hitzetelefon.")
	second := edit(wismar, "## Maßnahmen\n\nTrinkbrunnen und Verschattung an Haltestellen.") // cross-city proposal
	rev1.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", first.ID), nil, 200)
	again := rev1.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", first.ID), nil, 200)
	if again.State != "in_review" {
		t.Fatalf("the same reviewer twice published the change: %s", again.State)
	}
	if got := rev2.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", first.ID), nil, 200); got.State != "published" {
		t.Fatalf("two distinct approvals: %s", got.State)
	}
	// The cross-city proposal is reviewed by Rostock only, and now conflicts.
	if status, _ := revW.act(second.ID, "approve", ""); status != http.StatusNotFound {
		t.Errorf("Wismar reviewer on a Rostock article: %d", status)
	}
	rev1.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", second.ID), nil, 200)
	conflicted := rev2.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", second.ID), nil, 200)
	if conflicted.State != "conflict" {
		t.Fatalf("second change from the same base: %s, want conflict", conflicted.State)
	}
	// The conflict page shows both sides; the author rebases and resubmits.
	web := newClient(t, m.URL())
	web.login("autor-wismar", testPassword)
	if status, page := web.get(fmt.Sprintf("/changes/%d", second.ID)); status != 200 || !strings.Contains(page, "Hitzetelefon") || !strings.Contains(page, "Verschattung") {
		t.Fatalf("conflict page (%d) must show both the published and the proposed text", status)
	}
	_, a = anon.get("/api/v1/articles/rostock/hitzeaktionsplan-rostock")
	json.Unmarshal([]byte(a), &art)
	rebased := wismar.change("PUT", fmt.Sprintf("/api/v1/changes/%d", second.ID), map[string]any{"title": "Hitzeaktionsplan Rostock",
		"body": "## Maßnahmen\n\nTrinkbrunnen, kühle Orte, Hitzetelefon und Verschattung an Haltestellen.", "summary": "Zusammengeführt",
		"topics": []string{"klimaresilienz"}, "visibility": "public", "base_revision": art.Revision}, 200)
	if rebased.State != "in_review" || *rebased.BaseRevision != art.Revision {
		t.Fatalf("rebased: %+v", rebased)
	}
	rev1.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", second.ID), nil, 200)
	if done := rev2.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", second.ID), nil, 200); done.State != "published" {
		t.Fatalf("rebased change: %s", done.State)
	}
	var revs []map[string]any
	_, h := anon.get("/api/v1/articles/rostock/hitzeaktionsplan-rostock/revisions")
	json.Unmarshal([]byte(h), &revs)
	if len(revs) != 3 || revs[0]["summary"] != "Zusammengeführt" || revs[1]["summary"] != "Ergänzt" {
		t.Fatalf("history: %v", revs)
	}

	// Changes are listed for their participants only.
	var mine []changeJSON
	_, l := wismar.get("/api/v1/changes?mine=true")
	json.Unmarshal([]byte(l), &mine)
	if len(mine) != 1 || mine[0].ID != second.ID {
		t.Errorf("mine: %+v", mine)
	}
	_, l = revW.get("/api/v1/changes")
	var none []changeJSON
	json.Unmarshal([]byte(l), &none)
	if len(none) != 0 {
		t.Errorf("a Wismar reviewer lists Rostock changes: %+v", none)
	}
	// Request changes and reject need a comment; bad input never loses data.
	_, a = anon.get("/api/v1/articles/rostock/hitzeaktionsplan-rostock")
	json.Unmarshal([]byte(a), &art)
	c := edit(author, "Noch ein Vorschlag")
	if status, _ := rev1.act(c.ID, "reject", ""); status != http.StatusUnprocessableEntity {
		t.Errorf("reject without comment: %d", status)
	}
	if status, _ := author.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": strings.Repeat("x", 201), "body": "x"}); status != 422 {
		t.Errorf("overlong title: %d", status)
	}
	if status, _ := author.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Groß", "body": strings.Repeat("x", 2<<20)}); status != 413 {
		t.Errorf("2 MiB body: %d", status)
	}
	if status, _ := author.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "x", "body": "x", "farbe": "rot"}); status != 400 {
		t.Errorf("unknown field: %d", status)
	}

	// The audit log names every step, for administrators only.
	var events []map[string]any
	_, e := admin.get(fmt.Sprintf("/api/v1/audit?object=change:%d", second.ID))
	json.Unmarshal([]byte(e), &events)
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev["action"].(string))
	}
	want := "change.published change.approve change.approve change.rebase change.conflict change.approve change.approve change.submit change.create"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit of the rebased change:\n got %s\nwant %s", strings.Join(actions, " "), want)
	}
	if status, _ := author.get("/api/v1/audit"); status != http.StatusForbidden {
		t.Errorf("author reads the audit log: %d", status)
	}
}

// The basic path works in a browser without JavaScript: edit form with
// server-side preview, submit, review form, published.
func TestEditingAndReviewInHTML(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	m := startServer(t, dbURL)
	author := newClient(t, m.URL())
	author.login("autorin", testPassword)
	status, form := author.get("/c/rostock/starkregen-hinweiskarte/edit")
	if status != 200 || !strings.Contains(form, "Rostock hat 2022") {
		t.Fatalf("edit form: %d", status)
	}
	base := regexp.MustCompile(`name="base_revision" value="(\d+)"`).FindStringSubmatch(form)[1]
	fields := url.Values{"csrf_token": {csrfOf(t, form)}, "base_revision": {base}, "title": {"Starkregen-Hinweiskarte"},
		"body": {"## Ausgangslage\n\nNeu: **Pegelwarnung** per SMS. Siehe [[wismar/gruendach-kataster]]."}, "visibility": {"public"},
		"topics": {"klimaresilienz", "wasser-umwelt"}, "tags": {"starkregen, sms"}, "status": {"umsetzung"}, "summary": {"SMS-Warnung ergänzt"}}
	fields.Set("op", "preview")
	status, preview, _ := author.postForm("/c/rostock/starkregen-hinweiskarte/edit", fields)
	if status != 200 || !strings.Contains(preview, "<strong>Pegelwarnung</strong>") || !strings.Contains(preview, "Neu: **Pegelwarnung**") {
		t.Fatalf("server-side preview (%d) must show the rendered text and keep the source", status)
	}
	fields.Set("op", "submit")
	status, _, hdr := author.postForm("/c/rostock/starkregen-hinweiskarte/edit", fields)
	if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/changes/") {
		t.Fatalf("submit: %d", status)
	}
	changePath := hdr.Get("Location")
	if _, page := author.get(changePath); !strings.Contains(page, "In Prüfung") || !strings.Contains(page, "<ins>") {
		t.Error("change page must show the state and the diff")
	}

	reviewer := newClient(t, m.URL())
	reviewer.login("pruefer", testPassword)
	if _, queue := reviewer.get("/review"); !strings.Contains(queue, changePath) {
		t.Fatal("the change is missing from the review queue")
	}
	if _, notes := reviewer.get("/notifications"); !strings.Contains(notes, "bittet um Prüfung") {
		t.Error("the reviewer was not notified")
	}
	_, page := reviewer.get(changePath)
	// The form names the revision the reviewer read.
	read := regexp.MustCompile(`name="revision" value="(\d+)"`).FindStringSubmatch(page)
	if read == nil {
		t.Fatal("the review form does not name the revision on show")
	}
	status, _, _ = reviewer.postForm(changePath+"/action", url.Values{"csrf_token": {csrfOf(t, page)}, "action": {"approve"}, "comment": {"Danke!"}, "revision": {read[1]}})
	if status != http.StatusSeeOther {
		t.Fatalf("approve form: %d", status)
	}
	if _, article := newClient(t, m.URL()).get("/c/rostock/starkregen-hinweiskarte"); !strings.Contains(article, "Pegelwarnung") {
		t.Fatal("approved change not visible to readers")
	}
	if _, notes := author.get("/notifications"); !strings.Contains(notes, "Veröffentlicht") {
		t.Error("the author was not told about the publication")
	}
	// An invalid form keeps what was typed.
	_, form = author.get("/c/rostock/new")
	status, again, _ := author.postForm("/c/rostock/new", url.Values{"csrf_token": {csrfOf(t, form)}, "title": {""},
		"body": {"Mein langer Text, der nicht verloren gehen darf."}, "visibility": {"network"}, "op": {"submit"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(again, "Mein langer Text, der nicht verloren gehen darf.") || !strings.Contains(again, `role="alert"`) {
		t.Errorf("invalid new article (%d) must show the error and keep the text", status)
	}
}
