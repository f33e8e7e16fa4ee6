package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// phoneShotsDir is where TestEveryPageOnAPhone writes its screenshots when
// HANSEWIKI_SCREENSHOT_DIR is not set (ignored by git).
const phoneShotsDir = "screenshots"

// phonePage is one page of the phone tour: search marks a results page,
// whose first hit must be on the first screen; must, when set, is a CSS
// selector the page has to match (so the checks meet what they are for).
type phonePage struct {
	name, path string
	search     bool
	must       string
}

// Every kind of page, signed out and signed in as each role, fits a phone
// of 390 × 844: nothing wider than the screen, a service bar of one line,
// a search page whose first hit is on the first screen, and no bare city or
// topic slug where people read. Screenshots of each page at phone and
// desktop width are written for people to look at (see README).
func TestEveryPageOnAPhone(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	shots := os.Getenv(screenshotEnv)
	if shots == "" {
		shots = phoneShotsDir
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	m := startServer(t, dbURL)
	base := m.URL()
	const article = "/c/rostock/pegelsensoren-an-der-warnow"
	oldID, newID := publishSecondRevision(t, m, "rostock", "pegelsensoren-an-der-warnow")
	inReview, conflict := proposeChanges(t, base)
	slugs := knownSlugs(t, base)

	const search = "/search?q=Starkregen"
	const filtered = "/search?q=Starkregen&topic=klimaresilienz&city=rostock"
	change := fmt.Sprintf("/changes/%d", inReview)
	tours := []struct {
		user  string // "" signed out
		pages []phonePage
	}{
		{"", []phonePage{
			{"home", "/", false, ""},
			{"cities", "/c", false, ""},
			{"city", "/c/rostock", false, ""},
			{"topics", "/topics", false, ""},
			{"topic", "/topics/klimaresilienz", false, ""},
			{"search-start", "/search", false, ""},
			{"search", search, true, ""},
			{"search-filtered", filtered, true, ""},
			{"search-empty", "/search?q=Zzzyxqw", false, ""},
			// The similar experiences of other cities, by city name.
			{"article", article, false, "#similar-title + ul .article-meta"},
			{"history", article + "/history", false, ""},
			{"diff", fmt.Sprintf("%s/diff?from=%d&to=%d", article, oldID, newID), false, ""},
			{"revision", fmt.Sprintf("%s/revisions/%d", article, oldID), false, ""},
			{"notfound", "/c/rostock/gibt-es-nicht", false, ""},
			{"login", "/login", false, ""},
			{"password-forgot", "/password/forgot", false, ""},
			{"impressum", "/impressum", false, ""},
			{"barrierefreiheit", "/barrierefreiheit", false, ""},
			// ?lang= sets a cookie for the pages after it; the last one
			// switches back, so the desktop round starts in German too.
			{"home-en", "/?lang=en", false, ""},
			{"search-en", filtered, true, ""},
			{"article-en", article, false, ""},
			{"login-en", "/login", false, ""},
			{"home-de", "/?lang=de", false, ""},
		}},
		{"autorin", []phonePage{
			{"home", "/", false, ""},
			{"search", filtered, true, ""},
			{"article", article, false, ""},
			{"city", "/c/rostock", false, ""},
			{"editor-new", "/c/rostock/new", false, ""},
			{"editor-edit", article + "/edit", false, ""},
			{"change", change, false, ""},
			{"change-conflict", fmt.Sprintf("/changes/%d", conflict), false, ""},
			{"changes", "/changes", false, ""},
			{"notifications", "/notifications", false, ""},
			{"account", "/account", false, ""},
		}},
		{"pruefer", []phonePage{
			{"search", search, true, ""},
			{"review", "/review", false, ""},
			{"change", change, false, ""},
			{"changes", "/changes", false, ""},
			{"notifications", "/notifications", false, ""},
			{"history", article + "/history", false, ""},
		}},
		{"admin-hro", []phonePage{
			{"search", search, true, ""},
			{"admin-city", "/admin/c/rostock", false, ""},
			{"dashboard", "/admin/review", false, ""},
			{"webhooks", "/admin/webhooks", false, ""},
			{"article", article, false, ""},
			{"review", "/review", false, ""},
		}},
		{"koordination", []phonePage{
			{"search", filtered, true, ""},
			{"admin", "/admin", false, ""},
			{"audit", "/admin/audit", false, ""},
			{"admin-people", "/admin/people", false, ""},
			{"admin-roles", "/admin/roles", false, ""},
			{"admin-legal", "/admin/legal", false, ""},
			{"admin-webhooks", "/admin/webhooks", false, ""},
			{"review", "/review", false, ""},
			{"change", change, false, ""},
			{"changes", "/changes", false, ""},
		}},
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	browser, stop := startChromium(ctx, t, chromium)
	defer stop()
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	desktop := chromedp.EmulateViewport(1280, 900)
	pages := 0
	for _, tour := range tours {
		who := tour.user
		var tab context.Context
		var closeTab func()
		if who == "" {
			who = "anonym"
			tab, closeTab = chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		} else {
			tab, closeTab = browserLogin(browser, t, base, tour.user)
		}
		if err := chromedp.Run(tab, phone); err != nil {
			t.Fatal(err)
		}
		for _, p := range tour.pages {
			where := who + " " + p.path
			if err := chromedp.Run(tab, chromedp.Navigate(base+p.path)); err != nil {
				t.Fatalf("phone %s: %v", where, err)
			}
			if p.must != "" {
				var found bool
				if err := chromedp.Run(tab, chromedp.Evaluate(fmt.Sprintf(`!!document.querySelector(%q)`, p.must), &found)); err != nil || !found {
					t.Errorf("phone %s has no %s (%v)", where, p.must, err)
				}
			}
			checkNoSidewaysScroll(tab, t, where)
			checkPhoneChrome(tab, t, where, p.search)
			if !strings.HasPrefix(p.name, "admin") && p.name != "audit" {
				// The administration shows slugs on purpose: they are the
				// address fields it edits.
				checkNoBareSlugs(tab, t, where, slugs)
			}
			screenshot(tab, t, shots, fmt.Sprintf("%s-%s-phone.png", who, p.name))
			pages++
		}
		if tour.user != "" {
			checkMenuWithoutScript(tab, t, base, who)
		}
		if err := chromedp.Run(tab, desktop); err != nil {
			t.Fatal(err)
		}
		for _, p := range tour.pages {
			if err := chromedp.Run(tab, chromedp.Navigate(base+p.path)); err != nil {
				t.Fatalf("desktop %s %s: %v", who, p.path, err)
			}
			if p.search {
				checkFirstHitVisible(tab, t, "desktop "+who+" "+p.path)
			}
			checkPlaceholderFits(tab, t, "desktop "+who+" "+p.path)
			screenshot(tab, t, shots, fmt.Sprintf("%s-%s-desktop.png", who, p.name))
		}
		closeTab()
	}
	abs, _ := filepath.Abs(shots)
	t.Logf("%d pages checked on a phone; screenshots at phone and desktop width in %s", pages, abs)
}

// knownSlugs are the city and topic slugs, which no page may show where a
// person reads a name.
func knownSlugs(t *testing.T, base string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, path := range []string{"/api/v1/cities", "/api/v1/topics"} {
		var list []struct{ Slug string }
		if status := getJSON(t, base+path, &list); status != 200 || len(list) == 0 {
			t.Fatalf("GET %s = %d with %d entries", path, status, len(list))
		}
		for _, x := range list {
			out[x.Slug] = true
		}
	}
	return out
}

// checkPhoneChrome checks the header on a phone: the service bar is one
// line (the account links fold into a menu), the page describes itself
// (meta description), and on a results page the first hit is on the first
// screen.
func checkPhoneChrome(ctx context.Context, t *testing.T, where string, search bool) {
	t.Helper()
	var bar float64
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('.service-bar').getBoundingClientRect().height`, &bar)); err != nil {
		t.Fatalf("phone %s: %v", where, err)
	}
	if bar > 56 {
		t.Errorf("phone %s: the service bar is %.0fpx high, want one line (≤ 56px)", where, bar)
	}
	var description string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(document.querySelector('meta[name="description"]') || {}).content || ''`, &description)); err != nil {
		t.Fatalf("phone %s: %v", where, err)
	}
	if len([]rune(description)) < 40 {
		t.Errorf("phone %s: meta description %q, want a sentence about the page or the site", where, description)
	}
	if search {
		checkFirstHitVisible(ctx, t, "phone "+where)
	}
	checkPlaceholderFits(ctx, t, "phone "+where)
}

