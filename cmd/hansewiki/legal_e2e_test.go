package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
)

// seed --demo prints demo accounts and one password, with which they sign
// in; a second seed keeps them.
func TestDemoAccountsSignIn(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	out, err := cli(t, dbURL, "seed", "--demo")
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	pw := regexp.MustCompile(`password for all: (\S+)`).FindStringSubmatch(out)
	if pw == nil || !strings.Contains(out, "demo-netzwerk") || !strings.Contains(out, "demo-pruefer-rostock") {
		t.Fatalf("seed does not say how to sign in:\n%s", out)
	}
	if out, err := cli(t, dbURL, "seed", "--demo"); err != nil || strings.Contains(out, pw[1]) || !strings.Contains(out, "exist already") {
		t.Errorf("second seed: %v\n%s", err, out)
	}
	m := startServer(t, dbURL)
	c := newClient(t, m.URL())
	c.login("demo-netzwerk", pw[1])
	if status, _ := c.get("/admin"); status != 200 {
		t.Errorf("demo network admin opens the administration: %d", status)
	}
	r := newClient(t, m.URL())
	r.login("demo-pruefer-rostock", pw[1])
	if _, page := r.get("/"); !strings.Contains(page, `href="/review"`) {
		t.Error("demo reviewer has no review queue")
	}
}

// The legal pages exist with starting texts, are linked from every page,
// network admins (only) edit them, and what they write is sanitized. The
// accessibility feedback reaches the network admins.
func TestLegalPagesAndFeedback(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "admin-hst", [2]string{"admin", "stralsund"})
	setEmail(t, dbURL, "koordination", "koordination@hanse.test")
	mb := startMailbox(t)
	m := startMailServer(t, dbURL, mb)

	for path, want := range map[string]string{"/impressum": "§ 5", "/datenschutz": "DSGVO", "/barrierefreiheit": "BITV 2.0"} {
		status, page := get(t, m.URL()+path)
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("%s: %d, no %q", path, status, want)
		}
	}
	for _, path := range []string{"/", "/login", "/c/rostock", "/search?q=x"} {
		_, page := get(t, m.URL()+path)
		for _, l := range []string{`href="/impressum"`, `href="/datenschutz"`, `href="/barrierefreiheit"`} {
			if !strings.Contains(page, l) {
				t.Errorf("%s: footer lacks %s", path, l)
			}
		}
	}

	city := newClient(t, m.URL())
	city.login("admin-hst", testPassword)
	_, page := city.get("/account")
	if status, _, _ := city.postForm("/admin/legal/impressum", url.Values{"csrf_token": {csrfOf(t, page)}, "body": {"gehackt"}}); status != http.StatusForbidden {
		t.Errorf("a city admin edits the Impressum: %d", status)
	}

	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	status, page := net.get("/admin/legal")
	if status != 200 || !strings.Contains(page, "Angaben gemäß") {
		t.Fatalf("legal administration: %d", status)
	}
	get(t, m.URL()+"/impressum") // now cached
	body := "## Impressum\n\nHansestadt Musterhausen, Am Markt 1\n\n<script>alert(1)</script><a href=\"javascript:alert(2)\" onclick=\"x()\">x</a>"
	if status, _, _ := net.postForm("/admin/legal/impressum", url.Values{"csrf_token": {csrfOf(t, page)}, "body": {body}}); status != http.StatusSeeOther {
		t.Fatalf("saving: %d", status)
	}
	_, page = get(t, m.URL()+"/impressum")
	if !strings.Contains(page, "Am Markt 1") {
		t.Error("the saved Impressum is not shown (stale cache?)")
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "javascript:") || strings.Contains(page, "onclick") {
		t.Error("the Impressum is not sanitized")
	}

	// Feedback, anonymously and without JavaScript.
	anon := newClient(t, m.URL())
	status, page = anon.get("/barrierefreiheit")
	if status != 200 || !strings.Contains(page, `name="problem"`) {
		t.Fatalf("feedback form missing: %d", status)
	}
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "problem": {"Der Kontrast der Suchleiste ist zu gering."}, "location": {"/search"}, "contact": {"leser@example.test"}}
	if status, _, _ := anon.postForm("/barrierefreiheit", url.Values{"problem": {"ohne Token"}}); status != http.StatusForbidden {
		t.Errorf("feedback without CSRF token: %d", status)
	}
	if status, _, hdr := anon.postForm("/barrierefreiheit", form); status != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "sent=1") {
		t.Fatalf("sending feedback: %d", status)
	}
	if status, page, _ := anon.postForm("/barrierefreiheit", url.Values{"csrf_token": form["csrf_token"], "problem": {""}}); status != 422 || !strings.Contains(page, `role="alert"`) {
		t.Errorf("empty feedback: %d", status)
	}
	// A flood from one address is slowed down.
	throttled := false
	for range 5 {
		if status, _, hdr := anon.postForm("/barrierefreiheit", form); status == http.StatusTooManyRequests && hdr.Get("Retry-After") != "" {
			throttled = true
		}
	}
	if !throttled {
		t.Error("feedback from one address is not throttled")
	}
	mail := mb.waitMail(t, "koordination@hanse.test", "Barrierefreiheit")
	if !strings.Contains(mail.Body, "Kontrast der Suchleiste") || !strings.Contains(mail.Body, "leser@example.test") {
		t.Errorf("feedback mail:\n%s", mail.Body)
	}
	if _, page := net.get("/notifications"); !strings.Contains(page, "Rückmeldung zur Barrierefreiheit") {
		t.Error("the network admin has no notification about the feedback")
	}
	if _, page := net.get("/admin/feedback"); !strings.Contains(page, "Kontrast der Suchleiste") {
		t.Error("the feedback page does not list the message")
	}
	if status, _ := city.get("/admin/feedback"); status != http.StatusForbidden {
		t.Errorf("a city admin reads the feedback: %d", status)
	}
	var n int
	conn, _ := pgxConnect(t, dbURL)
	conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE actor = 'koordination' AND action = 'legal.save'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d audit events for the saved Impressum", n)
	}
}

