package auth

import (
	"context"
	"log/slog"
	"time"
)

// SessionCleanupInterval is how often serve deletes expired sessions.
const SessionCleanupInterval = 10 * time.Minute

// DeleteExpired deletes the sessions that have expired and reports how many.
func (s *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < current_timestamp`)
	return tag.RowsAffected(), err
}

// RunCleanup deletes expired sessions every interval until ctx ends. A
// failure (the database restarting) is logged and retried next time.
func (s *Sessions) RunCleanup(ctx context.Context, interval time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if _, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			log.Warn("deleting expired sessions", "err", err)
		}
	}
}
