package wiki

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Barrier makes a request's writes hold on every instance before the
// request answers. Instances keep caches of shared state (pages, sessions,
// identities, personal chrome); every write that can make an entry stale
// sends a notification in its transaction (see migration 0011), and each
// instance drops the entry when it hears it. A request that wrote then
// sends a fence (Fence) and waits (Wait) until every live instance has
// heard a fence at least as new (Ack): notifications reach a listener in
// commit order, so by then every instance has dropped what the request
// made stale, and the next request anywhere sees the change — a sign-out,
// a revoked role, a narrowed article.
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

// FenceChannel carries fences; the payload is the fence's number.
const FenceChannel = "hansewiki_fence"

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
// still alive. A new row has acked nothing (0): writing requests elsewhere
// wait for this instance until its listener has heard them. Call it before
// serving, so no write misses an instance that serves.
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

// Ack records that this instance heard the fence in payload (the fence
// channel's subscriber calls it). Notifications are delivered in commit
// order and handled one after another, so every notification committed
// before the fence has been handled by now. After a reconnect (payload
// AnyChange) there is nothing to record: the next fence heard is.
func (b *Barrier) Ack(ctx context.Context, payload string) error {
	if payload == AnyChange {
		return nil
	}
	fence, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return nil // not ours; nothing waits for it
	}
	// Only Run inserts the row: an ack racing a shutdown's deregistration
	// must not bring it back. An ack before the first heartbeat is lost,
	// which only makes a waiting request wait for this instance's next ack.
	_, err = b.pool.Exec(ctx, `UPDATE instances SET acked = greatest(acked, $2) WHERE id = $1`, b.id, fence)
	return err
}

// Fence sends a fence after everything the caller committed so far, and
// returns its number for Wait. It is its own statement: the caller's
// transactions have committed, their notifications are queued before it.
func Fence(ctx context.Context, db Querier) (int64, error) {
	var fence int64
	err := db.QueryRow(ctx, `SELECT f.n FROM (SELECT nextval('cache_fence') AS n) f, LATERAL pg_notify($1, f.n::text)`,
		FenceChannel).Scan(&fence)
	return fence, err
}

// Sync sends a fence and waits for it: what the caller wrote holds on every
// instance afterwards. Failing to send is logged, not returned: the writes
// have committed, and the instances still hear them a moment later.
func (b *Barrier) Sync(ctx context.Context) {
	fence, err := Fence(ctx, b.pool)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("could not send a fence; other instances see this request's changes when their notifications arrive", "err", err)
		}
		return
	}
	b.Wait(ctx, fence)
}

// Wait holds a request until every instance alive within AliveWithin,
// this one included, has acked fence. With one instance it costs the round
// trip of a notification through this instance's own listener.
//
// It gives up after Bound, logs and lets the request answer: an instance
// that does not ack within seconds has lost its listener or its database
// (its /readyz says not ready, so the load balancer stops sending it
// readers), or died without deregistering (its heartbeat ages out within
// AliveWithin). Holding every write for it would stop the wiki without
// protecting anyone.
func (b *Barrier) Wait(ctx context.Context, fence int64) {
	start := time.Now()
	for {
		rows, _ := b.pool.Query(ctx, `SELECT id FROM instances
			WHERE acked < $1 AND alive_at > now() - $2 * interval '1 millisecond'`,
			fence, b.AliveWithin.Milliseconds())
		behind, err := pgx.CollectRows(rows, pgx.RowTo[string])
		switch {
		case err == nil && len(behind) == 0:
			return
		case ctx.Err() != nil:
			return
		case time.Since(start) >= b.Bound:
			b.log.Warn("a request answers before every instance confirmed it heard its changes",
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
