package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hansewiki/migrations/pgtest"
)

// jobsAsOf runs `hansewiki jobs run --as-of T` as cron would, with the
// serving instance's mail settings, and returns what it printed.
func jobsAsOf(t *testing.T, dbURL string, mb *mailbox, asOf time.Time) string {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), []string{"jobs", "run", "--as-of", asOf.Format(time.RFC3339Nano)}, strings.NewReader(""), &out, &out,
		env("DATABASE_URL", dbURL, "HANSEWIKI_BASE_URL", signonBase, "SMTP_URL", "smtp://"+mb.addr+"?from=wiki@hansewiki.test&tls=none"))
	if err != nil {
		t.Fatalf("jobs run --as-of %s: %v\n%s", asOf.Format(time.RFC3339), err, out.String())
	}
	return out.String()
}

// deadlineSteps reads the deadline job's count from the CLI's report.
func deadlineSteps(t *testing.T, out string) int {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "review_deadlines %d done", &n); err == nil {
			return n
		}
	}
	t.Fatalf("no review_deadlines line in:\n%s", out)
	return 0
}

type dueJSON struct {
	ID      int64
	DueAt   *time.Time `json:"due_at"`
	Overdue bool
}

// The policy is set over the API and the admin page with its bounds; a
// change's deadline runs through `jobs run --as-of`: the reviewer is
// reminded by mail and in-app at half time (the author is not), the city
// admin when it is overdue, the network admin a day later, each once.
// The queue and the change page show due dates, overdue first.
func TestReviewDeadlinesEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer1", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	for _, u := range []string{"autorin", "pruefer1", "admin-hro", "koordination"} {
		setEmail(t, dbURL, u, u+"@hanse.test")
	}
	mb := startMailbox(t)
	m := startMailServer(t, dbURL, mb)
	as := func(user string) *client {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), user)
		return c
	}
	admin, author := as("admin-hro"), as("autorin")

	// The policy: review_days beside required_approvals, with its bounds.
	for _, bad := range []string{`{"review_days": 0}`, `{"review_days": 61}`, `{"review_days": -1}`, `{}`} {
		var v any
		json.Unmarshal([]byte(bad), &v)
		status, body := admin.sendJSON("PUT", "/api/v1/cities/rostock", v)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `"code"`) {
			t.Errorf("PUT %s: %d %s, want 422", bad, status, body)
		}
		if bad != `{}` && !strings.Contains(body, "review_days must be a whole number of days from 1 to 60") {
			t.Errorf("PUT %s: the error does not say the bounds: %s", bad, body)
		}
	}
	if status, body := admin.sendJSON("PUT", "/api/v1/cities/rostock", map[string]any{"review_days": "drei"}); status != http.StatusBadRequest {
		t.Errorf("review_days as text: %d %s", status, body)
	}
	if status, body := as("pruefer1").sendJSON("PUT", "/api/v1/cities/rostock", map[string]int{"review_days": 3}); status != http.StatusForbidden {
		t.Errorf("a reviewer sets the policy: %d %s", status, body)
	}
	status, body := admin.sendJSON("PUT", "/api/v1/cities/rostock", map[string]int{"review_days": 3})
	if status != 200 || !strings.Contains(body, `"review_days":3`) || !strings.Contains(body, `"required_approvals":1`) {
		t.Fatalf("setting review_days: %d %s", status, body)
	}
	// The admin page edits both and says what is wrong, in German.
	web := newClient(t, m.URL())
	web.login("admin-hro", testPassword)
	_, page := web.get("/admin/c/rostock")
	if !strings.Contains(page, `id="review_days" name="review_days" min="1" max="60" value="3"`) || !strings.Contains(page, `<label for="review_days">Prüffrist in Tagen</label>`) {
		t.Fatal("the city's admin page does not offer the review period")
	}
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "required_approvals": {"1"}, "review_days": {"99"}}
	if status, page, _ := web.postForm("/admin/c/rostock/policy", form); status != 422 || !strings.Contains(page, "Die Prüffrist muss zwischen 1 und 60 Tagen liegen.") {
		t.Fatalf("review_days 99 on the admin page: %d", status)
	}
	form.Set("review_days", "4")
	if status, _, _ := web.postForm("/admin/c/rostock/policy", form); status != http.StatusSeeOther {
		t.Fatalf("saving the policy: %d", status)
	}
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var audited int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'city.policy' AND actor = 'admin-hro'
		AND detail->>'review_days' = '4' AND detail->>'previous_review_days' = '3'`).Scan(&audited)
	if audited != 1 {
		t.Fatalf("the policy change is audited %d times", audited)
	}

	// Two changes in review, due in four days.
	propose := func(title string) changeJSON {
		return author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": title,
			"body": "Text für " + title, "visibility": "public", "topics": []string{"klimaresilienz"}, "submit": true}, 201)
	}
	first, second := propose("Gründächer in Rostock"), propose("Regenwasser in Rostock")
	var due dueJSON
	getJSONOK(t, author, fmt.Sprintf("/api/v1/changes/%d", first.ID), &due)
	if due.DueAt == nil || due.Overdue {
		t.Fatalf("a submitted change: %+v", due)
	}
	started := due.DueAt.Add(-4 * 24 * time.Hour)
	// The submissions' mails first (the mailer sends in the background).
	for _, to := range []string{"pruefer1@hanse.test", "admin-hro@hanse.test"} {
		mb.waitMail(t, to, "Neue Änderung zur Prüfung: Gründächer")
		mb.waitMail(t, to, "Neue Änderung zur Prüfung: Regenwasser")
	}
	before := mb.count()

	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, started.Add(47*time.Hour))); n != 0 || mb.count() != before {
		t.Fatalf("before half time: %d steps, %d mails", n, mb.count()-before)
	}
	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, started.Add(49*time.Hour))); n != 2 {
		t.Fatalf("at half time: %d steps, want a reminder for each change", n)
	}
	// Only the reminders are left to run twice: nothing new.
	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, started.Add(50*time.Hour))); n != 0 {
		t.Fatalf("again: %d steps", n)
	}
	mail := mb.waitMail(t, "pruefer1@hanse.test", "Erinnerung: Änderung bald fällig: Gründächer in Rostock")
	if !strings.Contains(mail.Body, fmt.Sprintf("/changes/%d", first.ID)) || !strings.Contains(mail.Body, "Fällig am / Due:") {
		t.Errorf("reminder mail:\n%s", mail.Body)
	}
	mb.waitMail(t, "admin-hro@hanse.test", "Erinnerung: Änderung bald fällig: Regenwasser in Rostock")
	// The mailer sends in the background; count what arrived for whom.
	waitFor(t, func() bool { return mb.count()-before == 4 })
	for _, msg := range mb.all() {
		if strings.Contains(msg.Subject, "Erinnerung") && (msg.To == "autorin@hanse.test" || msg.To == "koordination@hanse.test") {
			t.Errorf("reminder mailed to %s", msg.To)
		}
	}
	reviewer := newClient(t, m.URL())
	reviewer.login("pruefer1", testPassword)
	if _, page := reviewer.get("/notifications"); !strings.Contains(page, "Erinnerung: Die Änderung von Test autorin ist bald fällig") {
		t.Error("the reminder is not among the reviewer's notifications")
	}

	// The first is decided before its deadline: nothing more for it.
	if status, body := as("pruefer1").act(first.ID, "approve", "Gut"); status != 200 {
		t.Fatalf("approve: %d %s", status, body)
	}
	getJSONOK(t, author, fmt.Sprintf("/api/v1/changes/%d", second.ID), &due)
	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, *due.DueAt)); n != 1 {
		t.Fatalf("overdue: %d steps, want the city admins told about the second change only", n)
	}
	mb.waitMail(t, "admin-hro@hanse.test", "Prüfung überfällig: Regenwasser in Rostock")
	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, due.DueAt.Add(24*time.Hour))); n != 1 {
		t.Fatalf("a day overdue: %d steps, want the network admins told", n)
	}
	mb.waitMail(t, "koordination@hanse.test", "Prüfung seit über einem Tag überfällig: Regenwasser in Rostock")
	if n := deadlineSteps(t, jobsAsOf(t, dbURL, mb, due.DueAt.Add(72*time.Hour))); n != 0 {
		t.Fatalf("later: %d steps", n)
	}
	for _, msg := range mb.all() {
		if strings.Contains(msg.Subject, "Gründächer") && strings.Contains(msg.Subject, "überfällig") {
			t.Errorf("an escalation about the approved change reached %s", msg.To)
		}
	}

	// The queue: due dates, overdue first and said in words. The third
	// change is made overdue in the database (the page reads the clock).
	third := propose("Baumpatenschaften in Rostock")
	if _, err := conn.Exec(context.Background(), `UPDATE change_requests SET due_at = now() - interval '2 days' WHERE id = $1`, third.ID); err != nil {
		t.Fatal(err)
	}
	m.Barrier.Sync(context.Background())
	_, page = reviewer.get("/review")
	thirdAt, secondAt := strings.Index(page, "Baumpatenschaften"), strings.Index(page, "Regenwasser")
	if thirdAt < 0 || secondAt < 0 || thirdAt > secondAt {
		t.Fatalf("the overdue change is not listed first in the queue (%d, %d)", thirdAt, secondAt)
	}
	if !strings.Contains(page, `<th scope="col">Fällig am</th>`) || strings.Count(page, `<span class="badge badge-overdue">Überfällig</span>`) != 1 {
		t.Error("the queue does not show due dates and mark the overdue change in words")
	}
	_, page = reviewer.get("/review?lang=en")
	if !strings.Contains(page, `<th scope="col">Due</th>`) || !strings.Contains(page, ">Overdue</span>") {
		t.Error("the English queue lacks due dates")
	}
	if _, metrics := get(t, m.URL()+"/metrics"); !strings.Contains(metrics, `hansewiki_review_overdue{city="rostock"} 1`) {
		t.Error("/metrics does not count the overdue change")
	}
	var queue []dueJSON
	getJSONOK(t, as("pruefer1"), "/api/v1/changes?review=true", &queue)
	if len(queue) != 2 || queue[0].ID != third.ID || !queue[0].Overdue || queue[1].ID != second.ID || queue[1].Overdue || queue[1].DueAt == nil {
		t.Fatalf("review queue JSON: %+v", queue)
	}
	if _, page = reviewer.get(fmt.Sprintf("/changes/%d?lang=de", third.ID)); !strings.Contains(page, "<dt>Fällig am</dt>") || !strings.Contains(page, "Überfällig") {
		t.Errorf("the change page does not show the due date:\n%s", page)
	}
}

func getJSONOK(t *testing.T, c *client, path string, v any) {
	t.Helper()
	status, body := c.sendJSON("GET", path, nil)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (mb *mailbox) all() []boxed {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]boxed(nil), mb.msgs...)
}

// The review queue with an overdue change, the change page and the city's
// policy form pass axe-core on a phone and a desktop, fit the phone, and
// say "Überfällig" in words on the phone's cards too.
func TestReviewDeadlinesInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	m := startServer(t, dbURL)
	base := m.URL()
	author := newClient(t, base)
	author.token = apiToken(t, base, "autorin")
	var ids []int64
	for _, title := range []string{"Gründächer in Rostock", "Baumpatenschaften in Rostock"} {
		ids = append(ids, author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": title,
			"body": "Text für " + title, "visibility": "public", "topics": []string{"klimaresilienz"}, "submit": true}, 201).ID)
	}
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE change_requests SET due_at = now() - interval '1 day' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	m.Barrier.Sync(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	shots := os.Getenv(screenshotEnv)
	for _, u := range []struct {
		name  string
		pages []signedInPage
	}{
		{"pruefer", []signedInPage{
			{"deadline-review", "/review", "Überfällig", ""},
			{"deadline-change", fmt.Sprintf("/changes/%d", ids[1]), "Fällig am", ""},
			{"deadline-review-en", "/review?lang=en", "Overdue", ""},
			{"deadline-review-de", "/review?lang=de", "Fällig am", ""},
		}},
		{"admin-hro", []signedInPage{
			{"deadline-admin-city", "/admin/c/rostock", "Prüffrist in Tagen", ""},
		}},
	} {
		tab, closeTab := browserLogin(browser, t, base, u.name)
		for _, vp := range signedInViewports {
			if err := chromedp.Run(tab, vp.emulate); err != nil {
				t.Fatalf("%s: %v", vp.name, err)
			}
			for _, p := range u.pages {
				checkSignedInPage(tab, t, axeSrc, base, vp, p, shots)
				if p.name != "deadline-review" {
					continue
				}
				// The overdue change comes first, its badge in view on the card.
				var first string
				var badge bool
				if err := chromedp.Run(tab,
					chromedp.Evaluate(`document.querySelector('.changes-table tbody tr .card-title a').textContent`, &first),
					chromedp.Evaluate(`(() => { const b = document.querySelector('tr.overdue .badge-overdue');
						if (!b) return false; const r = b.getBoundingClientRect(); return r.width > 0 && r.right <= innerWidth; })()`, &badge)); err != nil {
					t.Fatal(err)
				}
				if first != "Baumpatenschaften in Rostock" || !badge {
					t.Errorf("%s queue: first %q, overdue badge shown %v", vp.name, first, badge)
				}
			}
		}
		closeTab()
	}
}
