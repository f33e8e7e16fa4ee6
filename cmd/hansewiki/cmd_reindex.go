package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"hansewiki/wiki/search"
)

// cmdReindex rebuilds the Meilisearch index from PostgreSQL into a fresh
// index and swaps it in, with a progress bar on a terminal. Without
// MEILI_URL there is no index to rebuild: it verifies (and repairs) the
// PostgreSQL search rows and says so.
func cmdReindex(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if err := newFlags("reindex", stderr).Parse(args); err != nil {
		return err
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	svc, err := search.Open(ctx, search.Config{Store: m.Store, MeiliURL: cfg.MeiliURL, MeiliKey: cfg.MeiliAPIKey, Log: log})
	if err != nil {
		return err
	}
	if svc.Meili() != nil && !svc.Meili().Healthy(ctx) {
		return fmt.Errorf("meilisearch at %s is not reachable", cfg.MeiliURL)
	}
	var bar *progress
	res, err := svc.Reindex(ctx, func(done, total int) {
		if bar == nil {
			bar = newProgress(stderr, "reindex", total)
		}
		bar.Set(done, fmt.Sprintf("%d documents", done))
	})
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	if res.Refreshed > 0 {
		fmt.Fprintf(stdout, "repaired %d stale PostgreSQL search row(s)\n", res.Refreshed)
	}
	if svc.Meili() == nil {
		fmt.Fprintln(stdout, "no MEILI_URL: search runs on PostgreSQL, whose index the server refreshes after every publication; nothing to rebuild (search rows refreshed and verified)")
		return nil
	}
	elapsed := ""
	if bar != nil {
		elapsed = " in " + bar.Elapsed().String()
	}
	fmt.Fprintf(stdout, "reindexed %d article(s) into Meilisearch index %q%s\n", res.Documents, svc.Meili().Index(), elapsed)
	return nil
}
