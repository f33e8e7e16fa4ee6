package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
)

// Reading pages signed in, or the API with a token, writes nothing to the
// database on every request: the session's last use and the token's are
// recorded at most once a minute. The rows' xmin (the transaction that last
// wrote them) shows whether a request wrote.
func TestReadRequestsDoNotWriteSessionsOrTokens(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if _, err := cli(t, dbURL, "import", writeCorpus(t, visibilityCorpus)); err != nil {
		t.Fatal(err)
	}
	addUser(t, dbURL, "lea", [2]string{"author", "wismar"})
	m := startServer(t, dbURL)
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	xmins := func() (session, tokens string) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT coalesce((SELECT string_agg(xmin::text, ',' ORDER BY token) FROM sessions), ''),
			coalesce((SELECT string_agg(xmin::text, ',' ORDER BY id) FROM api_tokens), '')`).Scan(&session, &tokens); err != nil {
			t.Fatal(err)
		}
		return session, tokens
	}

	c := newClient(t, m.URL())
	c.login("lea", testPassword)
	token := apiToken(t, m.URL(), "lea")
	read := func() {
		t.Helper()
		for _, p := range []string{"/", "/c/wismar", "/account", "/changes"} {
			if status, _ := c.get(p); status != http.StatusOK {
				t.Fatalf("GET %s: %d", p, status)
			}
		}
		req, _ := http.NewRequest("GET", m.URL()+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/me with a token: %d", resp.StatusCode)
		}
	}
	read() // the first use may record itself
	sessions, tokens := xmins()
	for range 3 {
		read()
	}
	if s, tk := xmins(); s != sessions || tk != tokens {
		t.Errorf("read requests wrote: sessions xmin %s → %s, tokens xmin %s → %s", sessions, s, tokens, tk)
	}
	// A minute later the use is recorded again, and the session still works.
	m.Auth.Skew(2 * time.Minute)
	_, tokens = xmins()
	read()
	if _, tk := xmins(); tk == tokens {
		t.Error("a use after a minute was not recorded")
	}
	if status, body := c.get("/account"); status != http.StatusOK || !strings.Contains(body, "lea") {
		t.Errorf("session after the reads: %d", status)
	}
}
