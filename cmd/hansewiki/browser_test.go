package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

// axePath is axe-core as installed by `npm ci` at the repository root; go
// test runs in cmd/hansewiki.
const axePath = "../../node_modules/axe-core/axe.min.js"

// The WCAG 2.1 level A and AA rules, what BITV 2.0 demands of German public bodies.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => ({
    passes: r.passes.length,
    incomplete: r.incomplete.map(v => v.id),
    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: JSON.stringify(n.target), summary: n.failureSummary}))}))
  }))`

type axeResult struct {
	Passes     int      `json:"passes"`
	Incomplete []string `json:"incomplete"`
	Violations []struct {
		ID, Impact, Help, HelpURL string
		Nodes                     []struct{ Target, Summary string }
	} `json:"violations"`
}

// screenshotEnv names a directory that, when set, receives desktop and phone
// screenshots of every page, for people polishing the design.
const screenshotEnv = "HANSEWIKI_SCREENSHOT_DIR"

// Every kind of page passes axe-core's WCAG 2.1 AA rules in a real browser,
// works with the keyboard and fits a phone without horizontal scrolling.
func TestAccessibilityInBrowser(t *testing.T) {
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
	m := startServer(t, dbURL)
	base := m.URL()
	const article = "/c/rostock/pegelsensoren-an-der-warnow"
	oldID, newID := publishSecondRevision(t, m, "rostock", "pegelsensoren-an-der-warnow")
	waitFor(t, func() bool {
		_, body := get(t, base+article)
		return strings.Contains(body, "Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung")
	})

	pages := []struct {
		name, path string
		status     int
	}{
		{"home", "/", 200},
		{"cities", "/c", 200},
		{"city", "/c/rostock", 200},
		{"topics", "/topics", 200},
		{"topic", "/topics/klimaresilienz", 200},
		{"search", "/search?q=Starkregen&topic=klimaresilienz", 200},
		{"search-experience-facets", "/search?q=Stadt&cost_band=50k-250k&start_year=2022", 200},
		{"topic-by-cost-band", "/topics/klimaresilienz?sort=cost_band", 200},
		{"search-empty", "/search?q=Zzzyxqw", 200},
		{"search-did-you-mean", "/search?q=Klimaanpasung", 200},
		{"article", article, 200},
		{"history", article + "/history", 200},
		{"diff", fmt.Sprintf("%s/diff?from=%d&to=%d", article, oldID, newID), 200},
		{"revision", fmt.Sprintf("%s/revisions/%d", article, oldID), 200},
		{"notfound", "/c/rostock/gibt-es-nicht", 404},
		{"impressum", "/impressum", 200},
		{"datenschutz", "/datenschutz", 200},
		{"barrierefreiheit", "/barrierefreiheit", 200},
		{"password-forgot", "/password/forgot", 200},
		// Last: ?lang= sets a cookie that switches every later page to English.
		{"home-en", "/?lang=en", 200},
		{"article-en", article, 200},
	}
	// The status and the CSP the browser will meet, checked outside it.
	for _, p := range pages {
		resp, err := http.Get(base + p.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != p.status {
			t.Fatalf("GET %s = %d, want %d", p.path, resp.StatusCode, p.status)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("GET %s: CSP %q, want script-src 'self' (the test must inject axe under the real policy)", p.path, csp)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	browser, stop := startChromium(ctx, t, chromium)
	defer stop()
	shots := os.Getenv(screenshotEnv)

	viewports := []struct {
		name    string
		emulate chromedp.EmulateAction
		phone   bool
	}{
		{"phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch), true},
		{"desktop", chromedp.EmulateViewport(1280, 900), false},
	}
	for _, vp := range viewports {
		// A browser context of its own: the ?lang= cookie of one run must
		// not switch the language of the next.
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		if err := chromedp.Run(tab, vp.emulate); err != nil {
			t.Fatalf("%s: %v", vp.name, err)
		}
		checkSkipLink(tab, t, base+article, vp.name)
		for _, p := range pages {
			if err := chromedp.Run(tab, chromedp.Navigate(base+p.path)); err != nil {
				t.Fatalf("%s %s: %v", vp.name, p.path, err)
			}
			if vp.phone {
				checkNoSidewaysScroll(tab, t, p.path)
			}
			runAxe(tab, t, axeSrc, vp.name, p.path)
			screenshot(tab, t, shots, p.name+"-"+vp.name+".png")
		}
	}
}

// runAxe runs axe-core's WCAG 2.1 A and AA rules on the loaded page and
// reports every violation with the failing elements.
func runAxe(ctx context.Context, t *testing.T, axeSrc []byte, view, path string) {
	t.Helper()
	var res axeResult
	var version string
	err := chromedp.Run(ctx,
		// Runtime.evaluate is exempt from the page's CSP, which refuses any
		// injected <script>; the version check proves axe really loaded.
		chromedp.Evaluate(string(axeSrc)+"\n;axe.version", &version),
		chromedp.Evaluate(axeRun, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}),
	)
	if err != nil {
		t.Fatalf("axe on %s (%s): %v", path, view, err)
	}
	if version == "" || res.Passes == 0 {
		t.Fatalf("axe did not run on %s (%s): version %q, %d passing rules", path, view, version, res.Passes)
	}
	for _, v := range res.Violations {
		var nodes strings.Builder
		for _, n := range v.Nodes {
			fmt.Fprintf(&nodes, "\n      %s\n        %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n        "))
		}
		t.Errorf("%s (%s): axe %s violation %s (%s): %s <%s>%s", path, view, version, v.ID, v.Impact, v.Help, v.HelpURL, nodes.String())
	}
	t.Logf("%s (%s): axe %s: %d rules pass, %d violations, needs review: %v", path, view, version, res.Passes, len(res.Violations), res.Incomplete)
}

// checkNoSidewaysScroll fails when the loaded page is wider than the phone's
// window (content that reflows must not need horizontal scrolling, WCAG 1.4.10).
func checkNoSidewaysScroll(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	var width struct{ Scroll, Inner int }
	if err := chromedp.Run(ctx, chromedp.Evaluate(
		`({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})`, &width)); err != nil {
		t.Fatalf("phone %s: %v", path, err)
	}
	if width.Inner != 390 || width.Scroll > width.Inner {
		t.Errorf("phone %s scrolls sideways: page %dpx wide, window %dpx (want 390)%s", path, width.Scroll, width.Inner, widestElements(ctx))
	}
}

// chromiumPath finds Chromium, or fails: an accessibility check that skips
// itself when the browser is missing checks nothing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("Chromium is not installed: the accessibility test needs it (apt-get install chromium, or run tools/test.sh as root)")
	return ""
}

// publishSecondRevision publishes a new revision of an article through the
// store, with a changed text, changed experience fields and a very long
// German compound word, and returns the old and new revision ids.
func publishSecondRevision(t *testing.T, m *Main, city, slug string) (oldID, newID int64) {
	t.Helper()
	ctx := context.Background()
	art, err := m.Store.Article(ctx, wiki.Reader{}, city, slug)
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, m.Pool, func(tx pgx.Tx) error {
		d := art.Revision.Draft()
		d.Body = strings.Replace(d.Body, "Amtliche Pegel gibt es nur an wenigen Stellen.",
			"Amtliche Pegel gibt es nur an wenigen Stellen. Zuständig war bisher, ganz im Sinne der "+
				"Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung, niemand so recht.", 1)
		d.Body += "\n## Nächste Schritte\n\nWeitere acht Messpunkte folgen im Hafengebiet.\n"
		d.Summary = "Zuständigkeit ergänzt, Ausblick und Kosten aktualisiert"
		d.Cost = "100.000–250.000 €"
		d.Status = "abgeschlossen"
		rev, err := m.Store.InsertRevision(ctx, tx, art.ID, art.Revision.ID, wiki.SystemUserID, &d)
		if err != nil {
			return err
		}
		newID = rev.ID
		return m.Store.Publish(ctx, tx, art.ID, rev.ID, art.Revision.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return art.Revision.ID, newID
}

// checkSkipLink loads url and checks that the first Tab focuses a visible
// skip link and that activating it moves the focus to main#inhalt.
func checkSkipLink(ctx context.Context, t *testing.T, url, view string) {
	t.Helper()
	var first struct {
		Class  string
		Top, H float64
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.KeyEvent(kb.Tab),
		chromedp.Evaluate(`(() => { const e = document.activeElement, r = e.getBoundingClientRect();
			return {class: e.className, top: r.top, h: r.height}; })()`, &first),
	)
	if err != nil {
		t.Fatalf("%s keyboard check: %v", view, err)
	}
	if first.Class != "skip-link" {
		t.Errorf("%s: the first Tab focuses %q, want the skip link", view, first.Class)
		return
	}
	if first.Top < 0 || first.H < 16 {
		t.Errorf("%s: the focused skip link is not visible (top %.0f, height %.0f)", view, first.Top, first.H)
	}
	var after struct{ ID, Tag, Hash string }
	err = chromedp.Run(ctx, chromedp.KeyEvent(kb.Enter))
	if err == nil {
		err = chromedp.Run(ctx, chromedp.Poll(`document.activeElement.id === 'inhalt'`, nil,
			chromedp.WithPollingTimeout(3*time.Second)))
	}
	if err != nil && !errors.Is(err, chromedp.ErrPollingTimeout) {
		t.Fatalf("%s keyboard check: %v", view, err)
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(
		`({id: document.activeElement.id, tag: document.activeElement.tagName, hash: location.hash})`, &after)); err != nil {
		t.Fatalf("%s keyboard check: %v", view, err)
	}
	if after.ID != "inhalt" || after.Tag != "MAIN" {
		t.Errorf("%s: after activating the skip link the focus is on %s#%s (hash %q), want main#inhalt", view, after.Tag, after.ID, after.Hash)
	}
}

// widestElements names the elements that reach beyond the phone's 390px, to
// say what makes a page scroll sideways. (A mobile browser widens the window
// to fit content that overflows, so innerWidth would hide them.)
func widestElements(ctx context.Context) string {
	var list []string
	chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('body *')]
		.filter(e => e.getBoundingClientRect().right > 390.5)
		.filter(e => !e.closest('.table-wrap, .prose table, pre, .diff'))
		.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '')
		  + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + 'px)')`, &list))
	if len(list) == 0 {
		return ""
	}
	return "; too wide: " + strings.Join(list, ", ")
}

func screenshot(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
