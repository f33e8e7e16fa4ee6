package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// A person resolves a conflict in the browser: the editor starts from the
// merge (the colleague's correction already in, the overlapping sentence
// marked and explained), saving with markers keeps the text and says why,
// and the resolved text goes to review and publishes both edits.
func TestConflictResolutionInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root (tools/test.sh does)", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "kollege", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	m := startServer(t, dbURL)
	base := m.URL()
	as := func(user string) *client {
		c := newClient(t, base)
		c.token = apiToken(t, base, user)
		return c
	}
	author, colleague, reviewer := as("autorin"), as("kollege"), as("pruefer")
	approve := func(id int64) changeJSON {
		return reviewer.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", id), nil, 200)
	}
	approve(author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Warnow-Pegel",
		"body": pegelBody, "visibility": "public", "submit": true}, 201).ID)
	_, rev := newClient(t, base).get("/api/v1/articles/rostock/warnow-pegel")
	var a struct{ Revision int64 }
	if err := json.Unmarshal([]byte(rev), &a); err != nil {
		t.Fatal(err)
	}
	propose := func(c *client, body string) changeJSON {
		return c.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "warnow-pegel", "base_revision": a.Revision,
			"title": "Warnow-Pegel", "body": body, "visibility": "public", "submit": true}, 201)
	}
	theirs := propose(colleague, strings.NewReplacer("stündlich", "jede Viertelstunde", "Amt 66", "Amt 67").Replace(pegelBody))
	ours := propose(author, strings.Replace(pegelBody, "stündlich", "alle zehn Minuten", 1))
	approve(theirs.ID)
	if c := approve(ours.ID); c.State != "conflict" {
		t.Fatalf("second edit of the same revision: %s, want conflict", c.State)
	}

	// The limit is for a hung browser; the run takes seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	tab, closeTab := browserLogin(browser, t, base, "autorin")
	defer closeTab()
	if err := chromedp.Run(tab, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	block := "<<<<<<< Vorschlag\nDer Pegel misst alle zehn Minuten.\n=======\nDer Pegel misst jede Viertelstunde.\n>>>>>>> Veröffentlicht\n"
	var body, help string
	err = chromedp.Run(tab,
		chromedp.Navigate(fmt.Sprintf("%s/changes/%d", base, ours.ID)),
		chromedp.Click(fmt.Sprintf(`a[href="/changes/%d/edit"]`, ours.ID), chromedp.ByQuery),
		waitForPath(`^/changes/\d+/edit$`),
		chromedp.Value("#body", &body, chromedp.ByQuery),
		chromedp.Text("#merge-help", &help, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("opening the conflict editor: %v", err)
	}
	if !strings.Contains(body, block) || !strings.Contains(body, "Amt 67") {
		t.Fatalf("the conflict editor does not start from the merge:\n%s", body)
	}
	if !strings.Contains(help, "Darunter steht Ihr Vorschlag") || !strings.Contains(help, ">>>>>>> Veröffentlicht") {
		t.Errorf("the editor does not explain the markers: %q", help)
	}
	runAxe(tab, t, axeSrc, "desktop", "conflict editor")

	// Submitting with the markers still in: the text stays, the reason shows.
	var kept, msg string
	err = chromedp.Run(tab,
		chromedp.Click(`button[name="op"][value="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#form-error", chromedp.ByQuery),
		chromedp.Text("#form-error", &msg, chromedp.ByQuery),
		chromedp.Value("#body", &kept, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("submitting with markers: %v", err)
	}
	if kept != body || !strings.Contains(msg, "Konfliktmarkierungen") {
		t.Fatalf("after submitting with markers: message %q, text kept %v", msg, kept == body)
	}
	runAxe(tab, t, axeSrc, "desktop", "conflict editor with the error")

	// The author keeps their sentence and deletes the markers.
	var state string
	err = chromedp.Run(tab,
		chromedp.SetValue("#body", strings.Replace(body, block, "Der Pegel misst alle zehn Minuten.\n", 1), chromedp.ByQuery),
		chromedp.Click(`button[name="op"][value="submit"]`, chromedp.ByQuery),
		waitForPath(`^/changes/\d+$`),
		chromedp.Text(".change-facts .state", &state, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("submitting the resolved text: %v", err)
	}
	if state != "In Prüfung" {
		t.Fatalf("after resolving, the change is %q, want In Prüfung", state)
	}
	if c := approve(ours.ID); c.State != "published" {
		t.Fatalf("approving the resolved change: %s", c.State)
	}
	_, page := newClient(t, base).get("/api/v1/articles/rostock/warnow-pegel")
	if !strings.Contains(page, "alle zehn Minuten") || !strings.Contains(page, "Amt 67") || strings.Contains(page, "<<<<<<<") {
		t.Fatalf("published after resolving in the browser: %s", page)
	}
}