// Disabling asks first, works without JavaScript, and nobody disables
// their own account.
func TestDisablingAsksFirst(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "greta", [2]string{"author", "wismar"})
	m := startServer(t, dbURL)
	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	status, page := net.get("/admin/people?q=gret")
	if status != 200 || !strings.Contains(page, "greta") || strings.Contains(page, ">koordination") {
		t.Fatalf("people search: %d", status)
	}
	csrf := csrfOf(t, page)
	// A direct post without confirmation leads to the question.
	if status, _, hdr := net.postForm("/admin/users/greta/disable", url.Values{"csrf_token": {csrf}, "disabled": {"true"}}); status != http.StatusSeeOther || hdr.Get("Location") != "/admin/users/greta/disable" {
		t.Fatalf("unconfirmed disable: %d %q", status, hdr.Get("Location"))
	}
	greta := newClient(t, m.URL())
	greta.login("greta", testPassword)
	if status, _ := greta.get("/account"); status != 200 {
		t.Fatal("greta was disabled without confirmation")
	}
	status, page = net.get("/admin/users/greta/disable")
	if status != 200 || !strings.Contains(page, "Konto sperren?") {
		t.Fatalf("confirmation page: %d", status)
	}
	if status, _, _ := net.postForm("/admin/users/greta/disable", url.Values{"csrf_token": {csrf}, "disabled": {"true"}, "confirmed": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("confirmed disable: %d", status)
	}
	if status, _ := greta.get("/account"); status != http.StatusSeeOther {
		t.Errorf("greta's session survived being disabled: %d", status)
	}
	if status, page, _ := net.postForm("/admin/users/koordination/disable", url.Values{"csrf_token": {csrf}, "disabled": {"true"}, "confirmed": {"1"}}); status != 422 || !strings.Contains(page, "eigenes Konto") {
		t.Errorf("disabling oneself: %d", status)
	}
}

