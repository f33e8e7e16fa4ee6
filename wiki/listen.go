package wiki

import (
	"context"
	"log/slog"
	"time"
)

// ListenPublications calls fn with "city/slug" for every publication on any
// instance, until ctx ends. After a lost connection it reconnects and calls
// fn("") once, because notifications may have been missed meanwhile: ""
// means "anything may have changed".
func (s *Store) ListenPublications(ctx context.Context, log *slog.Logger, ready func(), fn func(key string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, ready, fn)
		if ctx.Err() != nil {
			return
		}
		log.Warn("publication listener lost its connection", "err", err, "retry_in", backoff)
		fn("")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, ready func(), fn func(string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTEN connection must not go back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+PublishedChannel); err != nil {
		return err
	}
	if ready != nil {
		ready()
		ready = nil
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
