package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Tests written as an attacker over HTTP: hostile input never answers 500,
// enumerated filters refuse junk, nothing request-derived reaches absolute
// URLs, and nothing personal is cacheable.

// account creates a user with roles and returns a personal access token.
func account(t testing.TB, s *Server, username string, roles ...string) string {
	t.Helper()
	ctx := context.Background()
	u, err := s.auth.CreateUser(ctx, auth.NewUser{Username: username, Password: "correct horse battery"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(roles); i += 2 {
		if err := s.auth.Grant(ctx, username, roles[i], roles[i+1], "test"); err != nil {
			t.Fatal(err)
		}
	}
	secret, _, err := s.auth.CreateToken(ctx, u.ID, auth.TokenPersonal, "test", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

type routeCase struct{ name, method, tpl string }

// allRoutes lists the route table with its path templates.
func allRoutes(t *testing.T, s *Server) []routeCase {
	t.Helper()
	var out []routeCase
	s.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := r.GetMethods()
		for _, m := range methods {
			out = append(out, routeCase{r.GetName(), m, tpl})
		}
		return nil
	})
	if len(out) < 40 {
		t.Fatalf("only %d routes", len(out))
	}
	return out
}

var routeVar = regexp.MustCompile(`\{([a-z_]+)(?::[^}]*)?\}`)

var sampleVars = map[string]string{"city": "luebeck", "slug": "quartiersbus-in-luebeck", "id": "1", "topic": "mobilitaet",
	"user": "nobody", "action": "submit", "aid": "1"}

// concrete fills a template's variables with samples, and the variable
// named bad (if any) with raw, already escaped, text.
func concrete(tpl, bad, raw string) string {
	return routeVar.ReplaceAllStringFunc(tpl, func(m string) string {
		name := routeVar.FindStringSubmatch(m)[1]
		if name == bad {
			return raw
		}
		return sampleVars[name]
	})
}

func send(s http.Handler, method, target, token, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	req.URL, req.RequestURI = u, target
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

var badText = map[string]string{"NUL": "a%00b", "invalid UTF-8": "%FF%FE", "lone continuation": "x%80"}

// Every route, every path variable: NUL or invalid UTF-8 is 404, as
// anonymous visitor and as network admin, never 500.
func TestBadPathSegmentsAre404(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	admin := account(t, s, "netzadmin", "admin", "*")
	for _, rt := range allRoutes(t, s) {
		vars := routeVar.FindAllStringSubmatch(rt.tpl, -1)
		if len(vars) == 0 {
			// A static path with a bad segment appended.
			vars = [][]string{{"", "tail"}}
			rt.tpl = strings.TrimSuffix(rt.tpl, "/") + "/{tail}"
		}
		for _, v := range vars {
			for what, raw := range badText {
				for _, token := range []string{"", admin} {
					target := concrete(rt.tpl, v[1], raw)
					rec := send(s, rt.method, target, token, "application/json", "{}")
					if rec.Code != http.StatusNotFound {
						t.Errorf("%s %s (%s in {%s}, signed in %v) = %d, want 404", rt.method, target, what, v[1], token != "", rec.Code)
					}
				}
			}
		}
	}
}

var queryParams = []string{"city", "topic", "tag", "status", "object", "actor", "action", "q", "state", "mine", "sort",
	"limit", "offset", "page", "from", "to", "before", "next", "lang", "visibility", "x"}

// Every route, every query parameter any route reads: NUL or invalid UTF-8
// is 400, never 500.
func TestBadQueryValuesAre400(t *testing.T) {
	t.Parallel()
	skipSweepInShort(t)
	s := newTestServer(t, sampleItems...)
	admin := account(t, s, "netzadmin", "admin", "*")
	for _, rt := range allRoutes(t, s) {
		for _, p := range queryParams {
			for what, raw := range badText {
				for _, token := range []string{"", admin} {
					if token != "" && what != "NUL" {
						continue // the check does not depend on who asks
					}
					target := concrete(rt.tpl, "", "") + "?" + p + "=" + raw
					rec := send(s, rt.method, target, token, "", "")
					if rec.Code != http.StatusBadRequest {
						t.Errorf("%s %s (%s, signed in %v) = %d, want 400", rt.method, target, what, token != "", rec.Code)
					}
				}
			}
		}
		// The name of a parameter is checked like its value.
		if rec := send(s, rt.method, concrete(rt.tpl, "", "")+"?%FF=1", "", "", ""); rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s with an invalid parameter name = %d, want 400", rt.method, rt.tpl, rec.Code)
		}
	}
}

// Bodies: a form or JSON value with NUL or invalid UTF-8 is 400.
func TestBadBodiesAre400(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	admin := account(t, s, "netzadmin", "admin", "*")
	for _, rt := range allRoutes(t, s) {
		if rt.method == http.MethodGet || rt.method == http.MethodHead {
			continue
		}
		target := concrete(rt.tpl, "", "")
		if rt.name == "api.logout" || rt.method == http.MethodDelete {
			continue // reads no body
		}
		if isAPI(httptest.NewRequest("GET", target, nil)) {
			for what, body := range map[string]string{"escaped NUL": `{"title":"a\u0000b","body":"x","comment":"\u0000","username":"\u0000","password":"x","required_approvals":1}`,
				"invalid UTF-8": "{\"title\":\"\xff\"}"} {
				rec := send(s, rt.method, target, admin, "application/json", body)
				if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnauthorized {
					t.Errorf("%s %s with %s in JSON = %d, want 400: %s", rt.method, target, what, rec.Code, rec.Body)
				}
			}
			continue
		}
		for what, raw := range badText {
			for _, field := range []string{"body", "username", "title", "comment", "action", "csrf_token"} {
				rec := send(s, rt.method, target, admin, "application/x-www-form-urlencoded", field+"="+raw)
				if rec.Code != http.StatusBadRequest {
					t.Errorf("%s %s with %s in form field %s = %d, want 400", rt.method, target, what, field, rec.Code)
				}
			}
		}
	}
	if rec := send(s, "POST", "/api/v1/auth/login", "", "application/json", `{"username":"netzadmin\u0000","password":"x"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("login with NUL in the user name = %d, want 400", rec.Code)
	}
}

// Unknown values of an enumerated filter are 422, on the API and on pages.
func TestUnknownEnumValuesAre422(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	member := account(t, s, "mitglied")
	for _, target := range []string{
		"/api/v1/articles?status=rostock",
		"/api/v1/search?q=bus&status=rostock",
		"/api/v1/search?q=bus&status=umsetzung&status=rostock",
		"/api/v1/search?q=bus&sort=rostock",
		"/api/v1/changes?state=rostock",
		"/api/v1/changes?mine=vielleicht",
		"/search?q=bus&status=rostock",
		"/search?q=bus&sort=rostock",
		"/topics/mobilitaet?status=rostock",
		"/changes?state=rostock",
	} {
		rec := send(s, "GET", target, member, "", "")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("GET %s = %d, want 422: %.200s", target, rec.Code, rec.Body)
		}
	}
	for _, target := range []string{"/api/v1/articles?status=umsetzung", "/api/v1/changes?state=in_review&mine=true", "/topics/mobilitaet?status=idee"} {
		if rec := send(s, "GET", target, member, "", ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", target, rec.Code)
		}
	}
}

// The API documents no redirects: unclean paths are 404 there. Pages keep
// redirecting to their clean path.
func TestAPIPathsAreNotRedirected(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	for _, target := range []string{"/api/v1/articles/x/..", "/api/v1/articles/luebeck/quartiersbus-in-luebeck/..", "/api/v1/cities/",
		"/api/v1//cities", "/api/v1/./cities", "/api/v1/articles/luebeck/../luebeck/quartiersbus-in-luebeck"} {
		rec := send(s, "GET", target, "", "", "")
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %s, want a JSON 404", target, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	rec := send(s, "GET", "/c/luebeck/?lang=en", "", "", "")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/c/luebeck?lang=en" {
		t.Errorf("GET /c/luebeck/ = %d to %q, want 301 to /c/luebeck?lang=en", rec.Code, rec.Header().Get("Location"))
	}
	if rec := send(s, "GET", "//evil.example/", "", "", ""); strings.HasPrefix(rec.Header().Get("Location"), "//") {
		t.Errorf("GET //evil.example/ redirects off-site to %q", rec.Header().Get("Location"))
	}
}

// A forged Host header never reaches a feed or a page, not even through
// the page cache that serves everyone afterwards.
func TestForgedHostNeverReachesAbsoluteURLs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	for _, target := range []string{"/feed.atom", "/c/luebeck/feed.atom", "/topics/mobilitaet/feed.atom", "/c/luebeck/quartiersbus-in-luebeck", "/"} {
		for range 2 { // the second answer comes from the page cache
			req := httptest.NewRequest("GET", target, nil)
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Host", "evil.example")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "evil.example") {
				t.Fatalf("GET %s with a forged Host = %d, mentions the forged host: %v", target, rec.Code, strings.Contains(rec.Body.String(), "evil.example"))
			}
		}
		if body := do(t, s, "GET", target).Body.String(); strings.Contains(body, "evil.example") {
			t.Fatalf("GET %s serves the forged host to the next visitor", target)
		}
	}
	if body := do(t, s, "GET", "/feed.atom").Body.String(); !strings.Contains(body, `href="http://localhost/c/luebeck/quartiersbus-in-luebeck"`) {
		t.Errorf("feed links are not built from the base URL:\n%s", body)
	}
}

// Everything served to a signed-in user, every non-GET and the API for
// authenticated callers is private, no-store; public pages stay cacheable.
func TestNonPublicAnswersAreNotCacheable(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	admin := account(t, s, "netzadmin", "admin", "*")
	srv := httptest.NewServer(s)
	defer srv.Close()
	browser := signIn(t, srv.URL, "netzadmin")
	for _, rt := range allRoutes(t, s) {
		target := concrete(rt.tpl, "", "")
		if rt.name == "static" || strings.Contains(rt.name, "logout") || strings.Contains(rt.name, "revoke") {
			continue // they end the session or token the test uses
		}
		if rt.method == http.MethodGet {
			req, _ := http.NewRequest("GET", srv.URL+target, nil)
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if cc := resp.Header.Get("Cache-Control"); cc != privateNoStore {
				t.Errorf("signed-in GET %s = %d with Cache-Control %q", target, resp.StatusCode, cc)
			}
		}
		rec := send(s, rt.method, target, admin, "application/json", "{}")
		if cc := rec.Header().Get("Cache-Control"); cc != privateNoStore {
			t.Errorf("%s %s with a token = %d with Cache-Control %q", rt.method, target, rec.Code, cc)
		}
		if rt.method != http.MethodGet {
			rec := send(s, rt.method, target, "", "application/x-www-form-urlencoded", "a=b")
			if cc := rec.Header().Get("Cache-Control"); cc != privateNoStore {
				t.Errorf("anonymous %s %s = %d with Cache-Control %q", rt.method, target, rec.Code, cc)
			}
		}
	}
	if cc := do(t, s, "GET", "/c/luebeck/quartiersbus-in-luebeck").Header().Get("Cache-Control"); strings.Contains(cc, "no-store") {
		t.Errorf("a public page for anonymous visitors is not cacheable: %q", cc)
	}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in through the login form and returns the browser.
func signIn(t *testing.T, base, username string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatal("login form without CSRF token")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf_token": {string(m[1])}, "username": {username}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/account")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account" {
		t.Fatalf("sign-in failed: %v %v", err, resp.Request.URL)
	}
	resp.Body.Close()
	return c
}

// A city admin's audit view holds the city's events, decided by the
// objects, not by how names look.
func TestCityAdminAuditIsScopedByObject(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	ctx := context.Background()
	cityAdmin := account(t, s, "stadtadmin", "admin", "luebeck")
	account(t, s, "luebeck")                                                                         // a user named like the city
	account(t, s, "rostocker", "author", "rostock")                                                  // a role in another city
	s.auth.Login(ctx, auth.Attempt{Username: "luebeck/../x", Password: "falsch", Addr: "192.0.2.1"}) // a failed sign-in named like the city's objects
	s.auth.Login(ctx, auth.Attempt{Username: "luebeck", Password: "falsch", Addr: "192.0.2.1"})
	if _, err := s.store.SetRequiredApprovals(ctx, "luebeck", 2, "stadtadmin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.SetRequiredApprovals(ctx, "rostock", 2, "netzadmin"); err != nil {
		t.Fatal(err)
	}
	rec := send(s, "GET", "/api/v1/audit?limit=1000", cityAdmin, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("audit = %d: %s", rec.Code, rec.Body)
	}
	var events []struct{ Actor, Action, Object string }
	json.Unmarshal(rec.Body.Bytes(), &events)
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Action+" "+e.Object] = true
		if strings.HasPrefix(e.Action, "login") || e.Object == "user:luebeck" || strings.Contains(e.Object, "rostock") {
			t.Errorf("a Lübeck admin sees %s %s by %s", e.Action, e.Object, e.Actor)
		}
	}
	for _, want := range []string{"city.policy city:luebeck", "article.import article:luebeck/quartiersbus-in-luebeck", "role.grant user:stadtadmin"} {
		if !seen[want] {
			t.Errorf("a Lübeck admin does not see %q in %v", want, seen)
		}
	}
	// The page asks the same filter.
	if page := send(s, "GET", "/admin/audit", cityAdmin, "", "").Body.String(); strings.Contains(page, "login.failed") {
		t.Error("the audit page shows failed sign-ins to a city admin")
	}
}

// Every HTML error page is a page of the site: language, title,
// navigation, a German message (English with ?lang=en) and a way on.
func TestErrorPagesRenderInTheLayout(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	member := account(t, s, "mitglied")
	cases := []struct {
		method, target, token, body string
		status                      int
		german                      string
	}{
		{"GET", "/search?q=%00", "", "", 400, "Fehlerhafte Anfrage"},
		{"POST", "/preview", "", "body=x", 403, "Keine Berechtigung"}, // no CSRF token
		{"GET", "/admin", member, "", 403, "Keine Berechtigung"},
		{"GET", "/c/luebeck/gibt-es-nicht", "", "", 404, "Seite nicht gefunden"},
		{"GET", "/c/%FF", "", "", 404, "Seite nicht gefunden"},
		{"GET", "/static/abc/gibt-es-nicht.css", "", "", 404, "Seite nicht gefunden"},
		{"DELETE", "/c/luebeck", "", "", 405, "Methode nicht erlaubt"},
		{"POST", "/c/luebeck/new", member, "body=" + strings.Repeat("x", maxFormBody), 413, "Zu groß"},
		{"GET", "/topics/mobilitaet?status=rostock", "", "", 422, "Dieser Filterwert ist unbekannt"},
	}
	for _, c := range cases {
		for _, lang := range []string{"de", "en"} {
			target := c.target
			if lang == "en" {
				target += map[bool]string{true: "&", false: "?"}[strings.Contains(target, "?")] + "lang=en"
			}
			rec := send(s, c.method, target, c.token, "application/x-www-form-urlencoded", c.body)
			body := rec.Body.String()
			if rec.Code != c.status {
				t.Errorf("%s %s = %d, want %d", c.method, target, rec.Code, c.status)
				continue
			}
			for _, want := range []string{`<html lang="` + lang + `"`, "<title>", `class="main-nav"`, `href="/"`} {
				if !strings.Contains(body, want) {
					t.Errorf("%s %s: error page lacks %q", c.method, target, want)
				}
			}
			if lang == "de" && !strings.Contains(body, c.german) {
				t.Errorf("%s %s: German error page lacks %q", c.method, target, c.german)
			}
		}
	}
	// An internal error: the same page, with a request number and no details.
	req := httptest.NewRequest("GET", "/c/luebeck", nil)
	rec := httptest.NewRecorder()
	s.serverError(rec, req, errors.New("pq: relation \"secret_table\" does not exist"))
	if body := rec.Body.String(); rec.Code != 500 || !strings.Contains(body, `<html lang="de"`) || !strings.Contains(body, "Interner Fehler") ||
		!strings.Contains(body, `class="main-nav"`) || strings.Contains(body, "secret_table") {
		t.Errorf("500 page = %d:\n%s", rec.Code, body)
	}
	// When the error page itself fails, the answer is still a page.
	broken := template.Must(template.New("layout").Funcs(template.FuncMap{"fail": func() (string, error) { return "", errors.New("boom") }}).Parse(`{{define "layout"}}{{fail}}{{end}}`))
	s.tmpl.byLang["de"]["error"] = broken
	rec = httptest.NewRecorder()
	s.serverError(rec, req, errors.New("first failure"))
	if body := rec.Body.String(); rec.Code != 500 || !strings.Contains(body, `<html lang="de"`) || !strings.Contains(body, "<title>Interner Fehler") || !strings.Contains(body, `href="/"`) {
		t.Errorf("500 page when the error template fails = %d:\n%s", rec.Code, body)
	}
	// A panicking handler answers the same way.
	rec = httptest.NewRecorder()
	s.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).ServeHTTP(rec, req)
	if body := rec.Body.String(); rec.Code != 500 || !strings.Contains(body, `<html lang="de"`) {
		t.Errorf("after a panic = %d:\n%s", rec.Code, body)
	}
}

// invalidKey finds the message keys of validation errors in the source.
var invalidKey = regexp.MustCompile(`(?:\bKey:\s*|invalid\("[a-z_]+",\s*)"([a-z_.0-9]+)"`)

// Every validation error a page can show is translated: no German page
// shows the English text of an error.
func TestEveryErrorKeyIsTranslated(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range []string{"../wiki", "../wiki/search", "../auth", "../workflow", "."} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, _ := os.ReadFile(f)
			for _, m := range invalidKey.FindAllStringSubmatch(string(src), -1) {
				n++
				for _, lang := range languages {
					if _, ok := cats[lang]["err."+m[1]]; !ok {
						t.Errorf("%s: error key %q has no err.%s in %s", f, m[1], m[1], lang)
					}
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d error keys; the pattern no longer matches the source", n)
	}
	de := cats["de"]
	for _, e := range []error{
		&wiki.InvalidError{Field: "title", Key: "title.length", Message: "the title must have 1 to 200 characters", Args: []any{200}},
		&wiki.InvalidError{Field: "x", Key: "no.such.key", Message: "an English sentence"},
		fmt.Errorf("there is no city %q: %w", "x", wiki.ErrNotFound),
		fmt.Errorf("change 5 is published: %w", wiki.ErrConflict),
		&auth.ThrottledError{RetryAfter: time.Minute},
		errors.New("connection refused"),
	} {
		got := de.errorText(e)
		if strings.Contains(got, "English") || strings.Contains(got, "the ") || strings.Contains(got, "change 5") || strings.Contains(got, "refused") || strings.HasPrefix(got, "err.") {
			t.Errorf("errorText(%v) = %q", e, got)
		}
	}
}

// The 1 MiB limit counts the Markdown, not its JSON escaping.
func TestBodyLimitCountsMarkdownNotEscaping(t *testing.T) {
	t.Parallel()
	skipSweepInShort(t)
	s := newTestServer(t, sampleItems...)
	author := account(t, s, "autorin", "author", "luebeck")
	post := func(markdown string) *httptest.ResponseRecorder {
		b, _ := json.Marshal(map[string]any{"city": "luebeck", "title": "Viele Zeichen", "body": markdown, "visibility": "network"})
		return send(s, "POST", "/api/v1/changes", author, "application/json", string(b))
	}
	// Quotes and control characters take 2 to 6 bytes in JSON.
	full := strings.Repeat("\"\x01\\\n", wiki.MaxBodyBytes/4)
	if rec := post(full); rec.Code != http.StatusCreated {
		t.Errorf("1 MiB of Markdown (%d bytes of JSON) = %d, want 201: %.300s", 3*len(full), rec.Code, rec.Body)
	}
	if rec := post(full + "x"); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB + 1 byte of Markdown = %d, want 413: %.300s", rec.Code, rec.Body)
	}
	if rec := send(s, "POST", "/api/v1/changes", author, "application/json", `{"body":"`+strings.Repeat(`\u0001`, maxChangeBody/6+1)+`"}`); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body beyond the read limit = %d, want 413", rec.Code)
	}
	// The editor's form: percent-encoding does not count either.
	form := func(markdown string) *httptest.ResponseRecorder {
		return send(s, "POST", "/c/luebeck/new", author, "application/x-www-form-urlencoded",
			url.Values{"title": {"Per Formular"}, "body": {markdown}, "visibility": {"network"}, "op": {"save"}}.Encode())
	}
	if rec := form(full); rec.Code != http.StatusSeeOther {
		t.Errorf("1 MiB of Markdown through the editor = %d, want 303: %.300s", rec.Code, rec.Body)
	}
	if rec := form(full + "x"); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB + 1 byte of Markdown through the editor = %d, want 413", rec.Code)
	}
}

// Sloppy and hostile form values on every page that takes a form answer
// below 500.
func TestPageFormsNever500(t *testing.T) {
	t.Parallel()
	skipSweepInShort(t)
	s := newTestServer(t, sampleItems...)
	admin := account(t, s, "netzadmin", "admin", "*")
	values := []string{"", "x", "-1", "99999999999999999999", "ü", "'; DROP TABLE users; --", strings.Repeat("x", 100000), "*", "../..", "<script>"}
	fields := []string{"slug", "name", "name_de", "name_en", "username", "display_name", "email", "password", "disabled", "role", "city", "op",
		"required_approvals", "action", "comment", "body", "title", "visibility", "status", "start_year", "topics", "tags", "base_revision",
		"watch", "archive", "old_password", "new_password", "new_password2", "next", "summary"}
	for _, rt := range allRoutes(t, s) {
		if rt.method != http.MethodPost || isAPI(httptest.NewRequest("GET", rt.tpl, nil)) || strings.Contains(rt.name, "logout") || strings.Contains(rt.name, "revoke") || strings.Contains(rt.name, "disable") {
			continue
		}
		for _, v := range values {
			form := url.Values{}
			for _, f := range fields {
				form.Set(f, v)
			}
			target := concrete(rt.tpl, "", "")
			if rec := send(s, "POST", target, admin, "application/x-www-form-urlencoded", form.Encode()); rec.Code >= 500 {
				t.Errorf("POST %s with every field %.20q = %d", target, v, rec.Code)
			}
		}
	}
}

// A client's request ID is echoed only when it is plain.
func TestRequestIDIsEchoedOnlyWhenPlain(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for id, echoed := range map[string]bool{"abc-123_x.y": true, "<script>": false, "a\xffb": false, strings.Repeat("a", 65): false} {
		req := httptest.NewRequest("GET", "/c/gibt-es-nicht", nil)
		req.Header.Set("X-Request-Id", id)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Request-Id"); (got == id) != echoed || got == "" {
			t.Errorf("X-Request-Id %q answered as %q", id, got)
		}
	}
}

// skipSweepInShort: the input sweeps send thousands of requests one after
// another, which the race detector (make test's -short run) slows tenfold
// without any concurrency to check; the full run always does them.
func skipSweepInShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a sequential sweep: run by the full go test, not the -short race run")
	}
}