func TestUserAndRoleLists(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "greta", [2]string{"author", "wismar"}, [2]string{"reviewer", "rostock"})
	out, err := cli(t, dbURL, "user", "list")
	if err != nil || !strings.Contains(out, "greta") || !strings.Contains(out, "Test koordination") || strings.Contains(out, "hansewiki ") {
		t.Errorf("user list: %v\n%s", err, out)
	}
	out, err = cli(t, dbURL, "role", "list", "Greta")
	if err != nil || !regexp.MustCompile(`greta\s+author\s+wismar`).MatchString(out) || !regexp.MustCompile(`greta\s+reviewer\s+rostock`).MatchString(out) || strings.Contains(out, "koordination") {
		t.Errorf("role list greta: %v\n%s", err, out)
	}
	out, err = cli(t, dbURL, "role", "list", "wismar")
	if err != nil || !strings.Contains(out, "greta") || strings.Contains(out, "rostock") {
		t.Errorf("role list wismar: %v\n%s", err, out)
	}
	if out, err = cli(t, dbURL, "role", "list", "*"); err != nil || !strings.Contains(out, "koordination") || strings.Contains(out, "greta") {
		t.Errorf("role list *: %v\n%s", err, out)
	}
	if out, err = cli(t, dbURL, "role", "list"); err != nil || !strings.Contains(out, "koordination") || !strings.Contains(out, "greta") {
		t.Errorf("role list: %v\n%s", err, out)
	}
	if _, err := cli(t, dbURL, "role", "list", "niemand"); err == nil {
		t.Error("role list of an unknown name succeeded")
	}
}

// The audit log speaks German: actions as words, people by name, and
// filters by city, person, action and time; a city admin's city filter
// never widens what they may see.
func TestAuditLogInWords(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "admin-hst", [2]string{"admin", "stralsund"})
	addUser(t, dbURL, "greta")
	m := startServer(t, dbURL)
	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	_, page := net.get("/admin")
	csrf := csrfOf(t, page)
	net.postForm("/admin/roles", url.Values{"csrf_token": {csrf}, "op": {"grant"}, "username": {"greta"}, "role": {"reviewer"}, "city": {"stralsund"}})
	net.postForm("/admin/roles", url.Values{"csrf_token": {csrf}, "op": {"grant"}, "username": {"greta"}, "role": {"author"}, "city": {"wismar"}})

	status, page := net.get("/admin/audit?action=role.grant&city=stralsund")
	if status != 200 || !strings.Contains(page, "hat eine Rolle vergeben") || !strings.Contains(page, "Test koordination") {
		t.Fatalf("audit page in words: %d", status)
	}
	if strings.Contains(page, "wismar") && strings.Contains(page, "<span>city: wismar") {
		t.Error("the city filter shows another city's events")
	}
	today := time.Now().In(time.UTC).Format("2006-01-02")
	if _, page := net.get("/admin/audit?action=role.grant&from=2000-01-01&to=2000-01-02"); strings.Contains(page, "hat eine Rolle vergeben</td>") {
		t.Error("the time filter keeps events outside it")
	}
	if _, page := net.get("/admin/audit?action=role.grant&from=" + today); !strings.Contains(page, "hat eine Rolle vergeben</td>") {
		t.Error("the time filter drops today's events")
	}
	if _, page := net.get("/admin/audit?lang=en&action=role.grant"); !strings.Contains(page, "granted a role") {
		t.Error("the English audit log has no words")
	}
	city := newClient(t, m.URL())
	city.login("admin-hst", testPassword)
	if _, page := city.get("/admin/audit?action=role.grant&city=wismar"); strings.Contains(page, "hat eine Rolle vergeben</td>") {
		t.Error("a city admin reads another city's events through the city filter")
	}
}

