package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/wiki"
)

// Config chooses and tunes the search backend.
type Config struct {
	// Store gives the database.
	Store *wiki.Store
	// MeiliURL selects Meilisearch; empty means PostgreSQL search only.
	MeiliURL string
	MeiliKey string
	// MeiliIndex is the index uid; DefaultIndex when empty. Tests use one
	// index each.
	MeiliIndex string
	Log        *slog.Logger

	// Worker tuning; zero values mean the defaults.
	PollInterval time.Duration // outbox poll when no notification comes (2 s)
	BatchSize    int           // outbox rows per transaction (200)
	MaxBackoff   time.Duration // longest wait before retrying a failed row (5 min)
}

// Service is the search the rest of the wiki uses: Meilisearch when
// configured and in step, PostgreSQL otherwise, and the outbox worker that
// keeps Meilisearch in step.
type Service struct {
	pg     *PG
	meili  *Meili // nil: PostgreSQL only
	worker *Worker
	log    *slog.Logger

	// behind: Meilisearch was unreachable and has not caught up on the
	// outbox since; queries go to PostgreSQL, which the worker refreshes
	// whatever state Meilisearch is in.
	behind atomic.Bool
	// downUntil: a query found Meilisearch unreachable; until then queries
	// do not try it (unix nanoseconds).
	downUntil atomic.Int64
}

// settingsTimeout bounds applying settings at start-up; a large index may
// need a while to re-index after a change.
const settingsTimeout = 2 * time.Minute

// queryDownFor is how long queries skip Meilisearch after one failed to
// reach it.
const queryDownFor = 3 * time.Second

// Open builds the search service. With a MeiliURL it applies the index
// settings and waits for them; when Meilisearch cannot be reached it still
// opens, answering from PostgreSQL until the worker finds Meilisearch back.
// Settings Meilisearch refuses are an error.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("search: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	pool := cfg.Store.Pool()
	s := &Service{pg: NewPG(pool), log: cfg.Log}
	if cfg.MeiliURL != "" {
		s.meili = NewMeili(cfg.MeiliURL, cfg.MeiliKey, cfg.MeiliIndex, s.pg)
		sctx, cancel := context.WithTimeout(ctx, settingsTimeout)
		err := s.meili.ApplySettings(sctx)
		cancel()
		switch {
		case unavailable(err):
			cfg.Log.Warn("meilisearch is not reachable; searching with PostgreSQL until it is", "url", cfg.MeiliURL, "err", err)
			s.behind.Store(true)
		case err != nil:
			return nil, err
		}
	}
	s.worker = newWorker(s, cfg)
	return s, nil
}

// Engine names the configured backend: "meilisearch" or "postgres".
func (s *Service) Engine() string {
	if s.meili != nil {
		return EngineMeilisearch
	}
	return EnginePostgres
}

// PG is the PostgreSQL backend (always there).
func (s *Service) PG() *PG { return s.pg }

// Meili is the Meilisearch backend, or nil.
func (s *Service) Meili() *Meili { return s.meili }

// Worker is the outbox worker; Run starts it.
func (s *Service) Worker() *Worker { return s.worker }

// Pool is the database the service reads.
func (s *Service) Pool() *pgxpool.Pool { return s.pg.pool }

// useMeili reports whether queries should go to Meilisearch now.
func (s *Service) useMeili() bool {
	return s.meili != nil && !s.behind.Load() && time.Now().UnixNano() >= s.downUntil.Load()
}

// meiliFailed records that a query could not reach Meilisearch.
func (s *Service) meiliFailed(err error) {
	s.log.Warn("meilisearch unavailable; answering from PostgreSQL", "err", err)
	s.downUntil.Store(time.Now().Add(queryDownFor).UnixNano())
	s.behind.Store(true)
}

// Search answers from Meilisearch when it is configured and in step, and
// from PostgreSQL otherwise or when Meilisearch fails to answer.
func (s *Service) Search(ctx context.Context, r wiki.Reader, q Query) (*Result, error) {
	if s.useMeili() {
		res, err := s.meili.Search(ctx, r, q)
		if err == nil || !unavailable(err) {
			return res, err
		}
		s.meiliFailed(err)
	}
	return s.pg.Search(ctx, r, q)
}

// Suggest falls back like Search.
func (s *Service) Suggest(ctx context.Context, r wiki.Reader, prefix string, n int) ([]Suggestion, error) {
	if s.useMeili() {
		res, err := s.meili.Suggest(ctx, r, prefix, n)
		if err == nil || !unavailable(err) {
			return res, err
		}
		s.meiliFailed(err)
	}
	return s.pg.Suggest(ctx, r, prefix, n)
}

// Similar falls back like Search.
func (s *Service) Similar(ctx context.Context, r wiki.Reader, city, slug string, n int) ([]Hit, error) {
	if s.useMeili() {
		res, err := s.meili.Similar(ctx, r, city, slug, n)
		if err == nil || !unavailable(err) {
			return res, err
		}
		s.meiliFailed(err)
	}
	return s.pg.Similar(ctx, r, city, slug, n)
}

// Run drains the outbox until ctx ends: woken through Worker.Wake (the
// process's listener calls it for every publication) and polling as a
// fallback. Several instances may run it at once.
func (s *Service) Run(ctx context.Context) { s.worker.Run(ctx) }

// ReindexResult says what a reindex did.
type ReindexResult struct {
	Engine    string
	Documents int // documents in the new Meilisearch index
	Refreshed int // PostgreSQL search rows that were stale and repaired
}

// Reindex verifies (and repairs) the PostgreSQL search rows and, with
// Meilisearch, rebuilds its index from them; see Meili.Reindex.
func (s *Service) Reindex(ctx context.Context, progress func(done, total int)) (ReindexResult, error) {
	res := ReindexResult{Engine: s.Engine()}
	if _, err := s.worker.Refresh(ctx, nil); err != nil {
		return res, err
	}
	var err error
	if res.Refreshed, err = s.pg.Verify(ctx); err != nil {
		return res, err
	}
	if s.meili == nil {
		return res, nil
	}
	if res.Documents, err = s.meili.Reindex(ctx, s.pg.pool, progress); err != nil {
		return res, fmt.Errorf("reindex: %w", err)
	}
	return res, nil
}

// TagLabels returns tags as the articles write them (see PG.TagLabels).
func (s *Service) TagLabels(ctx context.Context, tags []string) (map[string]string, error) {
	return s.pg.TagLabels(ctx, tags)
}
