package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Periodic work (review reminders, escalation, freshness, digests, ending
// roles) runs in one process at a time: whoever holds the advisory lock
// runs every registered job, evaluating each deadline as of one instant.
// `hansewiki jobs run --as-of TIME` runs the same code, which is how cron
// and tests move time. Jobs must be idempotent for a given as-of: what
// they act on they record (a reminder sent, a role ended), so running
// twice, or in two processes one after the other, does nothing twice.

// jobsLockKey is the advisory lock that elects the process doing periodic
// work ("Hanse" in ASCII).
const jobsLockKey int64 = 0x48616e7365

// ErrJobsBusy means another process holds the periodic-work lock.
var ErrJobsBusy = errors.New("periodic work is running in another process")

// JobFunc does one kind of periodic work as of asOf and says how many
// items it acted on.
type JobFunc func(ctx context.Context, asOf time.Time) (done int, err error)

// JobReport is what one job did in one run.
type JobReport struct {
	Name string
	Done int
	Took time.Duration
	Err  error
}

type job struct {
	name string
	run  JobFunc
}

type jobs struct {
	mu   sync.Mutex
	list []job
}

// RegisterJob adds periodic work. Jobs run in the order registered; a
// failing job is reported and does not stop the ones after it.
func (s *Service) RegisterJob(name string, fn JobFunc) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	for _, j := range s.jobs.list {
		if j.name == name {
			panic("workflow: job registered twice: " + name)
		}
	}
	s.jobs.list = append(s.jobs.list, job{name, fn})
}

// JobNames lists the registered jobs in the order they run.
func (s *Service) JobNames() []string {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	names := make([]string, len(s.jobs.list))
	for i, j := range s.jobs.list {
		names[i] = j.name
	}
	return names
}

// RunJobs runs every job as of asOf under the periodic-work lock. With
// wait it waits for the lock (the CLI); without, it returns ErrJobsBusy
// when another process holds it (the serve loop). The error is about the
// lock; each job's own failure is in its report.
func (s *Service) RunJobs(ctx context.Context, asOf time.Time, wait bool) ([]JobReport, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if wait {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, jobsLockKey); err != nil {
			return nil, fmt.Errorf("waiting for the periodic-work lock: %w", err)
		}
	} else {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, jobsLockKey).Scan(&got); err != nil {
			return nil, err
		}
		if !got {
			return nil, ErrJobsBusy
		}
	}
	defer func() {
		// A session lock outlives the request on a pooled connection: if it
		// cannot be released, the connection goes, and the lock with it.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, jobsLockKey); err != nil {
			conn.Conn().Close(unlockCtx)
		}
	}()
	s.jobs.mu.Lock()
	list := append([]job(nil), s.jobs.list...)
	s.jobs.mu.Unlock()
	reports := make([]JobReport, 0, len(list))
	for _, j := range list {
		if ctx.Err() != nil {
			return reports, ctx.Err()
		}
		started := time.Now()
		done, err := runJob(ctx, j, asOf)
		r := JobReport{Name: j.name, Done: done, Took: time.Since(started), Err: err}
		reports = append(reports, r)
		msg := ""
		if err != nil {
			msg = err.Error()
			s.log.Error("periodic work failed", "job", j.name, "as_of", asOf, "err", err)
		} else if done > 0 {
			s.log.Info("periodic work", "job", j.name, "as_of", asOf, "done", done)
		}
		if _, err := s.pool.Exec(ctx, `
			INSERT INTO job_runs (name, as_of, started_at, finished_at, done, error)
			VALUES ($1, $2, $3, now(), $4, $5)
			ON CONFLICT (name) DO UPDATE SET as_of = EXCLUDED.as_of, started_at = EXCLUDED.started_at,
				finished_at = EXCLUDED.finished_at, done = EXCLUDED.done, error = EXCLUDED.error`,
			j.name, asOf, started, done, msg); err != nil {
			s.log.Warn("could not record a periodic-work run", "job", j.name, "err", err)
		}
	}
	return reports, nil
}

// runJob keeps a panicking job from taking the others down.
func runJob(ctx context.Context, j job, asOf time.Time) (done int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	// Notifications the job writes weigh absences as of asOf.
	return j.run(WithAsOf(ctx, asOf), asOf)
}

// JobRun is the last recorded run of a job.
type JobRun struct {
	Name       string
	AsOf       time.Time
	FinishedAt time.Time
	Done       int
	Error      string
}

// LastJobRuns lists each job's last run, by name.
func (s *Service) LastJobRuns(ctx context.Context) ([]JobRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, as_of, finished_at, done, error FROM job_runs ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var r JobRun
		if err := rows.Scan(&r.Name, &r.AsOf, &r.FinishedAt, &r.Done, &r.Error); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// JobInterval is how often serve tries to do periodic work.
const JobInterval = time.Minute

// RunJobLoop does periodic work every interval while ctx lives, in
// whichever serve process wins the lock at that moment.
func (s *Service) RunJobLoop(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = s.log
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunJobs(ctx, time.Now(), false); err != nil && !errors.Is(err, ErrJobsBusy) && ctx.Err() == nil {
			log.Warn("periodic work could not start", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
