package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// cmdJobs runs the periodic work once, as of now or of --as-of, for cron
// and for tests that move time. It waits for a serve process that is
// doing the same work at this moment, so nothing runs twice at once.
func cmdJobs(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: hansewiki jobs run [--as-of TIME]")
	}
	fs := newFlags("jobs run", stderr)
	asOfFlag := fs.String("as-of", "", "evaluate every deadline as of this time (RFC 3339, e.g. 2027-03-31T08:00:00+02:00); default now")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	asOf := time.Now()
	if *asOfFlag != "" {
		t, err := time.Parse(time.RFC3339, *asOfFlag)
		if err != nil {
			return fmt.Errorf("--as-of %q is not an RFC 3339 time such as 2027-03-31T08:00:00+02:00", *asOfFlag)
		}
		asOf = t
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	reports, err := m.Workflow.RunJobs(ctx, asOf, true)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range reports {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stdout, "%-20s failed: %v\n", r.Name, r.Err)
			continue
		}
		fmt.Fprintf(stdout, "%-20s %d done (%s)\n", r.Name, r.Done, r.Took.Round(time.Millisecond))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d jobs failed", failed, len(reports))
	}
	return nil
}
