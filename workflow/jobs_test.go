package workflow_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hansewiki/workflow"
)

// Two processes (two services on one database) try periodic work at the
// same moment: one runs it, the other is told it is busy; a waiting run
// (the CLI) goes after the first has finished, never beside it.
func TestPeriodicWorkRunsInOneProcessAtATime(t *testing.T) {
	e := newEnv(t)
	other := workflow.NewService(e.store, e.auth, quiet)
	var running, overlapped, runs atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	work := func(ctx context.Context, asOf time.Time) (int, error) {
		if running.Add(1) > 1 {
			overlapped.Add(1)
		}
		defer running.Add(-1)
		runs.Add(1)
		entered <- struct{}{}
		<-release
		return 1, nil
	}
	e.wf.RegisterJob("count", work)
	other.RegisterJob("count", work)
	ctx := context.Background()
	asOf := time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := e.wf.RunJobs(ctx, asOf, false); err != nil {
			t.Errorf("first run: %v", err)
		}
	})
	<-entered
	if _, err := other.RunJobs(ctx, asOf, false); !errors.Is(err, workflow.ErrJobsBusy) {
		t.Fatalf("second process while the first works: %v, want ErrJobsBusy", err)
	}
	waited := make(chan []workflow.JobReport)
	go func() {
		r, err := other.RunJobs(ctx, asOf, true)
		if err != nil {
			t.Errorf("waiting run: %v", err)
		}
		waited <- r
	}()
	select {
	case <-entered:
		t.Fatal("the waiting run started while the first still held the lock")
	case <-time.After(200 * time.Millisecond):
	}
	release <- struct{}{}
	<-entered
	release <- struct{}{}
	wg.Wait()
	// The jobs NewService registers run first; "count" is the last.
	if r := <-waited; len(r) == 0 || r[len(r)-1].Name != "count" || r[len(r)-1].Done != 1 || r[len(r)-1].Err != nil {
		t.Fatalf("waiting run reported %+v", r)
	}
	if overlapped.Load() != 0 || runs.Load() != 2 {
		t.Fatalf("runs %d, overlapping %d; want 2 runs one after the other", runs.Load(), overlapped.Load())
	}
	// The lock is free again for the serve loop.
	close(release)
	if _, err := e.wf.RunJobs(ctx, asOf, false); err != nil {
		t.Fatalf("after both: %v", err)
	}
}

// A failing or panicking job is reported and recorded; the jobs after it
// still run.
func TestFailingJobDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(t)
	e.wf.RegisterJob("fails", func(context.Context, time.Time) (int, error) { return 0, errors.New("mail server gone") })
	e.wf.RegisterJob("panics", func(context.Context, time.Time) (int, error) { panic("bug") })
	ran := false
	e.wf.RegisterJob("after", func(_ context.Context, asOf time.Time) (int, error) {
		ran = asOf.Equal(time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC))
		return 3, nil
	})
	reports, err := e.wf.RunJobs(context.Background(), time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) >= 3 {
		reports = reports[len(reports)-3:] // after the jobs NewService registers
	}
	if len(reports) != 3 || reports[0].Err == nil || reports[1].Err == nil || reports[2].Err != nil || !ran {
		t.Fatalf("reports %+v, later job ran with the as-of: %v", reports, ran)
	}
	last, err := e.wf.LastJobRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]workflow.JobRun{}
	for _, r := range last {
		got[r.Name] = r
	}
	if got["fails"].Error != "mail server gone" || got["after"].Done != 3 || got["panics"].Error == "" {
		t.Fatalf("recorded runs %+v", last)
	}
}
