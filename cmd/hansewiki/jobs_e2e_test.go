package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
)

// Two serving instances and a cron `jobs run` do the same periodic work as
// of the same moment at once: every reminder and escalation is sent
// exactly once, and the CLI reports what it did.
func TestPeriodicWorkExactlyOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	addUser(t, dbURL, "pruefer1", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "pruefer2", [2]string{"reviewer", "rostock"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	a, b := startServer(t, dbURL), startServer(t, dbURL)
	author := newClient(t, a.URL())
	author.token = apiToken(t, a.URL(), "autorin")
	for _, title := range []string{"Gründächer in Rostock", "Regenwasser in Rostock"} {
		author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": title,
			"body": "Text für " + title, "visibility": "public", "topics": []string{"klimaresilienz"}, "submit": true}, 201)
	}
	ctx := context.Background()
	// Each step of the deadline (5 days): half time, overdue, escalated.
	for _, asOf := range []time.Time{time.Now().Add(3 * 24 * time.Hour), time.Now().Add(5*24*time.Hour + time.Hour), time.Now().Add(6*24*time.Hour + 2*time.Hour)} {
		var wg sync.WaitGroup
		var cliOut bytes.Buffer
		for _, m := range []*Main{a, b} {
			wg.Go(func() {
				if _, err := m.Workflow.RunJobs(ctx, asOf, true); err != nil {
					t.Errorf("instance: %v", err)
				}
			})
		}
		wg.Go(func() {
			if err := run(ctx, []string{"jobs", "run", "--as-of", asOf.Format(time.RFC3339)}, strings.NewReader(""), &cliOut, &cliOut,
				env("DATABASE_URL", dbURL)); err != nil {
				t.Errorf("jobs run: %v\n%s", err, cliOut.String())
			}
		})
		wg.Wait()
		for _, job := range []string{"roles.end", "review_deadlines", "webhooks"} {
			if !strings.Contains(cliOut.String(), job) {
				t.Errorf("the CLI's report lacks %s:\n%s", job, cliOut.String())
			}
		}
	}
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	want := map[string]int{
		"pruefer1 change.reminder": 2, "pruefer2 change.reminder": 2, "admin-hro change.reminder": 2,
		"admin-hro change.overdue": 2, "koordination change.escalated": 2,
	}
	rows, err := conn.Query(ctx, `SELECT u.username || ' ' || n.kind, count(*) FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.kind IN ('change.reminder', 'change.overdue', 'change.escalated') GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		got[k] = n
	}
	rows.Close()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d notifications, want %d (one per change); all: %v", k, got[k], n, got)
		}
	}
	if got["autorin change.reminder"] != 0 {
		t.Errorf("the author was reminded: %v", got)
	}
}

// A time that is not RFC 3339 is refused with an example, before anything runs.
func TestJobsRunRefusesABadTime(t *testing.T) {
	t.Parallel()
	out, err := cli(t, pgtest.URL(t), "jobs", "run", "--as-of", "morgen")
	if err == nil || !strings.Contains(err.Error(), "RFC 3339") || !strings.Contains(err.Error(), "2027-03-31T08:00:00+02:00") {
		t.Fatalf("jobs run --as-of morgen: %v\n%s", err, out)
	}
	if _, err := cli(t, pgtest.URL(t), "jobs"); err == nil || !strings.Contains(err.Error(), "usage: hansewiki jobs run") {
		t.Fatalf("jobs without run: %v", err)
	}
}
