package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"hansewiki/migrations/pgtest"
)

// A burst of 40 parallel guesses through the HTML form, and another through
// the API, is each verified at most five times, and the right password does
// not sign in once the limit is spent.
func TestParallelSignInGuesses(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "greta")
	addUser(t, dbURL, "paul")
	m := startServer(t, dbURL)

	// Forty browsers, each with its session and CSRF token, ready to post.
	var form []*http.Request
	var browsers []*client
	for i := range 40 {
		c := newClient(t, m.URL())
		_, page := c.get("/login")
		body := url.Values{"username": {"greta"}, "password": {fmt.Sprintf("geraten-%02d-passwort", i)}, "csrf_token": {csrfOf(t, page)}}.Encode()
		req, _ := http.NewRequest("POST", m.URL()+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form = append(form, req)
		browsers = append(browsers, c)
	}
	burst := func(name string, send func(i int) (int, error)) {
		t.Helper()
		before := m.Auth.Hasher().Verifications()
		var wg sync.WaitGroup
		statuses := make([]int, 40)
		for i := range 40 {
			wg.Go(func() {
				status, err := send(i)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = status
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if n := m.Auth.Hasher().Verifications() - before; n > 5 {
			t.Errorf("%s: 40 parallel guesses were verified %d times (answers %v); the limit is 5", name, n, count)
		}
		if count[http.StatusTooManyRequests] < 35 {
			t.Errorf("%s: answers %v, want at least 35 × 429", name, count)
		}
	}
	burst("HTML form", func(i int) (int, error) {
		resp, err := browsers[i].http.Do(form[i])
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	})
	burst("API", func(i int) (int, error) {
		b, _ := json.Marshal(map[string]string{"username": "paul", "password": fmt.Sprintf("geraten-%02d-passwort", i)})
		resp, err := http.Post(m.URL()+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	})

	// The right password, now, is refused without being checked.
	before := m.Auth.Hasher().Verifications()
	c := newClient(t, m.URL())
	_, page := c.get("/login")
	status, _, hdr := c.postForm("/login", url.Values{"username": {"greta"}, "password": {testPassword}, "csrf_token": {csrfOf(t, page)}})
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("right password after the HTML burst: %d (Retry-After %q), want 429", status, hdr.Get("Retry-After"))
	}
	if status, _ := c.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": "paul", "password": testPassword}); status != http.StatusTooManyRequests {
		t.Errorf("right password after the API burst: %d, want 429", status)
	}
	if n := m.Auth.Hasher().Verifications() - before; n != 0 {
		t.Errorf("%d passwords verified for throttled sign-ins", n)
	}
}

// Made-up names and wrong passwords from the address the user shares with
// an attacker do not lock the user out of a browser they signed in with.
func TestSignInFailuresElsewhereDoNotLockOutTheUser(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "greta")
	m := startServer(t, dbURL)

	// Greta signed in with this browser last week.
	browser := newClient(t, m.URL())
	browser.login("greta", testPassword)
	device := deviceCookieOf(browser)
	if device == nil {
		t.Error("no device cookie after signing in")
	}
	_, account := browser.get("/account")
	browser.postForm("/logout", url.Values{"csrf_token": {csrfOf(t, account)}})

	// An attacker on the same address (127.0.0.1 for everyone here):
	// guesses at greta's password until her account is shut for browsers
	// she never used, then made-up names until the address is slowed down.
	attacker := newClient(t, m.URL())
	for i := range 5 {
		attacker.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": "greta", "password": fmt.Sprintf("geraten-%d-passwort", i)})
	}
	for i := range 25 {
		attacker.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": fmt.Sprintf("erfunden%d", i), "password": "irgendwas-geraten"})
	}
	status, _, hdr := attacker.do("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"noch-erfunden","password":"irgendwas-geraten"}`), "Content-Type", "application/json")
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || len(hdr.Get("Retry-After")) > 2 {
		t.Errorf("past the address limit: %d, Retry-After %q, want 429 and a wait of seconds, not a lockout", status, hdr.Get("Retry-After"))
	}

	// A browser greta never used waits; her own browser signs in at once.
	fresh := newClient(t, m.URL())
	_, page := fresh.get("/login")
	if status, page, _ := fresh.postForm("/login", url.Values{"username": {"greta"}, "password": {testPassword}, "csrf_token": {csrfOf(t, page)}}); status != http.StatusTooManyRequests ||
		!strings.Contains(page, "Zu viele Fehlversuche") {
		t.Errorf("unknown browser on the throttled address: %d", status)
	}
	_, page = browser.get("/login")
	if status, page, hdr := browser.postForm("/login", url.Values{"username": {"Greta"}, "password": {testPassword}, "csrf_token": {csrfOf(t, page)}}); status != http.StatusSeeOther {
		t.Fatalf("greta's own browser is locked out: %d, Retry-After %q\n%.300s", status, hdr.Get("Retry-After"), page)
	}
	if status, _ := browser.get("/account"); status != 200 {
		t.Errorf("greta's browser after signing in: %d", status)
	}

	// The device cookie is HttpOnly, long-lived, and changes at each
	// sign-in; the replaced one exempts nobody.
	current := deviceCookieOf(browser)
	if current == nil || current.Value == device.Value {
		t.Fatalf("device cookie not renewed at sign-in")
	}
	if status, _ := loginSetCookie(t, m.URL(), device); status != http.StatusTooManyRequests {
		t.Errorf("the replaced device cookie still exempts: %d", status)
	}
	status, raw := loginSetCookie(t, m.URL(), current)
	if status != http.StatusSeeOther || !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "Max-Age=31536000") || strings.Contains(raw, current.Value) {
		t.Errorf("sign-in with the device cookie: %d, sets %q: want HttpOnly, a year, and a new token", status, raw)
	}
}

func deviceCookieOf(c *client) *http.Cookie {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "hansewiki_device" {
			return ck
		}
	}
	return nil
}

