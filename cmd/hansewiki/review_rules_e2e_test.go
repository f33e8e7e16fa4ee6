package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

// reviewRoles: every kind of person the permission table knows, with the
// roles granted by the CLI as an operator would.
var reviewRoles = map[string][][2]string{
	"autorin":      {{"author", "rostock"}},
	"autor-hwi":    {{"author", "wismar"}},
	"pruefer":      {{"reviewer", "rostock"}},
	"pruef-hwi":    {{"reviewer", "wismar"}},
	"admin-hro":    {{"admin", "rostock"}},
	"netz-admin":   {{"admin", "*"}},
	"netz-pruefer": {{"reviewer", "*"}},
	"mitglied":     nil,
}

type actionChange struct {
	ID       int64
	State    string
	Revision int64
	Actions  []string
	Notified *string
}

// The change actions for every role over the API and over HTML: who sees a
// change in review (200, else 404), who may decide (never its author:
// 403), who may withdraw, and that every listing works for "*" roles.
func TestChangePermissionMatrixOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	for name, roles := range reviewRoles {
		addUser(t, dbURL, name, roles...)
	}
	m := startServer(t, dbURL)
	api, web := map[string]*client{}, map[string]*client{}
	for name := range reviewRoles {
		api[name] = newClient(t, m.URL())
		api[name].token = apiToken(t, m.URL(), name)
		web[name] = newClient(t, m.URL())
		web[name].login(name, testPassword)
	}
	api["anon"], web["anon"] = newClient(t, m.URL()), newClient(t, m.URL())
	// A high quorum keeps approved changes in review.
	api["admin-hro"].change("PUT", "/api/v1/cities/rostock", map[string]int{"required_approvals": 10}, 200)
	var art struct{ Revision int64 }
	getJSON(t, m.URL()+"/api/v1/articles/rostock/starkregen-hinweiskarte", &art)
	propose := func() actionChange {
		t.Helper()
		status, body := api["autorin"].sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "starkregen-hinweiskarte",
			"base_revision": art.Revision, "title": "Starkregen-Hinweiskarte", "body": "Vorschlag", "visibility": "public", "submit": true})
		var c actionChange
		json.Unmarshal([]byte(body), &c)
		if status != 201 || c.State != "in_review" {
			t.Fatalf("propose: %d %s", status, body)
		}
		return c
	}
	viewers := map[string]bool{"autorin": true, "pruefer": true, "admin-hro": true, "netz-admin": true, "netz-pruefer": true}
	deciders := map[string]bool{"pruefer": true, "admin-hro": true, "netz-admin": true, "netz-pruefer": true}
	want := func(who, action string) int {
		switch {
		case who == "anon":
			return http.StatusUnauthorized
		case !viewers[who]:
			return http.StatusNotFound
		case action == "withdraw" && who == "autorin":
			return http.StatusOK
		case action == "submit" && who == "autorin":
			return http.StatusConflict // already in review
		case action == "approve" || action == "request-changes" || action == "reject":
			if deciders[who] {
				return http.StatusOK
			}
		}
		return http.StatusForbidden
	}
	who := slices.Sorted(func(yield func(string) bool) {
		for k := range api {
			if !yield(k) {
				return
			}
		}
	})
	c := propose()
	// Reading the change, and the actions the API offers.
	for _, name := range who {
		status, body := api[name].get(fmt.Sprintf("/api/v1/changes/%d", c.ID))
		wantStatus := http.StatusNotFound
		if viewers[name] {
			wantStatus = 200
		} else if name == "anon" {
			wantStatus = 401
		}
		if status != wantStatus {
			t.Errorf("GET change as %s: %d, want %d", name, status, wantStatus)
		}
		var got actionChange
		json.Unmarshal([]byte(body), &got)
		var wantActions []string
		for _, a := range []string{"submit", "approve", "request-changes", "reject", "withdraw"} {
			if want(name, a) == 200 {
				wantActions = append(wantActions, a)
			}
		}
		if viewers[name] {
			wantActions = append(wantActions, "comment")
		}
		slices.Sort(wantActions)
		slices.Sort(got.Actions)
		if status == 200 && !slices.Equal(got.Actions, wantActions) {
			t.Errorf("actions for %s: %v, want %v", name, got.Actions, wantActions)
		}
		// The page offers exactly the decisions the API allows.
		status, page := web[name].get(fmt.Sprintf("/changes/%d", c.ID))
		if name != "anon" && status != wantStatus {
			t.Errorf("change page as %s: %d, want %d", name, status, wantStatus)
		}
		if hasButton := strings.Contains(page, `value="approve"`); status == 200 && hasButton != deciders[name] {
			t.Errorf("change page as %s: approve button %v", name, hasButton)
		}
	}
	// Every action by everyone, over the API and over the HTML form.
	for _, action := range []string{"submit", "approve", "request-changes", "reject", "withdraw"} {
		for _, name := range who {
			w := want(name, action)
			c := propose()
			status, body := api[name].sendJSON("POST", fmt.Sprintf("/api/v1/changes/%d/%s", c.ID, action), map[string]any{"comment": "Grund"})
			if status != w {
				t.Errorf("API %s by %s: %d, want %d: %s", action, name, status, w, body)
			}
			if name == "anon" {
				continue
			}
			c = propose()
			_, page := web[name].get("/account")
			form := url.Values{"csrf_token": {csrfOf(t, page)}, "action": {action}, "comment": {"Grund"}, "revision": {fmt.Sprint(c.Revision)}}
			status, _, _ = web[name].postForm(fmt.Sprintf("/changes/%d/action", c.ID), form)
			if w == 200 {
				w = http.StatusSeeOther
			}
			if status != w {
				t.Errorf("HTML %s by %s: %d, want %d", action, name, status, w)
			}
		}
	}
	// PUT: only the author, and not while in review.
	for _, name := range who {
		c := propose()
		status, _ := api[name].sendJSON("PUT", fmt.Sprintf("/api/v1/changes/%d", c.ID), map[string]any{"title": "T", "body": "B", "visibility": "public"})
		w := want(name, "update")
		if name == "autorin" {
			w = http.StatusConflict
		}
		if status != w {
			t.Errorf("PUT by %s: %d, want %d", name, status, w)
		}
	}
	// Every listing works for every role, including the "*" roles the
	// README's first admin has (they answered 500).
	for _, name := range who {
		if name == "anon" {
			continue
		}
		for _, path := range []string{"/review", "/changes", "/changes?state=in_review", "/notifications"} {
			if status, _ := web[name].get(path); status != 200 {
				t.Errorf("%s as %s: %d", path, name, status)
			}
		}
		for _, path := range []string{"/api/v1/changes", "/api/v1/changes?state=in_review", "/api/v1/changes?mine=true", "/api/v1/changes?city=rostock"} {
			status, body := api[name].get(path)
			var list []actionChange
			if status != 200 || json.Unmarshal([]byte(body), &list) != nil {
				t.Errorf("%s as %s: %d %.200s", path, name, status, body)
			}
			if path == "/api/v1/changes" && viewers[name] != (len(list) > 0) {
				t.Errorf("%s as %s lists %d changes", path, name, len(list))
			}
		}
	}
	// A decision form without the revision read is refused, and answers
	// those who may not see the change as if it did not exist.
	_, page := web["pruef-hwi"].get("/account")
	if status, _, _ := web["pruef-hwi"].postForm(fmt.Sprintf("/changes/%d/action", c.ID), url.Values{"csrf_token": {csrfOf(t, page)}, "action": {"approve"}}); status != http.StatusNotFound {
		t.Errorf("decision without revision by a reviewer of another city: %d, want 404", status)
	}
	_, page = web["pruefer"].get("/account")
	if status, _, _ := web["pruefer"].postForm(fmt.Sprintf("/changes/%d/action", c.ID), url.Values{"csrf_token": {csrfOf(t, page)}, "action": {"approve"}}); status != http.StatusConflict {
		t.Errorf("decision without revision: %d, want 409", status)
	}
	if _, queue := web["netz-admin"].get("/review"); !strings.Contains(queue, fmt.Sprintf("/changes/%d", c.ID)) {
		t.Error("the network admin's review queue misses a change in review")
	}
	if _, queue := web["autorin"].get("/review"); strings.Contains(queue, fmt.Sprintf("/changes/%d", c.ID)) {
		t.Error("the author's review queue lists their own change")
	}
}

