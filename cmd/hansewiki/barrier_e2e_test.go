package main

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

// Every anonymous page and feed that lists the fault tests' public article.
var anonPages = []string{faultArticle, "/c/rostock", "/", "/feed.atom", "/c/rostock/feed.atom"}

const narrowedTitle = "Starkregen-Hinweiskarte"

// narrowArticle gives the article visibility vis through a's JSON API:
// the author proposes, the reviewer approves. It returns once the approval
// answered.
func narrowArticle(t *testing.T, a *Main, vis string) {
	t.Helper()
	publishThroughAPI(t, a, "", vis, "Sichtbarkeit: "+vis)
}

// Right after an approval that narrowed an article answers, no other
// instance serves a cached page or feed that shows it, even when the
// notification reaches that instance late. Instance b's listener is held
// back on purpose; without the barrier its cache answers stale every time.
func TestNarrowingApprovalWaitsForEveryInstance(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	faultSetup(t, dbURL)
	a := startServer(t, dbURL)
	b := openServer(t, dbURL, nil)
	// Subscribed before serve, so it runs before b's own subscribers.
	var slow atomic.Bool
	b.Changes.Subscribe(wiki.PublishedChannel, func(_ context.Context, payload string) error {
		if slow.Load() && payload != wiki.AnyChange {
			time.Sleep(300 * time.Millisecond)
		}
		return nil
	})
	serve(t, b)

	var registered int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM instances WHERE id IN ($1, $2)`,
		a.Barrier.ID(), b.Barrier.ID()).Scan(&registered); err != nil || registered != 2 {
		t.Fatalf("both instances must be registered once they serve: %d %v", registered, err)
	}
	for _, p := range anonPages {
		get(t, b.URL()+p)
		if status, body := get(t, b.URL()+p); status != 200 || !strings.Contains(body, narrowedTitle) {
			t.Fatalf("GET %s on b before: %d, the public article is not listed", p, status)
		}
	}
	slow.Store(true)
	narrowArticle(t, a, "network")
	for _, p := range anonPages {
		if _, body := get(t, b.URL()+p); strings.Contains(body, narrowedTitle) {
			t.Errorf("GET %s on b right after the approval answered still shows the now network-only article", p)
		}
	}
}

// An instance that died without deregistering holds a writing request
// at most for the barrier's bound, and not at all once its heartbeat is
// older than the alive window.
func TestDeadInstanceDoesNotHoldApprovals(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	faultSetup(t, dbURL)
	var logs syncBuffer
	a := openServer(t, dbURL, slog.New(slog.NewTextHandler(&logs, nil)))
	a.Barrier.Bound = 300 * time.Millisecond
	serve(t, a)
	const warning = "a request answers before every instance confirmed"
	ctx := context.Background()
	// waitedFor counts the warnings that name instance id as behind. Only
	// those count: on a loaded machine this instance's own ack may take
	// longer than the short bound set here, and that is not what is tested.
	waitedFor := func(id string) (n int) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, warning) && strings.Contains(line, id) {
				n++
			}
		}
		return n
	}

	// Died a minute ago: outside the alive window, nobody waits for it.
	if _, err := a.Pool.Exec(ctx, `INSERT INTO instances (id, acked, alive_at) VALUES ('vor-einer-minute', 0, now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	narrowArticle(t, a, "network")
	if waitedFor("vor-einer-minute") > 0 {
		t.Fatalf("the approval waited for an instance whose heartbeat is a minute old:\n%s", logs.String())
	}

	// Died a moment ago, still inside the alive window: the approval waits
	// for the bound, answers, and says for whom it waited.
	if _, err := a.Pool.Exec(ctx, `INSERT INTO instances (id, acked, alive_at) VALUES ('gerade-eben', 0, now())`); err != nil {
		t.Fatal(err)
	}
	narrowArticle(t, a, "city")
	if log := logs.String(); waitedFor("gerade-eben") == 0 {
		t.Fatalf("the approval must answer after the bound and name the silent instance:\n%s", log)
	}
	// Once its heartbeat is older than the alive window, nobody waits.
	if _, err := a.Pool.Exec(ctx, `UPDATE instances SET alive_at = now() - interval '1 minute' WHERE id = 'gerade-eben'`); err != nil {
		t.Fatal(err)
	}
	before := waitedFor("gerade-eben")
	narrowArticle(t, a, "public")
	if n := waitedFor("gerade-eben"); n != before {
		t.Fatalf("a request waited for an instance whose heartbeat aged out (%d more warnings)", n-before)
	}
}