// Withdrawing a change asks first; only who may see the change is asked.
func TestWithdrawingAsksFirst(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "fremd", [2]string{"author", "wismar"})
	m := startServer(t, dbURL)
	api := newClient(t, m.URL())
	api.token = apiToken(t, m.URL(), "autorin")
	status, body := api.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Ein Entwurf", "body": "Text",
		"summary": "neu", "topics": []string{"energie"}, "tags": []string{}, "visibility": "city"})
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(body)
	if status != 201 || id == nil {
		t.Fatalf("proposing: %d %s", status, body)
	}
	change := "/changes/" + id[1]
	c := newClient(t, m.URL())
	c.login("autorin", testPassword)
	_, page := c.get(change)
	csrf := csrfOf(t, page)
	if status, _, hdr := c.postForm(change+"/action", url.Values{"csrf_token": {csrf}, "action": {"withdraw"}}); status != http.StatusSeeOther || hdr.Get("Location") != change+"/withdraw" {
		t.Fatalf("unconfirmed withdrawal: %d %q", status, hdr.Get("Location"))
	}
	if _, body := api.get("/api/v1/changes/" + id[1]); !strings.Contains(body, `"state":"draft"`) {
		t.Fatalf("withdrawn without confirmation: %s", body)
	}
	status, page = c.get(change + "/withdraw")
	if status != 200 || !strings.Contains(page, "Ein Entwurf") {
		t.Fatalf("confirmation page: %d", status)
	}
	other := newClient(t, m.URL())
	other.login("fremd", testPassword)
	if status, page := other.get(change + "/withdraw"); status != http.StatusNotFound || strings.Contains(page, "Ein Entwurf") {
		t.Errorf("someone who may not see the change is asked about it: %d", status)
	}
	if status, _, _ := c.postForm(change+"/action", url.Values{"csrf_token": {csrf}, "action": {"withdraw"}, "confirmed": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("confirmed withdrawal: %d", status)
	}
	if _, body := api.get("/api/v1/changes/" + id[1]); !strings.Contains(body, `"state":"withdrawn"`) {
		t.Errorf("not withdrawn: %s", body)
	}
}

// The network administration is split into pages that link each other.
func TestAdminSectionsAreFindable(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"}, [2]string{"author", "wismar"})
	m := startServer(t, dbURL)
	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	sections := map[string]string{"/admin/people": "Person einladen", "/admin/roles": "Rolle vergeben", "/admin/cities": "Stadt hinzufügen",
		"/admin/topics": "Thema speichern", "/admin/templates": "Vorlagen für neue Artikel", "/admin/legal": "Impressum", "/admin/feedback": "Rückmeldungen", "/admin/audit": "Protokoll"}
	for path, want := range sections {
		status, page := net.get(path)
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("%s: %d, without %q", path, status, want)
		}
		for other := range sections {
			if !strings.Contains(page, `href="`+other+`"`) {
				t.Errorf("%s does not link %s", path, other)
			}
		}
	}
	_, page := net.get("/admin/roles")
	// The grant form picks people from a list; the city defaults to the admin's own.
	if !strings.Contains(page, `list="people-list"`) || !strings.Contains(page, `<option value="wismar" selected>`) {
		t.Error("the grant form has no person picker or does not preselect the admin's city")
	}
	if strings.Contains(page, `<option value="*" selected`) {
		t.Error("every city is preselected")
	}
	// A failed form comes back on its own section.
	if status, page, _ := net.postForm("/admin/topics", url.Values{"csrf_token": {csrfOf(t, page)}, "slug": {"Kaputt!"}, "name_de": {"x"}, "name_en": {"x"}}); status != 422 || !strings.Contains(page, "Thema speichern") {
		t.Errorf("invalid topic: %d", status)
	}
}