// The review rules over HTTP: a PUT never enters review, an approval is for
// the revision read, reviewers of last resort, the reviewer's reason, and
// the notice of changes under way.
func TestReviewRulesOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatal(err)
	}
	for name, roles := range reviewRoles {
		if name != "netz-pruefer" { // a reviewer of every city would review Schwerin's change below
			addUser(t, dbURL, name, roles...)
		}
	}
	addUser(t, dbURL, "autor-sn", [2]string{"author", "schwerin"})
	m := startServer(t, dbURL)
	as := func(user string) (*client, *client) {
		a := newClient(t, m.URL())
		a.token = apiToken(t, m.URL(), user)
		w := newClient(t, m.URL())
		w.login(user, testPassword)
		return a, w
	}
	author, authorWeb := as("autorin")
	rev, revWeb := as("pruefer")
	netz, netzWeb := as("netz-admin")
	admin, _ := as("admin-hro")
	admin.change("PUT", "/api/v1/cities/rostock", map[string]int{"required_approvals": 2}, 200)
	var art struct{ Revision int64 }
	getJSON(t, m.URL()+"/api/v1/articles/rostock/starkregen-hinweiskarte", &art)
	body := func(text string) map[string]any {
		return map[string]any{"title": "Starkregen-Hinweiskarte", "body": text, "visibility": "public", "base_revision": art.Revision}
	}
	// A draft PUT with the current base stays a draft; approving it is 409.
	create := body("Entwurf")
	create["city"], create["slug"] = "rostock", "starkregen-hinweiskarte"
	d := author.change("POST", "/api/v1/changes", create, 201)
	if got := author.change("PUT", fmt.Sprintf("/api/v1/changes/%d", d.ID), body("Entwurf 2"), 200); got.State != "draft" || got.RequiredApprovals != nil {
		t.Fatalf("PUT of a draft: %+v", got)
	}
	if status, _ := rev.act(d.ID, "approve", ""); status != http.StatusConflict {
		t.Fatalf("approving a draft: %d", status)
	}
	stale := body("x")
	stale["base_revision"] = art.Revision + 1000
	if status, _ := author.sendJSON("PUT", fmt.Sprintf("/api/v1/changes/%d", d.ID), stale); status != http.StatusConflict {
		t.Fatalf("PUT with another base: %d", status)
	}
	c := author.change("POST", fmt.Sprintf("/api/v1/changes/%d/submit", d.ID), nil, 200)
	if c.RequiredApprovals == nil || *c.RequiredApprovals != 2 {
		t.Fatalf("submission recorded %v", c.RequiredApprovals)
	}
	read := c.Revision
	rev.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", c.ID), map[string]any{"revision": read}, 200)
	rev.change("POST", fmt.Sprintf("/api/v1/changes/%d/request-changes", c.ID), map[string]any{"comment": "Bitte die Karte verlinken.", "revision": read}, 200)
	// The reason heads the author's change page and reaches them.
	_, page := authorWeb.get(fmt.Sprintf("/changes/%d", c.ID))
	if i, j := strings.Index(page, "Bitte die Karte verlinken."), strings.Index(page, `id="actions-title"`); i < 0 || i > j {
		t.Errorf("the reviewer's reason is not at the top of the change page (at %d, actions at %d)", i, j)
	}
	if _, notes := authorWeb.get("/notifications"); !strings.Contains(notes, "Bitte die Karte verlinken.") {
		t.Error("the notification omits the reviewer's reason")
	}
	c = author.change("PUT", fmt.Sprintf("/api/v1/changes/%d", c.ID), body("Mit Karte"), 200)
	c = author.change("POST", fmt.Sprintf("/api/v1/changes/%d/submit", c.ID), nil, 200)
	// A reviewer with the old page open approves: 409, nothing counted.
	status, resp := admin.sendJSON("POST", fmt.Sprintf("/api/v1/changes/%d/approve", c.ID), map[string]any{"revision": read})
	if status != http.StatusConflict || !strings.Contains(resp, fmt.Sprintf(`"revision":%d`, c.Revision)) {
		t.Fatalf("approval of a stale revision: %d %s", status, resp)
	}
	if status, _ := author.sendJSON("POST", fmt.Sprintf("/api/v1/changes/%d/submit", c.ID), map[string]any{"revision": c.Revision}); status != http.StatusBadRequest {
		t.Errorf("submit with a revision field: %d, want 400", status)
	}
	_, page = revWeb.get(fmt.Sprintf("/changes/%d", c.ID))
	if !regexp.MustCompile(`name="revision" value="` + fmt.Sprint(c.Revision) + `"`).MatchString(page) {
		t.Fatal("the review form does not send the revision on show")
	}
	if !strings.Contains(page, "zu einer früheren Fassung") {
		t.Error("approvals of the earlier text are not marked on the change page")
	}
	// The HTML form of a stale page: 409, with the current text shown.
	status, _, _ = revWeb.postForm(fmt.Sprintf("/changes/%d/action", c.ID), url.Values{"csrf_token": {csrfOf(t, page)}, "action": {"approve"}, "revision": {fmt.Sprint(read)}})
	if status != http.StatusConflict {
		t.Fatalf("stale HTML approval: %d", status)
	}
	// Others see that the article is being worked on.
	if _, a := authorWeb.get("/c/rostock/starkregen-hinweiskarte"); !strings.Contains(a, fmt.Sprintf(`href="/changes/%d"`, c.ID)) {
		t.Error("the article page does not show the change in review")
	}
	_, otherWeb := as("autor-hwi")
	if _, a := otherWeb.get("/c/rostock/starkregen-hinweiskarte/edit"); !strings.Contains(a, fmt.Sprintf("Änderung %d", c.ID)) {
		t.Error("the editor does not show the change in review")
	}
	status, _, _ = revWeb.postForm(fmt.Sprintf("/changes/%d/action", c.ID), url.Values{"csrf_token": {csrfOf(t, page)}, "action": {"approve"}, "revision": {fmt.Sprint(c.Revision)}})
	if status != http.StatusSeeOther {
		t.Fatalf("HTML approval of the text on show: %d", status)
	}
	if got := netz.change("POST", fmt.Sprintf("/api/v1/changes/%d/approve", c.ID), map[string]any{"revision": c.Revision}, 200); got.State != "published" {
		t.Fatalf("second approval: %s", got.State)
	}

	// Schwerin has no reviewer: the network admins are asked, and told why.
	sn, snWeb := as("autor-sn")
	status, resp = sn.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "schwerin", "title": "Schlossgarten", "body": "x", "visibility": "network", "submit": true})
	var lr actionChange
	json.Unmarshal([]byte(resp), &lr)
	if status != 201 || lr.Notified == nil || *lr.Notified != "network_admins" {
		t.Fatalf("submission without city reviewers: %d %s", status, resp)
	}
	if _, p := snWeb.get(fmt.Sprintf("/changes/%d", lr.ID)); !strings.Contains(p, "Netzwerk-Admins wurden") {
		t.Error("the change page does not say that the network admins were asked")
	}
	if _, notes := netzWeb.get("/notifications"); !strings.Contains(notes, fmt.Sprintf("/changes/%d", lr.ID)) {
		t.Error("the network admin was not notified")
	}
}