// loginSetCookie signs greta in through the form with device and returns
// the status and the device cookie the answer sets.
func loginSetCookie(t *testing.T, base string, device *http.Cookie) (int, string) {
	t.Helper()
	c := newClient(t, base)
	u, _ := url.Parse(base)
	c.http.Jar.SetCookies(u, []*http.Cookie{device})
	_, page := c.get("/login")
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {"greta"}, "password": {testPassword}, "csrf_token": {csrfOf(t, page)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "hansewiki_device=") {
			return resp.StatusCode, v
		}
	}
	return resp.StatusCode, ""
}

// A password change ends the account's other sessions (browser B is signed
// out at its next request) and its API login tokens; the changing browser
// stays signed in and personal access tokens keep working. An
// administrator's reset (CLI) ends every session.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "anna", [2]string{"author", "wismar"})
	m := startServer(t, dbURL)

	a, b := newClient(t, m.URL()), newClient(t, m.URL())
	a.login("anna", testPassword)
	b.login("anna", testPassword)
	loginToken := apiToken(t, m.URL(), "anna")
	personal, err := cli(t, dbURL, "user", "token", "anna", "--name", "Skript")
	if err != nil {
		t.Fatal(err)
	}
	api := func(token string) int {
		c := newClient(t, m.URL())
		c.token = strings.TrimSpace(token)
		status, _ := c.get("/api/v1/me")
		return status
	}
	_, account := a.get("/account")
	status, _, _ := a.postForm("/account/password", url.Values{"csrf_token": {csrfOf(t, account)},
		"old_password": {testPassword}, "new_password": {"ein-ganz-neues-passwort"}, "new_password2": {"ein-ganz-neues-passwort"}})
	if status != http.StatusSeeOther {
		t.Fatalf("changing the password: %d", status)
	}
	status, account = a.get("/account")
	if status != 200 || !strings.Contains(account, "Alle anderen Sitzungen") {
		t.Errorf("the changing browser after the change: %d", status)
	}
	if !strings.Contains(account, "Skript") {
		t.Error("the account page does not list the personal access token")
	}
	if status, _, hdr := b.do("GET", "/account", nil); status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("browser B after the change: %d → %q, want signed out", status, hdr.Get("Location"))
	}
	if status, _ := b.get("/api/v1/me"); status != http.StatusUnauthorized {
		t.Errorf("browser B's cookie on the API: %d, want 401", status)
	}
	if status := api(loginToken); status != http.StatusUnauthorized {
		t.Errorf("API login token after the change: %d, want 401", status)
	}
	if status := api(personal); status != 200 {
		t.Errorf("personal access token after the change: %d, want 200", status)
	}
	// The old password no longer signs in, the new one does.
	if status, _ := newClient(t, m.URL()).sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": "anna", "password": testPassword}); status != http.StatusUnauthorized {
		t.Errorf("old password: %d", status)
	}

	// The administrator's reset ends the remaining session too.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "passwd", "ANNA"}, strings.NewReader("vom-admin-gesetzt-123\n"), &out, &out, env("DATABASE_URL", dbURL)); err != nil {
		t.Fatalf("user passwd: %v\n%s", err, out.String())
	}
	if status, _ := a.get("/account"); status != http.StatusSeeOther {
		t.Errorf("browser A after the CLI reset: %d, want signed out", status)
	}
	if status := api(personal); status != 200 {
		t.Errorf("personal access token after the reset: %d", status)
	}

	// A network admin disables the account and enables it again: the
	// sessions and login tokens from before stay ended.
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	a.login("anna", "vom-admin-gesetzt-123")
	loginToken = apiTokenWith(t, m.URL(), "anna", "vom-admin-gesetzt-123")
	admin := newClient(t, m.URL())
	admin.login("Koordination", testPassword)
	for _, disabled := range []string{"true", "false"} {
		_, page := admin.get("/admin")
		if status, _, _ := admin.postForm("/admin/users/ANNA/disable", url.Values{"csrf_token": {csrfOf(t, page)}, "disabled": {disabled}, "confirmed": {"1"}}); status != http.StatusSeeOther {
			t.Fatalf("disabled=%s: %d", disabled, status)
		}
	}
	if status, _ := a.get("/account"); status != http.StatusSeeOther {
		t.Errorf("a session from before disabling: %d, want signed out", status)
	}
	if status := api(loginToken); status != http.StatusUnauthorized {
		t.Errorf("a login token from before disabling: %d, want 401", status)
	}
}