// checkPlaceholderFits fails when the header's search field cuts its
// placeholder short ("Erfahrungen suchen ..").
func checkPlaceholderFits(ctx context.Context, t *testing.T, where string) {
	t.Helper()
	var fit struct {
		Found       bool
		Text, Room  float64
		Placeholder string
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { const i = document.querySelector('#header-q');
		if (!i) return {found: false};
		const s = getComputedStyle(i), c = document.createElement('canvas').getContext('2d');
		c.font = s.font;
		return {found: true, placeholder: i.placeholder, text: c.measureText(i.placeholder).width,
			room: i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)}; })()`, &fit)); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if fit.Found && fit.Text > fit.Room {
		t.Errorf("%s: the search field cuts its placeholder %q short (%.0fpx of text in %.0fpx)", where, fit.Placeholder, fit.Text, fit.Room)
	}
}

// checkFirstHitVisible fails when the first search hit's title is not
// entirely on the first screen.
func checkFirstHitVisible(ctx context.Context, t *testing.T, where string) {
	t.Helper()
	var hit struct {
		Found         bool
		Bottom, Inner float64
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { const a = document.querySelector('.hits .hit h3 a');
		return {found: !!a, bottom: a ? a.getBoundingClientRect().bottom + window.scrollY : 0, inner: window.innerHeight}; })()`, &hit)); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	switch {
	case !hit.Found:
		t.Errorf("%s: no search hit", where)
	case hit.Bottom > hit.Inner:
		t.Errorf("%s: the first hit ends %.0fpx down, below the first screen (%.0fpx)", where, hit.Bottom, hit.Inner)
	}
}

