package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// The webhook administration in the browser (issue 14): a network admin
// registers an endpoint with the form and sees its secret once; the list,
// the delivery log with a failed attempt and the delete confirmation pass
// axe-core's WCAG 2.1 AA rules on a phone and a desktop.
func TestWebhookPagesInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root (tools/test.sh does)", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	m := openServer(t, dbURL, nil)
	m.Workflow.AllowPrivateWebhooks(true)
	serve(t, m)
	base := m.URL()
	rc := newHookReceiver(t)
	rc.status.Store(500)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	shots := os.Getenv(screenshotEnv)

	admin, closeAdmin := browserLogin(browser, t, base, "koordination")
	defer closeAdmin()
	var secret string
	err = chromedp.Run(admin,
		chromedp.Navigate(base+"/admin/webhooks"),
		chromedp.WaitVisible("#webhook-url", chromedp.ByQuery),
		chromedp.SendKeys("#webhook-url", rc.srv.URL+"/hook", chromedp.ByQuery),
		chromedp.Click(`input[name="events"][value="change.submitted"]`, chromedp.ByQuery),
		chromedp.Click(`#new-webhook-title ~ form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#webhook-secret", chromedp.ByQuery),
		chromedp.Value("#webhook-secret", &secret, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("registering: %v", err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	for _, vp := range signedInViewports {
		if err := chromedp.Run(admin, vp.emulate); err != nil {
			t.Fatal(err)
		}
		runAxe(admin, t, axeSrc, vp.name, "/admin/webhooks (created)")
	}
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()

	author := newClient(t, base)
	author.token = apiToken(t, base, "autorin")
	author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Hitzeaktionsplan Rostock",
		"body": "Trinkbrunnen.", "topics": []string{"klimaresilienz"}, "visibility": "public", "submit": true}, 201)
	waitFor(t, func() bool { _, calls, _ := rc.seen(); return calls == 1 })

	for _, vp := range signedInViewports {
		if err := chromedp.Run(admin, vp.emulate); err != nil {
			t.Fatal(err)
		}
		for _, p := range []signedInPage{
			{"webhooks", "/admin/webhooks", "HTTP 500", ""},
			{"webhook-delete", fmt.Sprintf("/admin/webhooks/%d/delete", 1), rc.srv.URL + "/hook", ""},
		} {
			checkSignedInPage(admin, t, axeSrc, base, vp, p, shots)
		}
	}
	var page string
	if err := chromedp.Run(admin, chromedp.Navigate(base+"/admin/webhooks"), chromedp.OuterHTML("html", &page, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, secret) {
		t.Error("the secret is shown again")
	}
	// Delete with the confirmation, by keyboard-reachable controls.
	err = chromedp.Run(admin,
		chromedp.Navigate(base+"/admin/webhooks/1/delete"),
		chromedp.Click(`main form button[type="submit"]`, chromedp.ByQuery),
		waitForPath(`^/admin/webhooks$`),
		chromedp.Text("main", &page, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "Noch keine Webhooks") {
		t.Errorf("after deleting: %s", page)
	}
}