func apiTokenWith(t *testing.T, base, user, password string) string {
	t.Helper()
	status, body := newClient(t, base).sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": password})
	var resp struct{ Token string }
	json.Unmarshal([]byte(body), &resp)
	if status != 200 || resp.Token == "" {
		t.Fatalf("API login %s: %d %s", user, status, body)
	}
	return resp.Token
}

// next= after sign-in leads only to a path of this site, whatever encoding
// or browser quirk the attacker tries.
func TestSignInRedirectsOnlyOnThisSite(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "anna")
	m := startServer(t, dbURL)
	attacks := []string{ // raw query values, as an attacker writes them into a link
		"/%09/evil.example", "%2F%2Fevil.example", "//evil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
		"/%0d/evil.example", "/%0a/evil.example", "/%0D%0A/evil.example", "%09//evil.example", "/%252F/evil.example",
		"https://evil.example", "https:evil.example", "/%E2%80%8B/evil.example", "/%C2%85/evil.example", "/%00/evil",
		"\\evil.example", "/\\evil.example", "/%2F/evil.example", "javascript:alert(1)",
	}
	signedIn := newClient(t, m.URL())
	signedIn.login("anna", testPassword)
	for _, next := range attacks {
		if strings.Contains(next, "%00") {
			// A NUL byte in a query is refused outright (400), before any
			// redirect could be considered.
			if status, _, hdr := signedIn.do("GET", "/login?next="+next, nil); status != http.StatusBadRequest || hdr.Get("Location") != "" {
				t.Errorf("GET /login?next=%s: %d → %q, want 400", next, status, hdr.Get("Location"))
			}
			continue
		}
		// Signed in: /login?next= forwards at once.
		if status, _, hdr := signedIn.do("GET", "/login?next="+next, nil); status != http.StatusSeeOther || hdr.Get("Location") != "/" {
			t.Errorf("GET /login?next=%s: %d → %q, want /", next, status, hdr.Get("Location"))
		}
		// Signing in: the form carries next= and the answer redirects.
		c := newClient(t, m.URL())
		_, page := c.get("/login?next=" + next)
		if m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(page); m == nil || m[1] != "/" {
			t.Errorf("login form for next=%s carries %q", next, m)
		}
		raw, _ := url.QueryUnescape(next)
		status, _, hdr := c.postForm("/login", url.Values{"username": {"anna"}, "password": {testPassword}, "csrf_token": {csrfOf(t, page)}, "next": {raw}})
		if status != http.StatusSeeOther || hdr.Get("Location") != "/" {
			t.Errorf("POST /login next=%q: %d → %q, want /", raw, status, hdr.Get("Location"))
		}
	}
	// A path of this site is kept.
	if status, _, hdr := signedIn.do("GET", "/login?next=%2Fc%2Frostock%3Ftopic%3Denergie", nil); status != http.StatusSeeOther || hdr.Get("Location") != "/c/rostock?topic=energie" {
		t.Errorf("local next: %d → %q", status, hdr.Get("Location"))
	}
}

