package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
	"hansewiki/workflow"
)

// Instance b serves signed-in pages from its caches (sessions, identities,
// tokens, shared pages). Whatever changes on instance a — a role revoked,
// a sign-out, a password change, a disabled account, a revoked token, a
// watched article — holds on b for the very next request, although b's
// listener hears every change 300 ms late: the request that changed it
// answered only once b had heard it.
func TestAccountChangesHoldOnEveryInstanceAtOnce(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, visibilityCorpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "lea", [2]string{"author", "rostock"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	a := startServer(t, dbURL)
	b := openServer(t, dbURL, nil)
	// Subscribed before serve, so it runs before b's own subscribers.
	var slow atomic.Bool
	for _, ch := range []string{auth.AccountChannel, auth.SessionChannel, workflow.PersonalChannel} {
		b.Changes.Subscribe(ch, func(context.Context, string) error {
			if slow.Load() {
				time.Sleep(300 * time.Millisecond)
			}
			return nil
		})
	}
	serve(t, b)

	admin := newClient(t, a.URL())
	admin.login("koordination", testPassword)
	// One browser, one cookie, two instances behind a balancer: cookies
	// do not care about ports, so both clients carry the same session.
	onA := newClient(t, a.URL())
	onA.login("lea", testPassword)
	onB := &client{t: t, base: b.URL(), http: onA.http}
	token := strings.TrimSpace(mustCLI(t, dbURL, "user", "token", "lea", "--name", "Skript"))
	withToken := newClient(t, b.URL())
	withToken.token = token
	const cityOnly = "/c/rostock/intern"
	warm := func() {
		t.Helper()
		for range 2 {
			if status, _ := onB.get(cityOnly); status != 200 {
				t.Fatalf("lea on b before: %d", status)
			}
			if status, _ := withToken.get("/api/v1/me"); status != 200 {
				t.Fatalf("token on b before: %d", status)
			}
		}
	}
	warm()
	slow.Store(true)

	// Watching shows on b at once.
	_, page := onA.get("/c/rostock/oeffentlich")
	if status, _, _ := onA.postForm("/c/rostock/oeffentlich/watch", url.Values{"csrf_token": {csrfOf(t, page)}, "watch": {"on"}}); status != http.StatusSeeOther {
		t.Fatalf("watch: %d", status)
	}
	if _, body := onB.get("/c/rostock/oeffentlich"); !strings.Contains(body, `name="watch" value="off"`) {
		t.Error("b shows lea as not watching right after she started to")
	}

	// A revoked role.
	_, adminPage := admin.get("/admin")
	csrf := csrfOf(t, adminPage)
	if status, _, _ := admin.postForm("/admin/roles", url.Values{"csrf_token": {csrf}, "op": {"revoke"}, "username": {"lea"}, "role": {"author"}, "city": {"rostock"}}); status != http.StatusSeeOther {
		t.Fatalf("revoking: %d", status)
	}
	if status, _ := onB.get(cityOnly); status != http.StatusNotFound {
		t.Errorf("lea on b right after her role was revoked: %d, want 404", status)
	}
	slow.Store(false)
	mustCLI(t, dbURL, "role", "grant", "lea", "author", "rostock")
	warm()
	slow.Store(true)

	// A revoked token.
	_, account := onA.get("/account")
	id := regexp.MustCompile(`/account/tokens/(\d+)/revoke`).FindStringSubmatch(account)
	if id == nil {
		t.Fatal("account page lists no token")
	}
	if status, _, _ := onA.postForm("/account/tokens/"+id[1]+"/revoke", url.Values{"csrf_token": {csrfOf(t, account)}}); status != http.StatusSeeOther {
		t.Fatalf("revoking the token: %d", status)
	}
	if status, _ := withToken.get("/api/v1/me"); status != http.StatusUnauthorized {
		t.Errorf("the revoked token on b: %d, want 401", status)
	}

	// A sign-out: the session's cookie, kept by someone else, no longer
	// works on b.
	_, account = onA.get("/account")
	kept := withCookie(t, b.URL(), onA.sessionCookie())
	if status, _ := kept.get("/account"); status != 200 {
		t.Fatalf("the session on b before the sign-out: %d", status)
	}
	if status, _, _ := onA.postForm("/logout", url.Values{"csrf_token": {csrfOf(t, account)}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", status)
	}
	if status, _, hdr := kept.do("GET", "/account", nil); status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("the signed-out session on b: %d %q, want the sign-in page", status, hdr.Get("Location"))
	}

	// A password change ends the other session.
	slow.Store(false)
	other := newClient(t, b.URL())
	other.login("lea", testPassword)
	onA.login("lea", testPassword)
	other.get("/account")
	other.get("/account")
	slow.Store(true)
	_, account = onA.get("/account")
	if status, _, _ := onA.postForm("/account/password", url.Values{"csrf_token": {csrfOf(t, account)}, "old_password": {testPassword},
		"new_password": {"ein-ganz-neues-passwort"}, "new_password2": {"ein-ganz-neues-passwort"}}); status != http.StatusSeeOther {
		t.Fatalf("password change: %d", status)
	}
	if status, _, _ := other.do("GET", "/account", nil); status != http.StatusSeeOther {
		t.Errorf("the other session on b after the password change: %d, want signed out", status)
	}

	// A disabled account.
	kept = withCookie(t, b.URL(), onA.sessionCookie())
	if status, _ := kept.get("/account"); status != 200 {
		t.Fatalf("the session on b before disabling: %d", status)
	}
	if status, _, _ := admin.postForm("/admin/users/lea/disable", url.Values{"csrf_token": {csrf}, "disabled": {"true"}, "confirmed": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("disabling: %d", status)
	}
	if status, _, _ := kept.do("GET", "/account", nil); status != http.StatusSeeOther {
		t.Errorf("lea's session on b after she was disabled: %d, want signed out", status)
	}
}

func mustCLI(t *testing.T, dbURL string, args ...string) string {
	t.Helper()
	out, err := cli(t, dbURL, args...)
	if err != nil {
		t.Fatalf("hansewiki %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// withCookie is a browser on base that carries the session cookie value.
func withCookie(t *testing.T, base, session string) *client {
	c := newClient(t, base)
	u, _ := url.Parse(base)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "hansewiki_session", Value: session, Path: "/"}})
	return c
}
