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

// The question flow in the browser (issue 13): a member asks on the
// questions page with the keyboard-usable form; a member of a city asked
// finds it among their notifications and answers on the page with an
// article link; the asker marks the answer helpful and closes the
// question, which leaves the open list. Every page — with its edit and
// moderation controls unfolded — passes axe-core's WCAG 2.1 AA rules on a
// phone and a desktop.
func TestQuestionFlowInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root (tools/test.sh does)", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	addUser(t, dbURL, "fragerin", [2]string{"author", "luebeck"})
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "netzadmin", [2]string{"admin", "*"})
	m := startServer(t, dbURL)
	base := m.URL()
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	shots := os.Getenv(screenshotEnv)

	// Ask in the browser.
	asker, closeAsker := browserLogin(browser, t, base, "fragerin")
	defer closeAsker()
	const title = "Wer hat Erfahrung mit Pegelsensoren?"
	var path string
	err = chromedp.Run(asker,
		chromedp.Navigate(base+"/questions?topic=klimaresilienz"),
		chromedp.WaitVisible("#ask-title", chromedp.ByQuery),
		chromedp.SendKeys("#ask-title", title, chromedp.ByQuery),
		chromedp.SendKeys("#ask-body", "Wir planen **zehn** Messpunkte.", chromedp.ByQuery),
		chromedp.Click("#ask-submit", chromedp.ByQuery),
		waitForPath(`^/questions/[0-9]+$`),
		chromedp.Evaluate(`location.pathname`, &path),
	)
	if err != nil {
		t.Fatalf("asking: %v", err)
	}

	// Unanswered, the asker's page offers editing and closing; unfolded,
	// the forms pass axe as the rest of the page.
	const unfold = `(document.querySelectorAll('main details').forEach(d => d.open = true), true)`
	for _, vp := range signedInViewports {
		if err := chromedp.Run(asker, vp.emulate); err != nil {
			t.Fatal(err)
		}
		checkSignedInPage(asker, t, axeSrc, base, vp, signedInPage{"question-own", path, "Frage bearbeiten", unfold}, shots)
	}

	// A member of a city asked (every city, here) finds the question among
	// their notifications and answers on the page with an article link.
	answerer, closeAnswerer := browserLogin(browser, t, base, "autorin")
	defer closeAnswerer()
	for _, vp := range signedInViewports {
		if err := chromedp.Run(answerer, vp.emulate); err != nil {
			t.Fatal(err)
		}
		checkSignedInPage(answerer, t, axeSrc, base, vp, signedInPage{"notifications-question", "/notifications", title, ""}, shots)
	}
	const answer = "Wir messen seit 2024 an der Warnow."
	err = chromedp.Run(answerer,
		chromedp.Click(fmt.Sprintf(`main a[href=%q]`, path), chromedp.ByQuery),
		waitForPath(`^`+path+`$`),
		chromedp.WaitVisible("#answer-body", chromedp.ByQuery),
		chromedp.SendKeys("#answer-body", answer, chromedp.ByQuery),
		chromedp.SendKeys("#answer-articles", "rostock/pegelsensoren-an-der-warnow", chromedp.ByQuery),
		chromedp.Click(`form[action$="/answers"] button[type="submit"]`, chromedp.ByQuery),
		waitForMainText(answer),
	)
	if err != nil {
		t.Fatalf("answering in the browser: %v", err)
	}
	for _, vp := range signedInViewports {
		if err := chromedp.Run(answerer, vp.emulate); err != nil {
			t.Fatal(err)
		}
		// The answer's author may edit it for 15 minutes: the form is there.
		checkSignedInPage(answerer, t, axeSrc, base, vp, signedInPage{"question-answered", path, "Antwort bearbeiten", unfold}, shots)
	}
	// A network admin moderates: hiding is behind a confirming step.
	admin, closeAdmin := browserLogin(browser, t, base, "netzadmin")
	defer closeAdmin()
	for _, vp := range signedInViewports {
		if err := chromedp.Run(admin, vp.emulate); err != nil {
			t.Fatal(err)
		}
		checkSignedInPage(admin, t, axeSrc, base, vp, signedInPage{"question-moderator", path, "Frage endgültig ausblenden", unfold}, shots)
	}

	for _, vp := range signedInViewports {
		if err := chromedp.Run(asker, vp.emulate); err != nil {
			t.Fatal(err)
		}
		for _, p := range []signedInPage{
			{"questions", "/questions", title, ""},
			{"question", path, "Als hilfreich markieren", ""},
			{"topic-questions", "/topics/klimaresilienz", title, ""},
		} {
			checkSignedInPage(asker, t, axeSrc, base, vp, p, shots)
		}
	}
	// Mark helpful with the keyboard-reachable button.
	var text string
	err = chromedp.Run(asker,
		chromedp.Navigate(base+path),
		chromedp.Click(`form[action$="/helpful"] button`, chromedp.ByQuery),
		waitForMainText("Nicht mehr als hilfreich markieren"),
		chromedp.Evaluate(`document.querySelector('main').innerText`, &text),
	)
	if err != nil || !strings.Contains(text, "Nicht mehr als hilfreich markieren") {
		t.Fatalf("marking helpful: %v %q", err, text)
	}
	if !strings.Contains(text, "Pegelsensoren an der Warnow") {
		t.Errorf("the linked article is not shown with its title")
	}
	runAxe(asker, t, axeSrc, "after helpful", path)

	// Resolved: the asker closes the question; it leaves the open list.
	err = chromedp.Run(asker,
		chromedp.Click(`form[action$="/close"] button`, chromedp.ByQuery),
		waitForMainText("Diese Frage ist geschlossen"),
	)
	if err != nil {
		t.Fatalf("closing: %v", err)
	}
	runAxe(asker, t, axeSrc, "after closing", path)
	err = chromedp.Run(asker,
		chromedp.Navigate(base+"/questions"),
		chromedp.Evaluate(`document.querySelector('main').innerText`, &text),
	)
	if err != nil || strings.Contains(text, title) {
		t.Errorf("the closed question is still among the open ones (%v)", err)
	}
}

// waitForMainText waits until the page's main shows want, after a click
// that navigates to the same path (a failing evaluation while the old
// page goes away only means "not yet").
func waitForMainText(want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var ok bool
			js := fmt.Sprintf(`document.readyState === 'complete' && !!document.querySelector('main') && document.querySelector('main').innerText.includes(%q)`, want)
			if err := chromedp.Evaluate(js, &ok).Do(ctx); err == nil && ok {
				return nil
			}
		}
		return fmt.Errorf("main did not show %q within 20s", want)
	})
}
