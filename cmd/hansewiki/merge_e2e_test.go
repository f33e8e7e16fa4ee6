package main

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

var (
	textareaBody = regexp.MustCompile(`(?s)<textarea id="body" name="body"[^>]*>(.*?)</textarea>`)
	baseField    = regexp.MustCompile(`name="base_revision" value="(\d+)"`)
)

// editorOf reads the body and base revision an editor page starts from.
func editorOf(t *testing.T, page string) (body string, base int64) {
	t.Helper()
	m, b := textareaBody.FindStringSubmatch(page), baseField.FindStringSubmatch(page)
	if m == nil || b == nil {
		t.Fatalf("no editor on the page:\n%s", page)
	}
	base, _ = strconv.ParseInt(b[1], 10, 64)
	return html.UnescapeString(m[1]), base
}

const pegelBody = "# Warnow-Pegel\n\nDer Pegel misst stündlich.\n\nDie Daten gehen an das Land.\n\nKontakt: Amt 66.\n"

// Resolving a conflict through the HTML editor and the API never undoes the
// correction a colleague published meanwhile.
func TestConflictMergeOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "kollege", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer1", [2]string{"reviewer", "rostock"})
	m := startServer(t, dbURL)
	as := func(user string) *client {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), user)
		return c
	}
	author, colleague, reviewer, anon := as("autorin"), as("kollege"), as("pruefer1"), newClient(t, m.URL())
	approve := func(id int64) changeJSON {
		return reviewer.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", id), nil, 200)
	}
	created := author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Warnow-Pegel",
		"body": pegelBody, "visibility": "public", "submit": true}, 201)
	approve(created.ID)
	current := func() (body string, rev int64) {
		var a struct {
			Body     string
			Revision int64
		}
		_, page := anon.get("/api/v1/articles/rostock/warnow-pegel")
		json.Unmarshal([]byte(page), &a)
		return a.Body, a.Revision
	}
	// conflict: the colleague's edit is published first, then the author's
	// edit of the same revision is approved and conflicts.
	conflict := func(theirs, ours [2]string) int64 {
		body, rev := current()
		propose := func(c *client, text string) changeJSON {
			return c.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "warnow-pegel", "base_revision": rev,
				"title": "Warnow-Pegel", "body": text, "visibility": "public", "submit": true}, 201)
		}
		t1 := propose(colleague, strings.Replace(body, theirs[0], theirs[1], 1))
		o1 := propose(author, strings.Replace(body, ours[0], ours[1], 1))
		approve(t1.ID)
		if got := approve(o1.ID); got.State != "conflict" {
			t.Fatalf("second edit of the same revision: %s, want conflict", got.State)
		}
		return o1.ID
	}

	// Different paragraphs: the API's merge and the editor hold both edits.
	id := conflict([2]string{"Amt 66", "Amt 67"}, [2]string{"stündlich", "alle 15 Minuten"})
	_, published := current()
	var got struct {
		Merge struct {
			BaseRevision int64 `json:"base_revision"`
			Body         string
			Conflicts    int
		}
	}
	_, page := author.get(fmt.Sprintf("/api/v1/changes/%d", id))
	json.Unmarshal([]byte(page), &got)
	both := "# Warnow-Pegel\n\nDer Pegel misst alle 15 Minuten.\n\nDie Daten gehen an das Land.\n\nKontakt: Amt 67.\n"
	if got.Merge.Body != both || got.Merge.Conflicts != 0 || got.Merge.BaseRevision != published {
		t.Fatalf("merge of edits of different paragraphs: %s", page)
	}
	web := newClient(t, m.URL())
	web.login("autorin", testPassword)
	edit := fmt.Sprintf("/changes/%d/edit", id)
	status, page := web.get(edit)
	if body, base := editorOf(t, page); status != 200 || body != both || base != published {
		t.Fatalf("conflict editor (%d) starts from base %d with\n%s", status, base, body)
	}
	if !strings.Contains(page, "verschiedene Stellen") {
		t.Error("the editor does not say that the edits were merged")
	}
	status, _, hdr := web.postForm(edit, url.Values{"csrf_token": {csrfOf(t, page)}, "title": {"Warnow-Pegel"}, "body": {both},
		"visibility": {"public"}, "base_revision": {strconv.FormatInt(published, 10)}, "op": {"submit"}})
	if status != http.StatusSeeOther {
		t.Fatalf("saving the merge: %d %v", status, hdr)
	}
	if c := approve(id); c.State != "published" {
		t.Fatalf("approving the rebased change: %s", c.State)
	}
	if body, _ := current(); body != both {
		t.Fatalf("published after the merge:\n%s", body)
	}

	// The same line: markers in the editor, explained; saving them is
	// refused with the text kept; the resolved text goes to review.
	id = conflict([2]string{"alle 15 Minuten", "jede Viertelstunde"}, [2]string{"alle 15 Minuten", "alle zehn Minuten"})
	_, published = current()
	edit = fmt.Sprintf("/changes/%d/edit", id)
	_, page = web.get(edit)
	body, base := editorOf(t, page)
	block := "<<<<<<< Vorschlag\nDer Pegel misst alle zehn Minuten.\n=======\nDer Pegel misst jede Viertelstunde.\n>>>>>>> Veröffentlicht\n"
	if !strings.Contains(body, block) || !strings.Contains(body, "Amt 67") || base != published {
		t.Fatalf("conflict editor with an overlapping edit, base %d:\n%s", base, body)
	}
	if !strings.Contains(page, "Darunter steht Ihr Vorschlag") || !strings.Contains(page, "Löschen Sie dann die drei Markierungszeilen") {
		t.Error("the editor does not explain the markers")
	}
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "title": {"Warnow-Pegel"}, "body": {body},
		"visibility": {"public"}, "base_revision": {strconv.FormatInt(base, 10)}, "op": {"submit"}}
	status, page, _ = web.postForm(edit, form)
	if kept, _ := editorOf(t, page); status != http.StatusUnprocessableEntity || kept != body || !strings.Contains(page, "noch Konfliktmarkierungen") {
		t.Fatalf("saving with markers: %d, text kept %v", status, kept == body)
	}
	if status, answer := author.sendJSON("PUT", fmt.Sprintf("/api/v1/changes/%d", id), map[string]any{"title": "Warnow-Pegel",
		"body": body, "visibility": "public", "base_revision": base}); status != 422 || !strings.Contains(answer, `"code":"merge.unresolved"`) {
		t.Fatalf("PUT with markers: %d %s", status, answer)
	}
	form.Set("body", strings.Replace(body, block, "Der Pegel misst alle zehn Minuten.\n", 1))
	if status, _, _ := web.postForm(edit, form); status != http.StatusSeeOther {
		t.Fatalf("saving the resolved text: %d", status)
	}
	approve(id)
	if body, _ := current(); !strings.Contains(body, "alle zehn Minuten") || !strings.Contains(body, "Amt 67") || strings.Contains(body, "<<<") {
		t.Fatalf("published after resolving:\n%s", body)
	}
}
