package wiki_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
)

// startListener runs l until the test ends and waits for its first connect.
func startListener(t *testing.T, l *wiki.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := l.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-l.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never connected")
	}
}

func quickListener(pool *pgxpool.Pool) *wiki.Listener {
	l := wiki.NewListener(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.MinBackoff, l.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	// Quiet periods end in a ping far more often than in production, so
	// the tests cross that path too.
	l.PingEvery = 30 * time.Millisecond
	return l
}

// recorder is a subscriber that remembers what it heard.
func recorder() (chan string, wiki.Handler) {
	ch := make(chan string, 100)
	return ch, func(_ context.Context, payload string) error { ch <- payload; return nil }
}

// expect waits for want on ch, skipping other payloads.
func expect(t *testing.T, ch chan string, want, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("%s: never heard %q", what, want)
		}
	}
}

// listenPID is the backend of the listener's connection.
func listenPID(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var pid int
	err := pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, wiki.ListenerApp).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// dropListenConnections ends the listener's backend the way a failover or an
// administrator would, and reports how many it ended.
func dropListenConnections(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	err := pool.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1) t`, wiki.ListenerApp).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The one LISTEN connection of a process loses its backend again and again:
// the process survives, each subscriber hears "anything changed" after
// every reconnect and keeps hearing publications, only on its own channel.
func TestListenerSurvivesDroppedConnections(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	s := wiki.NewStore(pool, markdown.New())
	l := quickListener(pool)
	cache, cacheFn := recorder()
	worker, workerFn := recorder()
	policy, policyFn := recorder()
	l.Subscribe(wiki.PublishedChannel, cacheFn)
	l.Subscribe(wiki.PublishedChannel, workerFn)
	l.Subscribe("hansewiki_test_policy", policyFn)
	if l.Ready() == nil {
		t.Fatal("ready before it ever connected")
	}
	startListener(t, l)
	if err := l.Ready(); err != nil {
		t.Fatalf("not ready after connecting: %v", err)
	}
	for _, ch := range []chan string{cache, worker, policy} {
		expect(t, ch, wiki.AnyChange, "first connect")
	}
	// Quiet periods (each ends in a ping) keep the connection.
	pid := listenPID(t, pool)
	time.Sleep(10 * l.PingEvery)
	mustImport(t, s, item("luebeck", "Ruhe", "Text", wiki.Public))
	expect(t, cache, "luebeck/ruhe", "publication after a quiet period")
	if got := listenPID(t, pool); got != pid || len(policy) > 0 {
		t.Fatalf("the listener reconnected while the connection was fine (backend %d, then %d)", pid, got)
	}
	for i := range 5 {
		if n := dropListenConnections(t, pool); n != 1 {
			t.Fatalf("round %d: %d listen connections, want exactly one per process", i, n)
		}
		for _, ch := range []chan string{cache, worker, policy} {
			expect(t, ch, wiki.AnyChange, "resync after a dropped connection")
		}
		title := "Quartiersbus " + string(rune('A'+i))
		mustImport(t, s, item("luebeck", title, "Text", wiki.Public))
		key := "luebeck/" + strings.ToLower(strings.ReplaceAll(title, " ", "-"))
		expect(t, cache, key, "publication after reconnecting")
		expect(t, worker, key, "publication after reconnecting")
	}
	select {
	case got := <-policy:
		t.Fatalf("the policy subscriber heard %q from another channel", got)
	default:
	}
}

// While the listener cannot reconnect it says so; once it can, it is ready
// again and its subscribers hear "anything changed", which covers what was
// published while nobody listened.
func TestListenerReportsNotReadyUntilItReconnects(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	s := wiki.NewStore(pool, markdown.New())
	ctx := context.Background()
	var db string
	if err := pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	l := quickListener(pool)
	heard, fn := recorder()
	l.Subscribe(wiki.PublishedChannel, fn)
	startListener(t, l)
	expect(t, heard, wiki.AnyChange, "first connect")

	// A database may not lock itself out: ask from the maintenance one.
	admCfg := pool.Config().ConnConfig.Copy()
	admCfg.Database = "postgres"
	adm, err := pgx.ConnectConfig(ctx, admCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.Close(context.Background()) })
	allow := func(ok bool) {
		t.Helper()
		if _, err := adm.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` WITH ALLOW_CONNECTIONS `+map[bool]string{true: "true", false: "false"}[ok]); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	dropListenConnections(t, pool)
	deadline := time.Now().Add(10 * time.Second)
	for l.Ready() == nil {
		if time.Now().After(deadline) {
			t.Fatal("still ready without a connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Published while the listener is away: its notification is lost.
	mustImport(t, s, item("luebeck", "Verpasst", "Text", wiki.Public))
	for len(heard) > 0 {
		<-heard
	}
	allow(true)
	expect(t, heard, wiki.AnyChange, "resync after reconnecting")
	// Ready follows once every subscriber has heard AnyChange: a moment
	// after this one did.
	deadline = time.Now().Add(5 * time.Second)
	for err := l.Ready(); err != nil; err = l.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after reconnecting: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A subscriber that fails (or panics) does not lose the notification: the
// listener reconnects and everyone hears "anything changed" again.
func TestListenerResyncsAfterAFailingSubscriber(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	s := wiki.NewStore(pool, markdown.New())
	l := quickListener(pool)
	heard, fn := recorder()
	var calls atomic.Int32
	l.Subscribe(wiki.PublishedChannel, func(_ context.Context, payload string) error {
		switch calls.Add(1) {
		case 2:
			return errors.New("the database went away")
		case 4:
			panic("a bug in a subscriber")
		}
		return nil
	})
	l.Subscribe(wiki.PublishedChannel, fn)
	startListener(t, l)
	expect(t, heard, wiki.AnyChange, "first connect")              // call 1
	mustImport(t, s, item("luebeck", "Eins", "Text", wiki.Public)) // call 2 fails
	expect(t, heard, wiki.AnyChange, "resync after an error")      // call 3
	mustImport(t, s, item("luebeck", "Zwei", "Text", wiki.Public)) // call 4 panics
	expect(t, heard, wiki.AnyChange, "resync after a panic")       // call 5
	mustImport(t, s, item("luebeck", "Drei", "Text", wiki.Public))
	expect(t, heard, "luebeck/drei", "publication afterwards")
}
