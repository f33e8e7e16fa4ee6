package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// pollText waits until the element at sel shows text containing want.
func pollText(sel, want string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want),
		nil, chromedp.WithPollingTimeout(20*time.Second))
}

// The editor keeps work in a real browser: a session that ends while
// someone writes leads through the login page back to the same text, which
// is then submitted; autosaved text is offered again after leaving the
// page, also when it was only kept in the browser because the network was
// gone; and leaving with changes asks first.
func TestEditorKeepsTextInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	m := startServer(t, dbURL)
	base := m.URL()
	db, _ := pgxConnect(t, dbURL)

	// About 20 seconds on a quiet machine; the limit is for a hung browser.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	tab, closeTab := browserLogin(browser, t, base, "autorin")
	defer closeTab()

	// Every dialog is recorded; the first "leave this page?" is answered
	// "stay", later ones "leave".
	var dialogs atomic.Int32
	var dialogTypes atomic.Value
	dialogTypes.Store("")
	chromedp.ListenTarget(tab, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			n := dialogs.Add(1)
			dialogTypes.Store(dialogTypes.Load().(string) + string(e.Type) + " ")
			go chromedp.Run(tab, page.HandleJavaScriptDialog(n > 1))
		}
	})

	// The session ends while the new article is being written.
	const first, later = "Trinkbrunnen an allen Haltestellen, ", "und nach dem Ablauf der Sitzung weitergeschrieben."
	const storeKey = "hansewiki:autosave:autorin:new:rostock"
	err = chromedp.Run(tab,
		chromedp.Navigate(base+"/c/rostock/new"),
		chromedp.SendKeys("#title", "Hitzeaktionsplan", chromedp.ByQuery),
		chromedp.SendKeys("#body", first, chromedp.ByQuery),
		pollText("#autosave-status", "Entwurf gespeichert"),
	)
	if err != nil {
		t.Fatalf("autosave while typing: %v", err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	var kept bool
	err = chromedp.Run(tab,
		chromedp.SendKeys("#body", later, chromedp.ByQuery),
		pollText("#autosave-status", "Ihre Sitzung ist abgelaufen"),
		chromedp.Evaluate(fmt.Sprintf(`(JSON.parse(localStorage.getItem(%q)) || {fields: {body: [""]}}).fields.body[0].includes(%q)`, storeKey, later), &kept),
	)
	if err != nil || !kept {
		t.Fatalf("after the session ended the text must be kept in the browser (kept %v): %v", kept, err)
	}

	var notice string
	err = chromedp.Run(tab,
		chromedp.Click(`button[name="op"][value="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#login-held", chromedp.ByQuery),
		chromedp.Text("#login-held", &notice, chromedp.ByQuery),
	)
	if err != nil || notice != "Ihre Sitzung ist abgelaufen. Melden Sie sich an – Ihr Text bleibt erhalten." {
		t.Fatalf("submitting after the session ended must show the login page with the notice (%q): %v", notice, err)
	}
	runAxe(tab, t, axeSrc, "desktop", "/login (session ended, text kept)")
	screenshot(tab, t, os.Getenv(screenshotEnv), "login-text-kept-desktop.png")
	var title, body string
	err = chromedp.Run(tab,
		chromedp.SendKeys("#username", "autorin", chromedp.ByQuery),
		chromedp.SendKeys("#password", testPassword, chromedp.ByQuery),
		chromedp.Click(`main form button[type="submit"]`, chromedp.ByQuery),
		waitForPath(`^/c/rostock/new$`),
		chromedp.WaitVisible("#autosave-restored", chromedp.ByQuery),
		chromedp.Value("#title", &title, chromedp.ByQuery),
		chromedp.Value("#body", &body, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`localStorage.getItem(%q) !== null`, storeKey), &kept),
	)
	if err != nil {
		t.Fatalf("signing in from the kept text: %v", err)
	}
	if title != "Hitzeaktionsplan" || body != first+later {
		t.Fatalf("after sign-in the editor shows %q / %q, want the text as typed", title, body)
	}
	if kept {
		t.Error("the browser's copy stays after the server brought the same text back")
	}
	var state string
	err = chromedp.Run(tab,
		chromedp.Click(`button[name="op"][value="submit"]`, chromedp.ByQuery),
		waitForPath(`^/changes/\d+$`),
		chromedp.Text(".change-facts .state", &state, chromedp.ByQuery),
	)
	if err != nil || state != "In Prüfung" {
		t.Fatalf("submitting the restored text: %v (state %q)", err, state)
	}
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("submitting asked %d times whether to leave the page", n)
	}

	// Leaving an edited article asks first; the autosaved text and the
	// text kept in the browser while offline are offered on return.
	const edit = "/c/rostock/starkregen-hinweiskarte/edit"
	const online, offline = "Neuer Satz vor dem Funkloch. ", "Im Funkloch geschrieben. "
	err = chromedp.Run(tab,
		chromedp.Navigate(base+edit),
		chromedp.SendKeys("#body", online, chromedp.ByQuery),
		pollText("#autosave-status", "Entwurf gespeichert"),
		network.EmulateNetworkConditions(true, 0, -1, -1),
		chromedp.SendKeys("#body", offline, chromedp.ByQuery),
		pollText("#autosave-status", "Keine Verbindung zum Server"),
		network.EmulateNetworkConditions(false, 0, -1, -1),
		// A link away: the browser asks, and the person stays.
		chromedp.Click(`.breadcrumb a`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("editing offline: %v", err)
	}
	for deadline := time.Now().Add(20 * time.Second); dialogs.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	var path string
	if err := chromedp.Run(tab, chromedp.Sleep(200*time.Millisecond), chromedp.Evaluate(`location.pathname`, &path)); err != nil || path != edit {
		t.Fatalf("after answering 'stay' the browser is at %q (%v)", path, err)
	}
	if got := dialogTypes.Load().(string); got != "beforeunload " {
		t.Fatalf("leaving with changes opened dialogs %q, want one beforeunload", got)
	}

	err = chromedp.Run(tab,
		chromedp.Click(`.breadcrumb a`, chromedp.ByQuery),
		waitForPath(`^/c/rostock$`),
		chromedp.Navigate(base+edit),
		chromedp.WaitVisible("#autosave-offer", chromedp.ByQuery),
		pollText("#autosave-offer", "Es gibt einen automatisch gespeicherten Entwurf vom"),
		pollText("#autosave-local", "In diesem Browser ist ein noch nicht gespeicherter Text"),
		chromedp.Value("#body", &body, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("coming back to the editor: %v", err)
	}
	if strings.Contains(body, online) {
		t.Fatal("the autosaved text replaced the published one without being asked")
	}
	runAxe(tab, t, axeSrc, "desktop", edit+" (both offers)")
	screenshot(tab, t, os.Getenv(screenshotEnv), "editor-offers-desktop.png")
	err = chromedp.Run(tab,
		chromedp.Click(`#autosave-local button`, chromedp.ByQuery),
		pollText("#autosave-status", "Der Text aus diesem Browser ist wiederhergestellt."),
		chromedp.Value("#body", &body, chromedp.ByQuery),
	)
	if err != nil || !strings.Contains(body, offline) || !strings.Contains(body, online) {
		t.Fatalf("restoring the browser's copy gives %q: %v", body, err)
	}
	// The server's draft is restored by a link, which works without JavaScript.
	err = chromedp.Run(tab,
		pollText("#autosave-status", "Entwurf gespeichert"),
		chromedp.Navigate(base+edit),
		chromedp.Click(`#autosave-offer a.button`, chromedp.ByQuery),
		chromedp.WaitVisible("#autosave-restored", chromedp.ByQuery),
		chromedp.Value("#body", &body, chromedp.ByQuery),
	)
	if err != nil || !strings.Contains(body, offline) {
		t.Fatalf("restoring the autosaved draft gives %q: %v", body, err)
	}
}