// Every CLI command and the sign-in take a user name in any case as the
// account "user add" created.
func TestCLIUserNamesInAnyCase(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "add", "Upper", "--name", "Uta Per"}, strings.NewReader(testPassword+"\n"), &out, &out, env("DATABASE_URL", dbURL)); err != nil ||
		!strings.Contains(out.String(), "created user upper") {
		t.Fatalf("user add Upper: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{
		{"role", "grant", "Upper", "author", "rostock"},
		{"role", "grant", "UPPER", "reviewer", "rostock"},
		{"role", "revoke", "uPPER", "reviewer", "rostock"},
	} {
		if out, err := cli(t, dbURL, args...); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	token, err := cli(t, dbURL, "user", "token", "Upper")
	if err != nil || !strings.HasPrefix(token, "hw_") {
		t.Fatalf("user token Upper: %v\n%s", err, token)
	}
	out.Reset()
	if err := run(context.Background(), []string{"user", "passwd", " Upper "}, strings.NewReader("ein-neues-passwort\n"), &out, &out, env("DATABASE_URL", dbURL)); err != nil {
		t.Fatalf("user passwd Upper: %v\n%s", err, out.String())
	}
	if _, err := cli(t, dbURL, "user", "add", "UPPER"); err == nil {
		t.Error("a second account UPPER was created beside upper")
	}

	m := startServer(t, dbURL)
	api := newClient(t, m.URL())
	api.token = strings.TrimSpace(token)
	status, body := api.get("/api/v1/me")
	if status != 200 || !strings.Contains(body, `"username":"upper"`) || !strings.Contains(body, `"role":"author"`) || strings.Contains(body, "reviewer") {
		t.Errorf("/api/v1/me with the token: %d %s", status, body)
	}
	c := newClient(t, m.URL())
	if status, body := c.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": "UPPER", "password": "ein-neues-passwort"}); status != 200 {
		t.Errorf("API login as UPPER: %d %s", status, body)
	}
	_, page := c.get("/login")
	if status, _, _ := c.postForm("/login", url.Values{"username": {"Upper"}, "password": {"ein-neues-passwort"}, "csrf_token": {csrfOf(t, page)}}); status != http.StatusSeeOther {
		t.Errorf("form login as Upper: %d", status)
	}
}
