package search

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Worker drains search_outbox in two steps. Publishing queues a row in the
// same transaction (a trigger, migration 0005); the worker first refreshes
// the article's PostgreSQL search row (Refresh) and then, with Meilisearch,
// sends the refreshed state and deletes the row only after Meilisearch
// confirmed. Refreshing runs under one lock across instances; sending claims
// rows with FOR UPDATE SKIP LOCKED, so instances share the work, and locks
// each article for the transaction, so two workers never send the same
// article and an older state cannot overtake a newer one.
type Worker struct {
	svc        *Service
	pool       *pgxpool.Pool
	log        *slog.Logger
	batch      int
	poll       time.Duration
	maxBackoff time.Duration
	wake       chan struct{}

	settingsMu sync.Mutex
	settingsOK bool

	// testHook, when set, runs at named points of a batch ("indexed":
	// Meilisearch confirmed, the rows are not deleted yet); tests crash
	// the worker there.
	testHook func(stage string)

	lagMu   sync.Mutex
	lagAt   time.Time
	lastLag Lag
}

// articleLockClass is the first key of the per-article advisory locks.
const articleLockClass = 0x5358 // "SX"

// refreshLock is the advisory lock of the one transaction, across all
// instances, that refreshes PostgreSQL search rows. One refresher at a time
// cannot deadlock on the word list and facet sets two batches share, and a
// refresh is cheap enough (milliseconds per article) not to need sharing.
const refreshLock = 0x68616e7365_5246 // "hanse" "RF"

func newWorker(s *Service, cfg Config) *Worker {
	w := &Worker{svc: s, pool: cfg.Store.Pool(), log: cfg.Log,
		batch: cfg.BatchSize, poll: cfg.PollInterval, maxBackoff: cfg.MaxBackoff,
		wake: make(chan struct{}, 1), settingsOK: s.meili != nil && !s.behind.Load()}
	if w.batch <= 0 {
		w.batch = 200
	}
	if w.poll <= 0 {
		w.poll = 2 * time.Second
	}
	if w.maxBackoff <= 0 {
		w.maxBackoff = 5 * time.Minute
	}
	return w
}

// Wake makes a running worker look at the outbox now. The process's
// listener calls it for every publication (wiki.PublishedChannel) and after
// it reconnected.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	ticker := time.NewTicker(w.poll)
	defer ticker.Stop()
	for {
		w.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-ticker.C:
		}
	}
}

// round is one pass of the worker: refresh the PostgreSQL search rows,
// recover from a Meilisearch outage if there was one, then send what is due.
func (w *Worker) round(ctx context.Context) {
	// PostgreSQL search first, whatever state Meilisearch is in: it answers
	// while Meilisearch is down.
	if _, err := w.Refresh(ctx, nil); err != nil && ctx.Err() == nil {
		w.log.Warn("search refresh", "err", err)
	}
	m := w.svc.meili
	recovering := m != nil && w.svc.behind.Load()
	if recovering {
		if !m.Healthy(ctx) {
			return
		}
		// Back: retry what failed during the outage now, not after its
		// backoff, so search returns to Meilisearch soon.
		if _, err := w.pool.Exec(ctx, `UPDATE search_outbox SET next_attempt_at = now() WHERE attempts > 0`); err != nil {
			w.log.Warn("search outbox", "err", err)
			return
		}
	}
	if err := w.ensureSettings(ctx); err != nil {
		w.log.Warn("meilisearch settings", "err", err)
		return
	}
	if _, err := w.sendDue(ctx); err != nil {
		if ctx.Err() == nil {
			w.log.Warn("search outbox", "err", err)
		}
		return
	}
	if recovering {
		w.svc.behind.Store(false)
		w.log.Info("meilisearch caught up; searching with it again")
	}
}

// ensureSettings applies the index settings once Meilisearch is reachable,
// if start-up could not.
func (w *Worker) ensureSettings(ctx context.Context) error {
	if w.svc.meili == nil {
		return nil
	}
	w.settingsMu.Lock()
	defer w.settingsMu.Unlock()
	if w.settingsOK {
		return nil
	}
	if err := w.svc.meili.ApplySettings(ctx); err != nil {
		return err
	}
	w.settingsOK = true
	return nil
}

