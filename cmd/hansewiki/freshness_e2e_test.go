package main

import (
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

// A confirmation made through one instance shows on the pages another
// instance had cached, as soon as it answered: the write announces itself
// like a publication and waits for every instance (wiki.Barrier).
func TestConfirmationReachesEveryInstance(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	addUser(t, dbURL, "stadtadmin", [2]string{"admin", "rostock"})
	a := startServer(t, dbURL)
	b := startServer(t, dbURL)
	const article = "/c/rostock/pegelsensoren-an-der-warnow"
	for range 2 { // the second answer comes from b's cache
		if status, body := get(t, b.URL()+article); status != 200 || strings.Contains(body, "geprüft am") {
			t.Fatalf("b before: %d, already checked: %v", status, strings.Contains(body, "geprüft am"))
		}
	}
	c := newClient(t, a.URL())
	c.token = apiToken(t, a.URL(), "stadtadmin")
	if status, body := c.sendJSON("POST", "/api/v1/articles/rostock/pegelsensoren-an-der-warnow/confirm", map[string]any{}); status != 200 {
		t.Fatalf("confirming on a: %d %s", status, body)
	}
	if _, body := get(t, b.URL()+article); !strings.Contains(body, "geprüft am") {
		t.Error("b still serves the page from before the confirmation")
	}
	// An author of the city (not owner, deputy or admin) is refused.
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	c.token = apiToken(t, a.URL(), "autorin")
	if status, _ := c.sendJSON("POST", "/api/v1/articles/rostock/pegelsensoren-an-der-warnow/confirm", nil); status != 403 {
		t.Errorf("an author confirms: %d, want 403", status)
	}
}
