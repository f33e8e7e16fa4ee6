package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// Freshness in the browser (issue 14): `hansewiki jobs run --as-of` moves
// time past the demo articles' review dates; the city's freshness page
// lists them and the overdue article tells its readers so; a city admin
// confirms with the "Ja, noch aktuell" button and the page says "geprüft
// am". Every page passes axe-core's WCAG 2.1 AA rules on a phone and a
// desktop.
func TestFreshnessInBrowser(t *testing.T) {
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
	addUser(t, dbURL, "stadtadmin", [2]string{"admin", "rostock"})
	// Not due yet: nothing happens.
	out, err := cli(t, dbURL, "jobs", "run", "--as-of", time.Now().AddDate(0, 6, 0).Format(time.RFC3339))
	if err != nil || !strings.Contains(out, "freshness") || !strings.Contains(out, "freshness            0 done") {
		t.Fatalf("jobs run half a year on: %v\n%s", err, out)
	}
	// Overdue by more than a month.
	out, err = cli(t, dbURL, "jobs", "run", "--as-of", time.Now().AddDate(1, 1, 2).Format(time.RFC3339))
	if err != nil || strings.Contains(out, "freshness            0 done") {
		t.Fatalf("jobs run 13 months on: %v\n%s", err, out)
	}
	m := startServer(t, dbURL)
	base := m.URL()
	const article = "/c/rostock/pegelsensoren-an-der-warnow"

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	shots := os.Getenv(screenshotEnv)
	admin, closeAdmin := browserLogin(browser, t, base, "stadtadmin")
	defer closeAdmin()
	for _, vp := range signedInViewports {
		if err := chromedp.Run(admin, vp.emulate); err != nil {
			t.Fatal(err)
		}
		for _, p := range []signedInPage{
			{"freshness", "/c/rostock/freshness", "Pegelsensoren an der Warnow", ""},
			{"article-stale", article, "hätte am", ""},
			{"article-confirm", article, "Ja, noch aktuell", ""},
			{"admin-city-freshness", "/admin/c/rostock", "Aktualität der Artikel", ""},
			{"account-digest", "/account", "Wochenüberblick", ""},
		} {
			checkSignedInPage(admin, t, axeSrc, base, vp, p, shots)
		}
	}
	// Confirm with the button.
	var text string
	err = chromedp.Run(admin,
		chromedp.Navigate(base+article),
		chromedp.Click(`form.confirm-form button`, chromedp.ByQuery),
		waitForMainText("als geprüft vermerkt"),
		chromedp.Evaluate(`document.querySelector('main').innerText`, &text),
	)
	if err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if !strings.Contains(text, "geprüft am") || strings.Contains(text, "hätte am") {
		t.Errorf("after confirming the page shows the check: %v, the hint: %v", strings.Contains(text, "geprüft am"), strings.Contains(text, "hätte am"))
	}
	runAxe(admin, t, axeSrc, "after confirming", article)
	err = chromedp.Run(admin, chromedp.Navigate(base+"/c/rostock/freshness"),
		chromedp.Evaluate(`document.querySelector('main').innerText`, &text))
	if err != nil || strings.Contains(text, "Pegelsensoren an der Warnow") {
		t.Errorf("the confirmed article is still listed (%v)", err)
	}
}
