package auth_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// Expired sessions are deleted by serve's cleanup, which keeps running
// when the database is briefly away and stops with its context.
func TestExpiredSessionsAreDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := auth.NewSessions(pool, false)
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES
		('abgelaufen', '\x00', now() - interval '1 minute'), ('gueltig', '\x00', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		s.RunCleanup(runCtx, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, _ := pool.Query(ctx, `SELECT token FROM sessions ORDER BY token`)
		tokens, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(tokens) == 1 && tokens[0] == "gueltig" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions left: %v", tokens)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done // RunCleanup returns once its context ends
}
