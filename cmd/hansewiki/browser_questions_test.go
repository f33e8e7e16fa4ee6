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
// questions page with the keyboard-usable form, another answers with an
// article link, the asker marks the answer helpful; every page passes
// axe-core's WCAG 2.1 AA rules on a phone and a desktop.
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
	m := startServer(t, dbURL)
	base := m.URL()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
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

	// Answer through the API with a link to a demo article.
	answerer := newClient(t, base)
	answerer.token = apiToken(t, base, "autorin")
	status, body := answerer.sendJSON("POST", "/api/v1"+path+"/answers", map[string]any{
		"body": "Wir messen seit 2024 an der Warnow.", "articles": []string{"rostock/pegelsensoren-an-der-warnow"}})
	if status != 201 {
		t.Fatalf("answer: %d %s", status, body)
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
