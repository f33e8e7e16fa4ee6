package main

import (
	"bytes"
	"context"
	"encoding/json"
	"hansewiki/migrations/pgtest"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// client is a browser-like or API client of a running server.
type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(method, path string, body io.Reader, header ...string) (int, string, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) get(path string) (int, string) {
	status, body, _ := c.do("GET", path, nil)
	return status, body
}

func (c *client) postForm(path string, form url.Values) (int, string, http.Header) {
	return c.do("POST", path, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

func (c *client) sendJSON(method, path string, v any) (int, string) {
	b, _ := json.Marshal(v)
	status, body, _ := c.do(method, path, bytes.NewReader(b), "Content-Type", "application/json")
	return status, body
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page has no CSRF token")
	}
	return m[1]
}

// login signs in through the HTML form like a person would.
func (c *client) login(user, pw string) {
	c.t.Helper()
	_, page := c.get("/login")
	status, body, hdr := c.postForm("/login", url.Values{"username": {user}, "password": {pw}, "csrf_token": {csrfOf(c.t, page)}, "next": {"/account"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/account" {
		c.t.Fatalf("login %s: %d %s", user, status, body)
	}
}

func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "hansewiki_session" {
			return ck.Value
		}
	}
	return ""
}

const testPassword = "ein-sicheres-passwort"

// addUser creates an account with roles through the CLI, as an operator would.
func addUser(t *testing.T, dbURL, name string, roles ...[2]string) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), []string{"user", "add", name, "--name", "Test " + name}, strings.NewReader(testPassword+"\n"), &out, &out, env("DATABASE_URL", dbURL))
	if err != nil {
		t.Fatalf("user add %s: %v\n%s", name, err, out.String())
	}
	for _, r := range roles {
		if out, err := cli(t, dbURL, "role", "grant", name, r[0], r[1]); err != nil {
			t.Fatalf("role grant: %v\n%s", err, out)
		}
	}
}

func apiToken(t *testing.T, base, user string) string {
	t.Helper()
	c := newClient(t, base)
	status, body := c.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": testPassword})
	var resp struct{ Token string }
	json.Unmarshal([]byte(body), &resp)
	if status != 200 || resp.Token == "" {
		t.Fatalf("API login %s: %d %s", user, status, body)
	}
	return resp.Token
}

var visibilityCorpus = map[string]string{
	"rostock/oeffentlich.md": "---\ntitle: Öffentlich Rostock\ntopics: [energie]\nvisibility: public\n---\nA\n",
	"rostock/netzwerk.md":    "---\ntitle: Netzwerk Rostock\ntopics: [energie]\nvisibility: network\n---\nB\n",
	"rostock/intern.md":      "---\ntitle: Intern Rostock\ntopics: [energie]\nvisibility: city\n---\nC\n",
	"wismar/intern.md":       "---\ntitle: Intern Wismar\ntopics: [energie]\nvisibility: city\n---\nD\n",
}

