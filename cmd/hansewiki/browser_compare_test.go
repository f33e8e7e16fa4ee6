package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"hansewiki/migrations/pgtest"
)

// comparisonState is what the browser shows of a topic's comparison table.
type comparisonState struct {
	// Sorted maps each header cell's column (its link's sort value) to its
	// aria-sort, "" when it has none.
	Sorted map[string]string `json:"sorted"`
	Years  []string          `json:"years"`
	Links  []string          `json:"links"`
	CSV    string            `json:"csv"`
	Search string            `json:"search"`
}

const readComparison = `(() => {
  const table = document.querySelector('table.compare');
  const heads = [...table.querySelectorAll('thead th')];
  const sorted = {};
  let yearCol = -1;
  heads.forEach((th, i) => {
    const col = new URL(th.querySelector('a').href).searchParams.get('sort');
    sorted[col] = th.getAttribute('aria-sort') || '';
    if (col === 'start_year') yearCol = i;
  });
  const rows = [...table.querySelectorAll('tbody tr')];
  return {
    sorted,
    years: rows.map(r => r.children[yearCol].innerText.trim()),
    links: rows.map(r => r.querySelector('a').getAttribute('href')),
    csv: document.querySelector('a[download]').getAttribute('href'),
    search: location.search,
  };
})()`

// The comparison table on a topic page in the browser (issue 13): sorted
// by a column with the keyboard alone, aria-sort follows, the CSV link
// gives the same rows in the same order; axe-core finds nothing, on a
// phone (390 px, no sideways scrolling) and a desktop.
func TestTopicComparisonInBrowser(t *testing.T) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	const topic = "/topics/stadtdaten" // public reports from Rostock and Stralsund, 2019–2022

	for _, vp := range signedInViewports {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		if err := chromedp.Run(tab, vp.emulate, chromedp.Navigate(base+topic)); err != nil {
			t.Fatalf("%s: %v", vp.name, err)
		}
		check := func(state string) comparisonState {
			t.Helper()
			var st comparisonState
			if err := chromedp.Run(tab, chromedp.Evaluate(readComparison, &st)); err != nil {
				var text string
				chromedp.Run(tab, chromedp.Evaluate(`location.href + "\n" + document.body.innerText`, &text))
				t.Fatalf("%s %s: reading the table: %v\n%.3000s", vp.name, state, err, text)
			}
			if vp.phone {
				checkNoSidewaysScroll(tab, t, topic+" "+state)
			}
			runAxe(tab, t, axeSrc, vp.name, topic+" "+state)
			return st
		}
		st := check("unsorted")
		if len(st.Years) < 3 {
			t.Fatalf("%s: the comparison shows %d reports, want at least 3", vp.name, len(st.Years))
		}
		// Unsorted means by city: that column, and only it, says so.
		for col, sort := range st.Sorted {
			if want := map[bool]string{true: "ascending", false: ""}[col == "city"]; sort != want {
				t.Errorf("%s: before sorting, column %s has aria-sort=%q, want %q", vp.name, col, sort, want)
			}
		}
		for _, order := range []string{"ascending", "descending"} {
			// The keyboard alone: Tab to the column's link, Enter.
			if err := chromedp.Run(tab, tabTo(`thead th a[href*="sort=start_year"]`, 80), chromedp.KeyEvent(kb.Enter),
				waitForQuery("sort=start_year", order == "descending")); err != nil {
				t.Fatalf("%s: sorting %s with the keyboard: %v", vp.name, order, err)
			}
			st := check("sorted " + order)
			for col, sort := range st.Sorted {
				if want := map[bool]string{true: order, false: ""}[col == "start_year"]; sort != want {
					t.Errorf("%s, sorted by start year %s: column %s has aria-sort=%q, want %q", vp.name, order, col, sort, want)
				}
			}
			years := slices.Clone(st.Years)
			slices.Sort(years)
			if order == "descending" {
				slices.Reverse(years)
			}
			if !slices.Equal(years, st.Years) {
				t.Errorf("%s: start years %s: %v", vp.name, order, st.Years)
			}
			// The CSV link carries the order; its rows are the table's.
			q, err := url.ParseQuery(strings.TrimPrefix(st.CSV[strings.Index(st.CSV, "?"):], "?"))
			if err != nil || q.Get("sort") != "start_year" || (q.Get("order") == "desc") != (order == "descending") {
				t.Errorf("%s: the CSV link %q does not carry the order", vp.name, st.CSV)
			}
			if got := csvArticlePaths(t, base+st.CSV); !slices.Equal(got, st.Links) {
				t.Errorf("%s, %s: CSV rows %v, table rows %v", vp.name, order, got, st.Links)
			}
		}
	}
}

// tabTo presses Tab until the element matching sel has the focus, at most
// max times: proof that the keyboard reaches it in order.
func tabTo(sel string, max int) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for i := 0; i < max; i++ {
			var ok bool
			if err := chromedp.Evaluate(fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel), &ok).Do(ctx); err != nil {
				return err
			}
			if ok {
				return nil
			}
			if err := chromedp.KeyEvent(kb.Tab).Do(ctx); err != nil {
				return err
			}
		}
		return fmt.Errorf("%s not reached with %d presses of Tab", sel, max)
	})
}

// waitForQuery waits until the loaded page's query holds want, and
// order=desc exactly when desc.
func waitForQuery(want string, desc bool) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		js := fmt.Sprintf(`document.readyState === 'complete' && location.search.includes(%q) && location.search.includes('order=desc') === %v
			&& !!document.querySelector('table.compare')`, want, desc)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var ok bool
			if err := chromedp.Evaluate(js, &ok).Do(ctx); err == nil && ok {
				return nil
			}
		}
		return fmt.Errorf("no page with %s (desc %v) within 20s", want, desc)
	})
}

// csvArticlePaths reads a comparison CSV and returns its rows' article
// paths, in order.
func csvArticlePaths(t *testing.T, target string) []string {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV %s: %v (%d rows)", target, err, len(rows))
	}
	col := slices.Index(rows[0], "URL")
	if col < 0 {
		t.Fatalf("CSV without URL column: %v", rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		u, err := url.Parse(r[col])
		if err != nil {
			t.Fatalf("CSV URL %q: %v", r[col], err)
		}
		out = append(out, u.Path)
	}
	return out
}