// checkNoBareSlugs fails when visible text of the page is, word for word,
// a city or topic slug ("rostock", "soziale-stadt") where a name belongs.
func checkNoBareSlugs(ctx context.Context, t *testing.T, where string, slugs map[string]bool) {
	t.Helper()
	var words []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.body.innerText.split(/[\s,;·()]+/).filter(w => w)`, &words)); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	seen := map[string]bool{}
	for _, w := range words {
		if slugs[w] && !seen[w] {
			seen[w] = true
			t.Errorf("%s shows the slug %q where a name belongs", where, w)
		}
	}
}

// checkMenuWithoutScript opens the phone's account menu with JavaScript
// off: a <details> needs none, and every link must lie on the screen.
func checkMenuWithoutScript(ctx context.Context, t *testing.T, base, who string) {
	t.Helper()
	var links []struct {
		Text        string
		Left, Right float64
		Visible     bool
	}
	var menu bool
	err := chromedp.Run(ctx,
		emulation.SetScriptExecutionDisabled(true),
		chromedp.Navigate(base+"/account"),
		chromedp.Evaluate(`!!document.querySelector('.user-menu > summary')`, &menu),
	)
	if err == nil && !menu {
		chromedp.Run(ctx, emulation.SetScriptExecutionDisabled(false))
		t.Errorf("%s: the phone has no account menu (.user-menu > summary)", who)
		return
	}
	if err == nil {
		err = chromedp.Run(ctx,
			chromedp.Click(".user-menu > summary", chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll('.user-menu > ul a, .user-menu > ul button')].map(e => {
			const r = e.getBoundingClientRect();
			return {text: e.innerText.trim(), left: r.left, right: r.right, visible: r.width > 0 && r.height > 0}; })`, &links),
			emulation.SetScriptExecutionDisabled(false),
		)
	}
	if err != nil {
		t.Fatalf("%s: account menu without JavaScript: %v", who, err)
	}
	if len(links) < 4 {
		t.Errorf("%s: the account menu holds %d links, want at least 4", who, len(links))
	}
	for _, l := range links {
		if !l.Visible || l.Left < 0 || l.Right > 390 {
			b, _ := json.Marshal(l)
			t.Errorf("%s: menu entry not on the phone's screen once opened: %s", who, b)
		}
	}
}