// The permission table over HTTP: every subject reads, lists and manages
// through the API with its own bearer token.
func TestPermissionMatrixOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, visibilityCorpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "mitglied")
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "admin-hwi", [2]string{"admin", "wismar"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	m := startServer(t, dbURL)

	type want struct {
		read       map[string]int // article → status
		listed     int            // articles in GET /api/v1/articles
		putRostock int
		me         int
	}
	all := map[string]int{"rostock/oeffentlich": 200, "rostock/netzwerk": 200, "rostock/intern": 200, "wismar/intern": 200}
	with := func(overrides map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range all {
			out[k] = v
		}
		for k, v := range overrides {
			out[k] = v
		}
		return out
	}
	cases := map[string]want{
		"":             {with(map[string]int{"rostock/netzwerk": 404, "rostock/intern": 404, "wismar/intern": 404}), 1, 401, 401},
		"mitglied":     {with(map[string]int{"rostock/intern": 404, "wismar/intern": 404}), 2, 403, 200},
		"autorin":      {with(map[string]int{"wismar/intern": 404}), 3, 403, 200},
		"pruefer":      {with(map[string]int{"wismar/intern": 404}), 3, 403, 200},
		"admin-hro":    {with(map[string]int{"wismar/intern": 404}), 3, 200, 200},
		"admin-hwi":    {with(map[string]int{"rostock/intern": 404}), 3, 403, 200},
		"koordination": {all, 4, 200, 200},
	}
	for user, w := range cases {
		c := newClient(t, m.URL())
		if user != "" {
			c.token = apiToken(t, m.URL(), user)
		}
		for article, status := range w.read {
			if got, _ := c.get("/api/v1/articles/" + article); got != status {
				t.Errorf("%q GET %s = %d, want %d", user, article, got, status)
			}
			if got, _ := c.get("/api/v1/articles/" + article + "/revisions"); got != status {
				t.Errorf("%q GET %s/revisions = %d, want %d", user, article, got, status)
			}
		}
		var list []map[string]any
		_, body := c.get("/api/v1/articles")
		json.Unmarshal([]byte(body), &list)
		if len(list) != w.listed {
			t.Errorf("%q lists %d articles, want %d", user, len(list), w.listed)
		}
		if got, body := c.sendJSON("PUT", "/api/v1/cities/rostock", map[string]int{"required_approvals": 2}); got != w.putRostock {
			t.Errorf("%q PUT /cities/rostock = %d, want %d: %s", user, got, w.putRostock, body)
		}
		if got, _ := c.get("/api/v1/me"); got != w.me {
			t.Errorf("%q GET /me = %d, want %d", user, got, w.me)
		}
	}

	// Creating, proposing and reviewing over the API, per the permission table.
	owner := newClient(t, m.URL())
	owner.token = apiToken(t, m.URL(), "autorin")
	var art struct{ Revision int64 }
	_, a := owner.get("/api/v1/articles/rostock/oeffentlich")
	json.Unmarshal([]byte(a), &art)
	type wantWrite struct{ create, propose, review int }
	writes := map[string]wantWrite{
		"":             {401, 401, 401},
		"mitglied":     {403, 403, 404},
		"autorin":      {201, 201, 403}, // reviewing her own change: four-eyes
		"pruefer":      {403, 403, 200},
		"admin-hro":    {201, 201, 200},
		"admin-hwi":    {403, 201, 404}, // proposes anywhere, reviews Wismar only
		"koordination": {201, 201, 200},
	}
	for user, w := range writes {
		c := newClient(t, m.URL())
		if user != "" {
			c.token = apiToken(t, m.URL(), user)
		}
		status, body := c.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Neu von " + user, "body": "x", "visibility": "public"})
		if status != w.create {
			t.Errorf("%q creates an article in Rostock: %d, want %d: %s", user, status, w.create, body)
		}
		status, body = c.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "oeffentlich", "base_revision": art.Revision,
			"title": "Öffentlich Rostock", "body": "geändert von " + user, "visibility": "public"})
		if status != w.propose {
			t.Errorf("%q proposes a change to a Rostock article: %d, want %d: %s", user, status, w.propose, body)
		}
		pending := owner.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "oeffentlich", "base_revision": art.Revision,
			"title": "Öffentlich Rostock", "body": "Vorschlag für " + user, "visibility": "public", "submit": true}, 201)
		if status, body := c.act(pending.ID, "request-changes", "bitte prüfen"); status != w.review {
			t.Errorf("%q reviews a Rostock change: %d, want %d: %s", user, status, w.review, body)
		}
	}

	// /me shows the roles.
	c := newClient(t, m.URL())
	c.token = apiToken(t, m.URL(), "admin-hro")
	_, body := c.get("/api/v1/me")
	if !strings.Contains(body, `"roles":[{"city":"rostock","role":"admin"}]`) {
		t.Errorf("/me = %s", body)
	}
	if status, body := c.sendJSON("PUT", "/api/v1/cities/rostock", map[string]any{"required_approvals": 2, "colour": "red"}); status != 400 {
		t.Errorf("unknown field accepted: %d %s", status, body)
	}
	if status, _ := c.sendJSON("PUT", "/api/v1/cities/rostock", map[string]int{"required_approvals": 0}); status != 422 {
		t.Errorf("required_approvals 0 answered %d, want 422", status)
	}
}

