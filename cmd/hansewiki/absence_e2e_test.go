package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// A role granted with --until holds through its last day and ends when
// `jobs run --as-of` passes that day: audited, and at once on every
// instance (the person can no longer review or edit over HTTP there), not
// before.
func TestRoleGrantedUntilADateEndsWithThePeriodicWork(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, map[string]string{
		"rostock/warnow-pegel.md": "---\ntitle: Warnow-Pegel\ntopics: [wasser-umwelt]\nvisibility: public\n---\nVersion 1\n"})); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "befristet")
	last := auth.Day(time.Now()).AddDate(0, 1, 0)
	lastText := last.Format(time.DateOnly)
	out, err := cli(t, dbURL, "role", "grant", "befristet", "reviewer", "rostock", "--until", lastText)
	if err != nil || !strings.Contains(out, "until "+lastText) {
		t.Fatalf("role grant --until: %v\n%s", err, out)
	}
	if out, err := cli(t, dbURL, "role", "grant", "befristet", "author", "rostock", "--until="+lastText); err != nil {
		t.Fatalf("role grant --until=: %v\n%s", err, out)
	}
	if out, err := cli(t, dbURL, "role", "grant", "befristet", "author", "wismar", "--until", "2001-01-01"); err == nil {
		t.Errorf("a role ending in the past was granted: %s", out)
	}
	if out, err := cli(t, dbURL, "role", "grant", "befristet", "author", "wismar", "--until", "31.03.2027"); err == nil {
		t.Errorf("a role ending on no date was granted: %s", out)
	}
	if roles := rolesOf(t, dbURL, "befristet"); !regexp.MustCompile(`befristet\s+reviewer\s+rostock\s+`+lastText).MatchString(roles) ||
		!regexp.MustCompile(`UNTIL`).MatchString(roles) || strings.Contains(roles, "wismar") {
		t.Fatalf("role list shows no end date:\n%s", roles)
	}
	if roles := rolesOf(t, dbURL, "autorin"); !regexp.MustCompile(`autorin\s+author\s+rostock\s+-`).MatchString(roles) {
		t.Errorf("a role without an end:\n%s", roles)
	}

	// Two instances; the person works on both.
	m1, m2 := startServer(t, dbURL), startServer(t, dbURL)
	as := func(m *Main, user string) *client {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), user)
		return c
	}
	author, rev1, rev2 := as(m1, "autorin"), as(m1, "befristet"), as(m2, "befristet")
	web2 := newClient(t, m2.URL())
	web2.login("befristet", testPassword)
	var art struct{ Revision int64 }
	getJSON(t, m1.URL()+"/api/v1/articles/rostock/warnow-pegel", &art)
	propose := func(text string) changeJSON {
		return author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "warnow-pegel", "title": "Warnow-Pegel",
			"body": text, "visibility": "public", "base_revision": art.Revision, "submit": true}, 201)
	}
	c1, c2 := propose("Version 2"), propose("Version 3")
	jobs := func(asOf time.Time) string {
		t.Helper()
		out, err := cli(t, dbURL, "jobs", "run", "--as-of", asOf.Format(time.RFC3339))
		if err != nil {
			t.Fatalf("jobs run: %v\n%s", err, out)
		}
		return out
	}

	// The last day, late in the evening: the role still holds.
	if out := jobs(time.Date(last.Year(), last.Month(), last.Day(), 23, 30, 0, 0, auth.Berlin)); !regexp.MustCompile(`roles\.end\s+0 done`).MatchString(out) {
		t.Fatalf("on the last day: %s", out)
	}
	if status, body := rev1.act(c1.ID, "request-changes", "Bitte Quelle nennen"); status != http.StatusOK {
		t.Fatalf("reviewing on the last day: %d %s", status, body)
	}
	if status, _ := web2.get("/c/rostock/warnow-pegel/edit"); status != http.StatusOK {
		t.Fatalf("the editor on the last day: %d", status)
	}

	// Just after midnight the job ends both roles; every instance knows
	// when the command returns.
	after := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 30, 0, auth.Berlin)
	if out := jobs(after); !regexp.MustCompile(`roles\.end\s+2 done`).MatchString(out) {
		t.Fatalf("after the last day: %s", out)
	}
	// A change under review is shown only to its author and the city's
	// reviewers: to the former reviewer it is not there any more.
	if status, body := rev2.act(c2.ID, "request-changes", "zu spät"); status != http.StatusNotFound {
		t.Errorf("reviewing on the other instance after the end: %d %s", status, body)
	}
	if status, body := rev1.act(c2.ID, "approve", ""); status != http.StatusNotFound {
		t.Errorf("approving after the end: %d %s", status, body)
	}
	if status, _ := web2.get("/c/rostock/warnow-pegel/edit"); status != http.StatusForbidden {
		t.Errorf("the editor after the end: %d", status)
	}
	if status, body := rev2.sendJSON("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Neu", "body": "x", "visibility": "public"}); status != http.StatusForbidden {
		t.Errorf("creating an article after the end: %d %s", status, body)
	}
	var me struct{ Roles []struct{ Role, City string } }
	if status := getJSONAuth(t, rev2, "/api/v1/me", &me); status != http.StatusOK || len(me.Roles) != 0 {
		t.Errorf("/api/v1/me on the other instance: %d %+v", status, me.Roles)
	}
	if roles := rolesOf(t, dbURL, "befristet"); strings.Contains(roles, "rostock") {
		t.Errorf("the roles are still listed:\n%s", roles)
	}

	// Audited, once: running again for the same moment ends nothing.
	if out := jobs(after); !regexp.MustCompile(`roles\.end\s+0 done`).MatchString(out) {
		t.Errorf("a second run: %s", out)
	}
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var events int
	var untils string
	if err := conn.QueryRow(context.Background(), `SELECT count(*), string_agg(DISTINCT detail->>'until', ',') FROM audit_events
		WHERE action = 'role.end' AND object = 'user:befristet' AND actor = $1`, auth.RoleEndActor).Scan(&events, &untils); err != nil {
		t.Fatal(err)
	}
	if events != 2 || untils != lastText {
		t.Errorf("audited %d role ends (until %s), want 2 (until %s)", events, untils, lastText)
	}
}

// getJSONAuth GETs path as the client and decodes the answer.
func getJSONAuth(t *testing.T, c *client, path string, v any) int {
	t.Helper()
	status, body, _ := c.do("GET", path, nil)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return status
}