// Drain refreshes the PostgreSQL search rows of every queued article and
// sends what is due to Meilisearch, in batches, until nothing is left. It
// returns how many outbox rows it finished: refreshed without Meilisearch,
// sent with it.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	refreshed, err := w.Refresh(ctx, nil)
	if err != nil {
		return 0, err
	}
	if w.svc.meili == nil {
		// Rows a Meilisearch instance left are only deleted here.
		_, err := w.sendDue(ctx)
		return refreshed, err
	}
	return w.sendDue(ctx)
}

// sendDue sends the refreshed rows that are due to Meilisearch, in
// batches, until none is left, and returns how many rows it finished.
func (w *Worker) sendDue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := w.drainBatch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// Refresh brings the PostgreSQL search rows of all queued articles up to
// date, in batches, each in one transaction. Without Meilisearch the rows
// are done then; with it they are marked for sending. While another
// instance refreshes, Refresh returns at once: that instance is woken by
// the same notifications and takes these rows too. progress, when not nil,
// hears how many of the rows queued at the start are done.
func (w *Worker) Refresh(ctx context.Context, progress func(done, total int)) (int, error) {
	total := 0
	if progress != nil {
		if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM search_outbox WHERE NOT refreshed`).Scan(&total); err != nil {
			return 0, err
		}
		progress(0, total)
	}
	done := 0
	for {
		n, more, err := w.refreshBatch(ctx)
		done += n
		if progress != nil {
			progress(min(done, total), total)
		}
		if err != nil || !more {
			return done, err
		}
	}
}

// refreshBatch refreshes the search rows of one batch of queued articles.
// more reports whether the batch was full.
func (w *Worker) refreshBatch(ctx context.Context) (done int, more bool, err error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var free bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(refreshLock)).Scan(&free); err != nil {
		return 0, false, err
	}
	if !free {
		return 0, false, nil
	}
	rows, _ := tx.Query(ctx, `SELECT id, article_id FROM search_outbox
		WHERE NOT refreshed ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, w.batch)
	claimed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	if err != nil {
		return 0, false, fmt.Errorf("claiming outbox rows: %w", err)
	}
	if len(claimed) == 0 {
		return 0, false, nil
	}
	var ids []int64
	for _, r := range claimed {
		ids = append(ids, r.ArticleID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if _, err := tx.Exec(ctx, `SELECT search_refresh(id) FROM unnest($1::bigint[]) AS id`, ids); err != nil {
		return 0, false, fmt.Errorf("refreshing search rows: %w", err)
	}
	next := `DELETE FROM search_outbox WHERE id = ANY ($1)`
	if w.svc.meili != nil {
		next = `UPDATE search_outbox SET refreshed = true WHERE id = ANY ($1)`
	}
	if _, err := tx.Exec(ctx, next, rowIDs(claimed)); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, err
	}
	return len(claimed), len(claimed) == w.batch, nil
}

type outboxRow struct {
	ID        int64
	ArticleID int64
}

// drainBatch handles one batch in one transaction. more reports whether the
// batch was full, so more rows may be due.
func (w *Worker) drainBatch(ctx context.Context) (done int, more bool, err error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if w.svc.meili != nil {
		var free bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock_shared($1)`, int64(reindexLock)).Scan(&free); err != nil {
			return 0, false, err
		}
		if !free {
			return 0, false, nil // a reindex runs; its swap picks these rows up
		}
	}
	rows, _ := tx.Query(ctx, `SELECT id, article_id FROM search_outbox
		WHERE refreshed AND next_attempt_at <= now()
		ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, w.batch)
	claimed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	if err != nil {
		return 0, false, fmt.Errorf("claiming outbox rows: %w", err)
	}
	if len(claimed) == 0 {
		return 0, false, nil
	}
	more = len(claimed) == w.batch
	if w.svc.meili == nil {
		// Left by an instance that had Meilisearch configured: nothing to
		// send here.
		if _, err := tx.Exec(ctx, `DELETE FROM search_outbox WHERE id = ANY ($1)`, rowIDs(claimed)); err != nil {
			return 0, false, err
		}
		return len(claimed), more, tx.Commit(ctx)
	}
	// Lock each article for this transaction; articles another worker has
	// stay with it (their rows stay here until this one commits).
	var ids []int64
	for _, r := range claimed {
		if !slices.Contains(ids, r.ArticleID) {
			ids = append(ids, r.ArticleID)
		}
	}
	lrows, _ := tx.Query(ctx, `SELECT id FROM unnest($1::bigint[]) AS id
		WHERE pg_try_advisory_xact_lock($2, (id % 2147483647)::int)`, ids, articleLockClass)
	mine, err := pgx.CollectRows(lrows, pgx.RowTo[int64])
	if err != nil {
		return 0, false, err
	}
	byArticle := map[int64][]int64{}
	for _, r := range claimed {
		if slices.Contains(mine, r.ArticleID) {
			byArticle[r.ArticleID] = append(byArticle[r.ArticleID], r.ID)
		}
	}
	// Read the state after taking the locks: whatever was published
	// before is sent now, whatever comes later has a row of its own.
	failed := map[int64]error{}
	if err := w.send(ctx, tx, mine); err != nil {
		if unavailable(err) || ctx.Err() != nil || len(mine) == 1 {
			for _, id := range mine {
				failed[id] = err
			}
		} else {
			// A rejected document must not hold up the others.
			for _, id := range mine {
				if err := w.send(ctx, tx, []int64{id}); err != nil {
					failed[id] = err
				}
			}
		}
	}
	if w.testHook != nil {
		w.testHook("indexed")
	}
	var finished, retry []int64
	var lastErr error
	for id, rowIDs := range byArticle {
		if err, ok := failed[id]; ok {
			retry = append(retry, rowIDs...)
			lastErr = err
		} else {
			finished = append(finished, rowIDs...)
		}
	}
	if ctx.Err() != nil {
		return 0, false, ctx.Err()
	}
	if _, err := tx.Exec(ctx, `DELETE FROM search_outbox WHERE id = ANY ($1)`, finished); err != nil {
		return 0, false, err
	}
	if len(retry) > 0 {
		_, err := tx.Exec(ctx, `UPDATE search_outbox SET attempts = attempts + 1, last_error = $2,
			next_attempt_at = now() + make_interval(secs => least($3::float8, power(2, least(attempts, 20))))
			WHERE id = ANY ($1)`, retry, truncate(lastErr.Error(), 1000), w.maxBackoff.Seconds())
		if err != nil {
			return 0, false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, err
	}
	if lastErr != nil {
		if unavailable(lastErr) {
			w.svc.behind.Store(true)
		}
		return len(finished), false, fmt.Errorf("%d outbox row(s) failed and wait for a retry: %w", len(retry), lastErr)
	}
	return len(finished), more, nil
}

// send upserts the documents of the published ones among ids and deletes
// the others from the index.
func (w *Worker) send(ctx context.Context, tx pgx.Tx, ids []int64) error {
	docs, err := LoadDocuments(ctx, tx, ids)
	if err != nil {
		return err
	}
	var gone []int64
	for _, id := range ids {
		if !slices.ContainsFunc(docs, func(d Document) bool { return d.ID == id }) {
			gone = append(gone, id)
		}
	}
	if err := w.svc.meili.Upsert(ctx, docs); err != nil {
		return err
	}
	return w.svc.meili.Delete(ctx, gone)
}

func rowIDs(rows []outboxRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Lag is how far the index is behind publications.
type Lag struct {
	Pending int     // outbox rows not yet done
	Seconds float64 // age of the oldest of them; 0 when none
}

// Lag reads the outbox.
func (w *Worker) Lag(ctx context.Context) (Lag, error) {
	var l Lag
	err := w.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM search_outbox`).Scan(&l.Pending, &l.Seconds)
	return l, err
}

// cachedLag serves both gauges from one query per second at most.
func (w *Worker) cachedLag() Lag {
	w.lagMu.Lock()
	defer w.lagMu.Unlock()
	if time.Since(w.lagAt) < time.Second {
		return w.lastLag
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := w.Lag(ctx)
	if err != nil {
		w.log.Warn("search outbox lag", "err", err)
		return w.lastLag
	}
	w.lagAt, w.lastLag = time.Now(), l
	return l
}

// Gauges are the outbox metrics for /metrics, by name.
func (s *Service) Gauges() map[string]func() float64 {
	return map[string]func() float64{
		"hansewiki_search_outbox_lag_seconds": func() float64 { return s.worker.cachedLag().Seconds },
		"hansewiki_search_outbox_pending":     func() float64 { return float64(s.worker.cachedLag().Pending) },
	}
}