func TestLoginSecurity(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, visibilityCorpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "anna", [2]string{"author", "wismar"})
	addUser(t, dbURL, "gesperrt")
	conn, _ := pgxConnect(t, dbURL)
	conn.Exec(context.Background(), `UPDATE users SET disabled = true WHERE username = 'gesperrt'`)
	m := startServer(t, dbURL)

	// Wrong password, unknown user and disabled user look the same.
	var answers []string
	for _, creds := range [][2]string{{"anna", "falsches-passwort"}, {"unbekannt", testPassword}, {"gesperrt", testPassword}} {
		c := newClient(t, m.URL())
		status, body := c.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": creds[0], "password": creds[1]})
		answers = append(answers, http.StatusText(status)+" "+body)
		_, page := c.get("/login")
		status, html, _ := c.postForm("/login", url.Values{"username": {creds[0]}, "password": {creds[1]}, "csrf_token": {csrfOf(t, page)}})
		if status != http.StatusUnauthorized || !strings.Contains(html, "Benutzername oder Passwort ist nicht korrekt.") {
			t.Errorf("HTML login %s: %d", creds[0], status)
		}
	}
	if answers[0] != answers[1] || answers[1] != answers[2] || !strings.HasPrefix(answers[0], "Unauthorized") {
		t.Errorf("login failures differ:\n%s", strings.Join(answers, "\n"))
	}

	// Session fixation: the session ID changes at login.
	c := newClient(t, m.URL())
	c.get("/login")
	before := c.sessionCookie()
	c.login("anna", testPassword)
	if before == "" || c.sessionCookie() == before {
		t.Errorf("session ID kept across login (%q)", before)
	}
	status, account := c.get("/account")
	if status != 200 || !strings.Contains(account, "anna") {
		t.Fatalf("account page after login: %d", status)
	}
	// The city article of the own city is readable; the other city's stays hidden everywhere.
	for _, path := range []string{"/", "/c/rostock", "/topics/energie", "/c"} {
		_, page := c.get(path)
		if strings.Contains(page, "Intern Rostock") {
			t.Errorf("%s shows another city's city-only article to anna", path)
		}
	}
	if _, page := c.get("/topics/energie"); !strings.Contains(page, "Intern Wismar") {
		t.Error("anna's own city-only article is missing from the topic page")
	}

	// A form post without the CSRF token is refused, with it accepted.
	csrf := csrfOf(t, account)
	if status, _, _ := c.postForm("/account/tokens", url.Values{"name": {"ohne"}}); status != http.StatusForbidden {
		t.Errorf("form post without CSRF token: %d, want 403", status)
	}
	if status, _, _ := c.do("POST", "/account/tokens", strings.NewReader(url.Values{"name": {"fremd"}, "csrf_token": {csrf}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Errorf("cross-site form post: %d, want 403", status)
	}
	// A cookie-authenticated API call needs the token too.
	if status, _ := c.sendJSON("POST", "/api/v1/auth/logout", nil); status != http.StatusForbidden {
		t.Errorf("cookie API call without CSRF header: %d, want 403", status)
	}
	status, page, _ := c.postForm("/account/tokens", url.Values{"name": {"Skript"}, "csrf_token": {csrf}})
	token := regexp.MustCompile(`id="new-token">(hw_[A-Za-z0-9_-]+)<`).FindStringSubmatch(page)
	if status != 200 || token == nil {
		t.Fatalf("creating a token: %d", status)
	}

	// The token works until it is revoked.
	api := newClient(t, m.URL())
	api.token = token[1]
	if status, _ := api.get("/api/v1/me"); status != 200 {
		t.Fatalf("new token: %d", status)
	}
	tokenID := regexp.MustCompile(`/account/tokens/(\d+)/revoke`).FindStringSubmatch(page)
	if status, _, _ := c.postForm("/account/tokens/"+tokenID[1]+"/revoke", url.Values{"csrf_token": {csrf}}); status != http.StatusSeeOther {
		t.Fatalf("revoking: %d", status)
	}
	if status, _ := api.get("/api/v1/me"); status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", status)
	}
	if status, _ := api.get("/api/v1/articles"); status != http.StatusUnauthorized {
		t.Errorf("revoked token on a public route: %d, want 401 rather than silently anonymous", status)
	}

	// An expired session sends the browser to the login page and the API to 401.
	conn.Exec(context.Background(), `UPDATE sessions SET expiry = now() - interval '1 minute'`)
	status, _, hdr := c.do("GET", "/account", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login?next=") {
		t.Errorf("expired session: %d → %s, want a redirect to the login page", status, hdr.Get("Location"))
	}
	if status, _ := c.get("/api/v1/me"); status != http.StatusUnauthorized {
		t.Errorf("expired session on the API: %d, want 401", status)
	}

	// Logout destroys the session.
	c.login("anna", testPassword)
	_, account = c.get("/account")
	if status, _, _ := c.postForm("/logout", url.Values{"csrf_token": {csrfOf(t, account)}}); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	if status, _ := c.get("/account"); status != http.StatusSeeOther {
		t.Errorf("account page after logout: %d", status)
	}
}