// A city admin manages exactly their own city: people and roles there,
// nothing in another city or the network.
func TestCityAdminManagesOnlyTheirCity(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "admin-hst", [2]string{"admin", "stralsund"})
	addUser(t, dbURL, "greta", [2]string{"author", "wismar"})
	m := startServer(t, dbURL)
	c := newClient(t, m.URL())
	c.login("admin-hst", testPassword)
	status, page := c.get("/admin/c/stralsund")
	if status != 200 || !strings.Contains(page, `list="city-people"`) || !strings.Contains(page, "Person einladen") {
		t.Fatalf("own city administration: %d, without person picker or invitation", status)
	}
	csrf := csrfOf(t, page)
	for _, path := range []string{"/admin", "/admin/people", "/admin/roles", "/admin/cities", "/admin/legal", "/admin/feedback", "/admin/c/wismar", "/admin/users/greta/disable"} {
		if status, _ := c.get(path); status != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", path, status)
		}
	}
	for path, form := range map[string]url.Values{
		"/admin/c/wismar/roles":       {"op": {"revoke"}, "username": {"greta"}, "role": {"author"}},
		"/admin/roles":                {"op": {"grant"}, "username": {"greta"}, "role": {"admin"}, "city": {"*"}},
		"/admin/users/greta/disable":  {"disabled": {"true"}, "confirmed": {"1"}},
		"/admin/c/wismar/invitations": {"email": {"x@wismar.test"}, "role": {"admin"}},
	} {
		form.Set("csrf_token", csrf)
		if status, _, _ := c.postForm(path, form); status != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", path, status)
		}
	}
	// A "*" or another city in the form does not leave the route's city.
	if status, _, _ := c.postForm("/admin/c/stralsund/roles", url.Values{"csrf_token": {csrf}, "op": {"grant"}, "username": {"greta"}, "role": {"reviewer"}, "city": {"*"}}); status != http.StatusSeeOther {
		t.Fatalf("granting in the own city: %d", status)
	}
	roles := rolesOf(t, dbURL, "greta")
	if !regexp.MustCompile(`reviewer\s+stralsund`).MatchString(roles) || strings.Contains(roles, "*") {
		t.Errorf("greta's roles after the city admin's grant:\n%s", roles)
	}
	if status, _, _ := c.postForm("/admin/c/stralsund/roles", url.Values{"csrf_token": {csrf}, "op": {"revoke"}, "username": {"greta"}, "role": {"reviewer"}}); status != http.StatusSeeOther {
		t.Fatalf("revoking in the own city: %d", status)
	}
	if roles := rolesOf(t, dbURL, "greta"); strings.Contains(roles, "stralsund") || !strings.Contains(roles, "wismar") {
		t.Errorf("greta's roles after the revocation:\n%s", roles)
	}
}

// Without a mail server the inviting admin is shown the link once, and it
// works like a mailed one.
func TestInvitationLinkWithoutMail(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	m := startServer(t, dbURL)
	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	_, page := net.get("/admin/people")
	status, page, hdr := net.postForm("/admin/invitations", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {"neu@wismar.test"}, "role": {"author"}, "city": {"wismar"}})
	link := regexp.MustCompile(`value="http://[^"]+(/invitation\?token=[^"]+)"`).FindStringSubmatch(page)
	if status != 200 || link == nil || !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Fatalf("invitation without mail: %d, link %v, Cache-Control %q", status, link, hdr.Get("Cache-Control"))
	}
	path := strings.ReplaceAll(link[1], "&amp;", "&")
	c := newClient(t, m.URL())
	status, page = c.get(path)
	if status != 200 {
		t.Fatalf("invitation page: %d", status)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)[1]
	if status, body, _ := c.postForm("/invitation", url.Values{"csrf_token": {csrfOf(t, page)}, "token": {token}, "username": {"nele"},
		"display_name": {"Nele"}, "password": {"ein-gutes-passwort"}, "password2": {"ein-gutes-passwort"}}); status != http.StatusSeeOther {
		t.Fatalf("accepting: %d %.300s", status, body)
	}
	if roles := rolesOf(t, dbURL, "nele"); !regexp.MustCompile(`nele\s+author\s+wismar`).MatchString(roles) {
		t.Errorf("roles of the invited account:\n%s", roles)
	}
	var n int
	conn, _ := pgxConnect(t, dbURL)
	conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE actor = 'koordination' AND action IN ('user.invite', 'role.grant')`).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit events by the inviter, want the invitation and the grant", n)
	}
}
