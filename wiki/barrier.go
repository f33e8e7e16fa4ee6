package wiki

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Barrier makes a change that narrows who may read an article take effect
// on every instance before the request that made it answers. Each instance
// flushes its page cache when the publication's notification reaches it and
// then acks the narrowing generation (Ack); the narrowing request waits
// until every live instance has acked (Wait). Widening changes and new
// content do not wait: being stale for a few milliseconds shows nothing a
// reader may not see.
type Barrier struct {
	pool *pgxpool.Pool
	id   string
	log  *slog.Logger

	// HeartbeatEvery is how often the instance says it is alive; an
	// instance silent for AliveWithin no longer holds requests. Bound is
	// the longest a request waits, PollEvery how often it looks. Set them
	// before Run.
	HeartbeatEvery, AliveWithin, Bound, PollEvery time.Duration
}

// NewBarrier prepares this process's entry in the instances table.
func NewBarrier(pool *pgxpool.Pool, log *slog.Logger) *Barrier {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	suffix := make([]byte, 6)
	rand.Read(suffix)
	return &Barrier{pool: pool, id: host + "-" + hex.EncodeToString(suffix), log: log,
		HeartbeatEvery: 5 * time.Second, AliveWithin: 15 * time.Second, Bound: 2 * time.Second, PollEvery: 3 * time.Millisecond}
}

// ID names this instance in the instances table.
func (b *Barrier) ID() string { return b.id }

// Register enters the instance in the instances table, or says it is
// still alive. A new row has acked nothing (0): narrowing requests elsewhere
// wait for this instance until its listener has heard them. Call it before
// serving, so no narrowing misses an instance that serves.
func (b *Barrier) Register(ctx context.Context) error {
	// Rows of instances gone for a day are only clutter.
	_, err := b.pool.Exec(ctx, `WITH gone AS (DELETE FROM instances WHERE alive_at < now() - interval '1 day')
		INSERT INTO instances (id, acked) VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET alive_at = now()`, b.id)
	return err
}

// Run refreshes the instance's heartbeat until ctx ends and then removes
// it, so a cleanly stopped instance holds nobody.
func (b *Barrier) Run(ctx context.Context) {
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if _, err := b.pool.Exec(dctx, `DELETE FROM instances WHERE id = $1`, b.id); err != nil {
			b.log.Warn("could not deregister this instance; others stop waiting for it once its heartbeat is old", "err", err)
		}
	}()
	tick := time.NewTicker(b.HeartbeatEvery)
	defer tick.Stop()
	for {
		if err := b.Register(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("instance heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Ack is what the instance does when a publication's notification (or the
// listener's resynchronisation) arrives: it reads the narrowing generation,
// flushes, and then records that its cache is in step with that generation.
// Reading before flushing matters: every narrowing up to the generation read
// had committed by then, so the flush dropped every page that shows it.
func (b *Barrier) Ack(ctx context.Context, flush func()) error {
	var gen int64
	err := b.pool.QueryRow(ctx, `SELECT generation FROM narrowing_generation`).Scan(&gen)
	flush()
	if err != nil {
		return err // the listener reconnects, and acks after it resynchronised
	}
	// Only Run inserts the row: an ack racing a shutdown's deregistration
	// must not bring it back. An ack before the first heartbeat is lost,
	// which only makes the next narrowing wait for this instance's next ack.
	_, err = b.pool.Exec(ctx, `UPDATE instances SET acked = greatest(acked, $2) WHERE id = $1`, b.id, gen)
	return err
}

// Wait holds a request that narrowed, after it committed and flushed this
// instance's cache, until every other instance alive within AliveWithin has
// acked the current generation. With one instance it costs one query.
//
// It gives up after Bound, logs and lets the request answer: an instance
// that does not ack within seconds has lost its listener or its database
// (its /readyz says not ready, so the load balancer stops sending it
// readers), or died without deregistering (its heartbeat ages out within
// AliveWithin). Holding every approval for it would stop the wiki without
// protecting anyone.
func (b *Barrier) Wait(ctx context.Context) {
	start := time.Now()
	for {
		rows, _ := b.pool.Query(ctx, `SELECT i.id FROM instances i, narrowing_generation g
			WHERE i.id <> $1 AND i.acked < g.generation AND i.alive_at > now() - $2 * interval '1 millisecond'`,
			b.id, b.AliveWithin.Milliseconds())
		behind, err := pgx.CollectRows(rows, pgx.RowTo[string])
		switch {
		case err == nil && len(behind) == 0:
			return
		case ctx.Err() != nil:
			return
		case time.Since(start) >= b.Bound:
			b.log.Warn("a narrowing answers before every instance confirmed it dropped its cached pages",
				"behind", behind, "err", err, "waited", time.Since(start))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.PollEvery):
		}
	}
}