func TestAdministrationPages(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "admin-hst", [2]string{"admin", "stralsund"})
	addUser(t, dbURL, "neu")
	m := startServer(t, dbURL)

	city := newClient(t, m.URL())
	city.login("admin-hst", testPassword)
	if status, _ := city.get("/admin"); status != http.StatusForbidden {
		t.Errorf("city admin opens the network administration: %d", status)
	}
	if status, _ := city.get("/admin/c/wismar"); status != http.StatusForbidden {
		t.Errorf("city admin opens another city's administration: %d", status)
	}
	status, page := city.get("/admin/c/stralsund")
	if status != 200 {
		t.Fatalf("own city administration: %d", status)
	}
	csrf := csrfOf(t, page)
	if status, _, _ := city.postForm("/admin/c/stralsund/roles", url.Values{"csrf_token": {csrf}, "op": {"grant"}, "username": {"neu"}, "role": {"reviewer"}}); status != http.StatusSeeOther {
		t.Fatalf("granting: %d", status)
	}
	if status, _, _ := city.postForm("/admin/c/stralsund/policy", url.Values{"csrf_token": {csrf}, "required_approvals": {"2"}}); status != http.StatusSeeOther {
		t.Fatalf("policy: %d", status)
	}
	if _, page := city.get("/admin/c/stralsund"); !strings.Contains(page, "neu") || !strings.Contains(page, `value="2"`) || !strings.Contains(page, "Gespeichert.") {
		t.Error("the city administration does not show the new role, policy and confirmation")
	}
	if status, page, _ := city.postForm("/admin/c/stralsund/policy", url.Values{"csrf_token": {csrf}, "required_approvals": {"99"}}); status != 422 || !strings.Contains(page, "role=\"alert\"") {
		t.Errorf("invalid policy: %d", status)
	}
	// The UI shows administration links only to those who may use them.
	if _, page := city.get("/"); !strings.Contains(page, `href="/admin/c/stralsund"`) || strings.Contains(page, `href="/admin"`) {
		t.Error("header links do not match the user's rights")
	}

	net := newClient(t, m.URL())
	net.login("koordination", testPassword)
	status, page = net.get("/admin")
	if status != 200 {
		t.Fatalf("network administration: %d", status)
	}
	csrf = csrfOf(t, page)
	net.postForm("/admin/cities", url.Values{"csrf_token": {csrf}, "slug": {"greifswald"}, "name": {"Universitäts- und Hansestadt Greifswald"}})
	net.postForm("/admin/topics", url.Values{"csrf_token": {csrf}, "slug": {"tourismus"}, "name_de": {"Tourismus"}, "name_en": {"Tourism"}})
	if _, body := net.get("/api/v1/cities"); !strings.Contains(body, "greifswald") {
		t.Error("new city missing")
	}
	if _, body := net.get("/topics"); !strings.Contains(body, "Tourismus") {
		t.Error("new topic missing from the (cached) topic page")
	}

	// The audit log recorded who did what.
	conn, _ := pgxConnect(t, dbURL)
	var n int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE
		(actor = 'admin-hst' AND action IN ('role.grant', 'city.policy')) OR (actor = 'koordination' AND action IN ('city.add', 'topic.save'))`).Scan(&n)
	if n != 4 {
		t.Errorf("%d audit events for the four administrative changes", n)
	}
}
