package views

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hansewiki/workflow"
)

// The freshness of an article as readers and its people see it: only
// owner, deputy and city admins get the "Ja, noch aktuell" button, even
// from a page cached for everyone with their roles; a confirmation shows
// as "geprüft am" on every cached copy at once; an article overdue by
// more than a month tells readers so and is listed on the city's
// freshness page, which only the city's people may open.
func TestFreshnessOnTheArticlePage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	lara := account(t, s, "lara", "admin", "luebeck")
	account(t, s, "olaf", "author", "luebeck")
	dora := account(t, s, "dora", "reviewer", "luebeck")
	account(t, s, "rita", "reviewer", "luebeck")
	mia := account(t, s, "mia")
	rene := account(t, s, "rene", "admin", "rostock")
	const article = "/c/luebeck/quartiersbus-in-luebeck"
	const api = "/api/v1/articles/luebeck/quartiersbus-in-luebeck"

	call := func(method, target, token, body string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	// Only the city's admins name owner and deputy.
	stewards := `{"owner":"olaf","deputy":"dora"}`
	for who, token := range map[string]string{"another city's admin": rene, "a member": mia, "the deputy-to-be": dora} {
		if code, _ := call("PUT", api+"/freshness", token, stewards); code != http.StatusForbidden {
			t.Errorf("%s sets the owner: %d, want 403", who, code)
		}
	}
	if code, body := call("PUT", api+"/freshness", lara, `{"owner":"mia"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("an owner without a role in the city: %d %s, want 422", code, body)
	}
	code, body := call("PUT", api+"/freshness", lara, stewards)
	var f workflow.Freshness
	if err := json.Unmarshal([]byte(body), &f); code != http.StatusOK || err != nil || f.Owner != "olaf" || f.Deputy != "dora" {
		t.Fatalf("naming owner and deputy: %d %s", code, body)
	}

	get := func(c *http.Client, path string) (int, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const button = "Ja, noch aktuell"
	browsers := map[string]*http.Client{}
	for _, who := range []string{"dora", "rita", "olaf", "mia", "lara"} {
		browsers[who] = signIn(t, srv.URL, who)
	}
	// dora and rita share their roles, so they share the cached page.
	for who, want := range map[string]bool{"dora": true, "rita": false, "olaf": true, "mia": false, "lara": true} {
		if _, page := get(browsers[who], article); strings.Contains(page, button) != want {
			t.Errorf("%s sees the confirmation button: %v, want %v", who, !want, want)
		}
	}
	if page := do(t, s, "GET", article).Body.String(); strings.Contains(page, button) || strings.Contains(page, "geprüft am") {
		t.Error("an anonymous reader sees the button or a check that never happened")
	}
	// A member who may not confirm is refused, in the app and the API.
	if code, _ := call("POST", api+"/confirm", mia, ""); code != http.StatusForbidden {
		t.Errorf("a member confirms by API: %d, want 403", code)
	}
	_, page := get(browsers["mia"], article)
	token := csrfField.FindStringSubmatch(page)[1]
	resp, err := browsers["mia"].PostForm(srv.URL+article+"/confirm", url.Values{"csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a member confirms by form: %d, want 403", resp.StatusCode)
	}
	// Without the CSRF token the owner's form is refused.
	resp, err = browsers["olaf"].PostForm(srv.URL+article+"/confirm", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := do(t, s, "GET", article).Body.String(); strings.Contains(page, "geprüft am") {
		t.Error("a form without CSRF token confirmed the article")
	}

	// Overdue by more than a month: readers are told, the city's people
	// find it on the freshness page, the most overdue first.
	due := f.DueAt
	if _, err := s.workflow.RunJobs(ctx, due.AddDate(0, 1, 1), true); err != nil {
		t.Fatal(err)
	}
	s.opts.Barrier.Sync(ctx)
	const hint = "hätte am"
	if page := do(t, s, "GET", article).Body.String(); !strings.Contains(page, hint) {
		t.Error("an overdue article does not tell its readers")
	}
	// Owner and deputy were asked in the app, with a link to the article.
	for _, who := range []string{"olaf", "dora"} {
		if _, page := get(browsers[who], "/notifications"); !strings.Contains(page, "Ist dieser Artikel noch aktuell?") ||
			!strings.Contains(page, `href="`+article+`"`) {
			t.Errorf("%s's notifications do not ask about the article", who)
		}
	}
	if _, page := get(browsers["rita"], "/notifications"); strings.Contains(page, "noch aktuell") {
		t.Error("a reviewer who is neither owner nor deputy was asked")
	}
	if code, page := get(browsers["rita"], "/c/luebeck/freshness"); code != http.StatusOK ||
		!strings.Contains(page, "Quartiersbus in Lübeck") || !strings.Contains(page, "olaf") {
		t.Errorf("the freshness page for a reviewer of the city: %d, listing the article and its owner: %v", code, strings.Contains(page, "Quartiersbus"))
	}
	if code, _ := get(browsers["mia"], "/c/luebeck/freshness"); code != http.StatusForbidden {
		t.Errorf("the freshness page for a member without a role: %d, want 403", code)
	}
	reneBrowser := &http.Client{}
	req, _ := http.NewRequest("GET", srv.URL+"/c/luebeck/freshness", nil)
	req.Header.Set("Authorization", "Bearer "+rene)
	if resp, err := reneBrowser.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("the freshness page for another city's admin: %v %v", err, resp.StatusCode)
	}

	// The owner confirms from the article page: "geprüft am" on every
	// cached copy, the hint gone, nothing left to list.
	do(t, s, "GET", article) // cached for anonymous readers
	_, page = get(browsers["olaf"], article)
	token = csrfField.FindStringSubmatch(page)[1]
	resp, err = browsers["olaf"].PostForm(srv.URL+article+"/confirm", url.Values{"csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "als geprüft vermerkt") {
		t.Fatalf("confirming: %d", resp.StatusCode)
	}
	page = do(t, s, "GET", article).Body.String()
	if !strings.Contains(page, "geprüft am") || strings.Contains(page, hint) {
		t.Errorf("after the confirmation the page shows the check: %v, the hint: %v", strings.Contains(page, "geprüft am"), strings.Contains(page, hint))
	}
	if _, page := get(browsers["lara"], "/c/luebeck/freshness"); strings.Contains(page, "Quartiersbus in Lübeck") {
		t.Error("a confirmed article is still listed as overdue")
	}
	// The deputy confirms by API; the next review moves on.
	code, body = call("POST", api+"/confirm", dora, "")
	var after workflow.Freshness
	if err := json.Unmarshal([]byte(body), &after); code != http.StatusOK || err != nil || after.ConfirmedAt == nil ||
		!after.DueAt.After(due) || after.ConfirmedBy != "dora" {
		t.Fatalf("the deputy confirms by API: %d %s", code, body)
	}
}

// City admins set the city's default interval; members opt in and out of
// the weekly digest on their account page.
func TestCityIntervalAndDigestOptIn(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	account(t, s, "lara", "admin", "luebeck")
	account(t, s, "rene", "admin", "rostock")
	account(t, s, "mia")
	post := func(who, page, action string, form url.Values) (int, string) {
		t.Helper()
		c := signIn(t, srv.URL, who)
		resp, err := c.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := csrfField.FindStringSubmatch(string(b)); m != nil {
			form.Set("csrf_token", m[1])
		}
		resp, err = c.PostForm(srv.URL+action, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, _ := post("rene", "/account", "/admin/c/luebeck/freshness", url.Values{"review_months": {"6"}}); code != http.StatusForbidden {
		t.Errorf("another city's admin sets the interval: %d", code)
	}
	if code, _ := post("lara", "/admin/c/luebeck", "/admin/c/luebeck/freshness", url.Values{"review_months": {"99"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("99 months: %d, want 422", code)
	}
	if code, page := post("lara", "/admin/c/luebeck", "/admin/c/luebeck/freshness", url.Values{"review_months": {"6"}}); code != http.StatusOK ||
		!strings.Contains(page, `name="review_months" min="1" max="60" value="6"`) {
		t.Errorf("setting 6 months: %d", code)
	}
	if n, _ := s.workflow.CityReviewMonths(context.Background(), "luebeck"); n != 6 {
		t.Errorf("the city's interval is %d, want 6", n)
	}
	if code, page := post("mia", "/account", "/account/digest", url.Values{"digest": {"on"}}); code != http.StatusOK || !strings.Contains(page, "Wochenüberblick abbestellen") {
		t.Errorf("opting in: %d", code)
	}
	if code, page := post("mia", "/account", "/account/digest", url.Values{"digest": {"off"}}); code != http.StatusOK || !strings.Contains(page, "Wochenüberblick abonnieren") {
		t.Errorf("opting out: %d", code)
	}
}
