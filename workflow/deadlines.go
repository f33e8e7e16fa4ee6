package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
)

// Review deadlines (SPEC "Review operations"). A change is due the city's
// review_days calendar days after it entered review; the clock starts
// again whenever it re-enters review (resubmitted after requested
// changes, or rebased after a conflict), and the due date it got stays
// with it when the city's policy changes later, as its quorum does. The
// deadline job then takes three steps, each once per change and round:
//
//   - at half time, the reviewers who may decide on it (Capabilities: the
//     four-eyes rule; not those who approved its current revision
//     already) are reminded; when nobody but its author could, the
//     network admins, as at its submission;
//   - when it is overdue, the city's admins are told;
//   - a day after the due date, the network admins.
//
// Everything goes through notify, so the visibility rule (and whatever
// else decides a notification's recipients) applies; the change's author
// is never among them: the deadline is the reviewers' to keep.

// JobReviewDeadlines is the deadline job's name.
const JobReviewDeadlines = "review_deadlines"

// Deadline steps, as recorded in review_reminders and used as the
// notification kinds "change.<step>".
const (
	StepReminder  = "reminder"
	StepOverdue   = "overdue"
	StepEscalated = "escalated"
)

// EscalationDelay is how long after the due date the network admins are
// told.
const EscalationDelay = 24 * time.Hour

// registerDeadlineJobs registers the deadline job (from NewService).
func (s *Service) registerDeadlineJobs() {
	s.RegisterJob(JobReviewDeadlines, s.runReviewDeadlines)
}

// startReviewClock gives a change that enters review its due date, from
// its city's policy as of now (the transaction's start).
func startReviewClock(ctx context.Context, tx pgx.Tx, changeID int64, city string) error {
	_, err := tx.Exec(ctx, `UPDATE change_requests SET review_started_at = now(),
			due_at = now() + make_interval(days => (SELECT review_days FROM cities WHERE slug = $2))
		WHERE id = $1`, changeID, city)
	return err
}

// stepTimes says when each step is due for a change in review since
// started and due at due.
func stepTimes(started, due time.Time) map[string]time.Time {
	return map[string]time.Time{
		StepReminder:  started.Add(due.Sub(started) / 2),
		StepOverdue:   due,
		StepEscalated: due.Add(EscalationDelay),
	}
}

var deadlineSteps = []string{StepReminder, StepOverdue, StepEscalated}

// runReviewDeadlines takes every deadline step that is due as of asOf and
// was not taken yet, and says how many it took.
func (s *Service) runReviewDeadlines(ctx context.Context, asOf time.Time) (int, error) {
	// Candidates: in review, at least half-time, not escalated yet. The
	// reminder comes at half of the interval, whatever review_days was.
	rows, _ := s.pool.Query(ctx, `SELECT c.id, c.review_started_at, c.due_at FROM change_requests c
		WHERE c.state = 'in_review' AND c.due_at IS NOT NULL AND c.review_started_at IS NOT NULL
		  AND c.review_started_at + (c.due_at - c.review_started_at) / 2 <= $1
		  AND NOT EXISTS (SELECT 1 FROM review_reminders r WHERE r.change_id = c.id AND r.due_at = c.due_at AND r.step = 'escalated')
		ORDER BY c.due_at, c.id`, asOf)
	type candidate struct {
		ID           int64
		Started, Due time.Time
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[candidate])
	if err != nil {
		return 0, fmt.Errorf("reading changes in review: %w", err)
	}
	done := 0
	var errs []error
	for _, c := range list {
		at := stepTimes(c.Started, c.Due)
		for _, step := range deadlineSteps {
			if at[step].After(asOf) {
				break
			}
			took, err := s.deadlineStep(ctx, c.ID, c.Due, step, asOf)
			if err != nil {
				errs = append(errs, fmt.Errorf("change %d, %s: %w", c.ID, step, err))
				break
			}
			if took {
				done++
			}
		}
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
	}
	return done, errors.Join(errs...)
}

// deadlineStep takes one step for one change, in one transaction with its
// record: it is taken once, also when two runs overlap, and not at all
// when the change left review (or re-entered it with a new due date) in
// the meantime.
func (s *Service) deadlineStep(ctx context.Context, changeID int64, due time.Time, step string, asOf time.Time) (took bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.lockChange(ctx, tx, changeID)
		if err != nil {
			return err
		}
		if c.State != InReview || c.DueAt == nil || !c.DueAt.Equal(due) {
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO review_reminders (change_id, due_at, step, as_of, recipients)
			VALUES ($1, $2, $3, $4, 0) ON CONFLICT DO NOTHING`, changeID, due, step, asOf)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		to, err := s.deadlineRecipients(ctx, tx, c, step)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE review_reminders SET recipients = $4 WHERE change_id = $1 AND due_at = $2 AND step = $3`,
			changeID, due, step, len(to)); err != nil {
			return err
		}
		took = true
		// The notification names the author, whose change waits.
		return s.notify(ctx, tx, to, "change."+step, c, c.Author, "")
	})
	return took, err
}

// deadlineRecipients are whom a step is for (enabled accounts, never the
// change's author; notify still applies the visibility rule).
func (s *Service) deadlineRecipients(ctx context.Context, tx pgx.Tx, c *Change, step string) ([]int64, error) {
	var networkAdmins []string
	for _, h := range s.perm.Holders(auth.ManageNetwork, auth.AllCities) {
		networkAdmins = append(networkAdmins, h.Username)
	}
	switch step {
	case StepReminder:
		// Reviewers as at submission: network admins only as the last resort.
		var names []string
		for _, h := range s.perm.Holders(auth.ReviewChange, c.City) {
			if !h.NetworkOnly || !slices.Contains(networkAdmins, h.Username) {
				names = append(names, h.Username)
			}
		}
		to, err := s.mayDecide(ctx, tx, c, names)
		if err != nil || len(to) > 0 {
			return to, err
		}
		return s.mayDecide(ctx, tx, c, networkAdmins)
	case StepOverdue:
		var names []string
		for _, h := range s.perm.Holders(auth.ManageCity, c.City) {
			if !h.NetworkOnly {
				names = append(names, h.Username)
			}
		}
		return activeUsers(ctx, tx, names, c.AuthorID)
	case StepEscalated:
		return activeUsers(ctx, tx, networkAdmins, c.AuthorID)
	}
	return nil, fmt.Errorf("unknown deadline step %q", step)
}

// mayDecide keeps of names the enabled accounts that may decide on c now
// (Capabilities, with the four-eyes rule) and have not approved its
// current revision yet.
func (s *Service) mayDecide(ctx context.Context, tx pgx.Tx, c *Change, names []string) ([]int64, error) {
	ids, err := activeUsers(ctx, tx, names, c.AuthorID)
	if err != nil {
		return nil, err
	}
	approved := map[string]bool{}
	for _, r := range c.Reviews {
		if r.Decision == Approve && !r.Outdated {
			approved[r.Reviewer] = true
		}
	}
	var out []int64
	for _, uid := range ids {
		id, err := s.perm.IdentityByID(ctx, uid)
		if errors.Is(err, auth.ErrUnauthenticated) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.Capabilities(id, c).Approve && !approved[id.Username] {
			out = append(out, uid)
		}
	}
	return out, nil
}

// sortByDue orders a review queue by due date, overdue (earliest due)
// first; changes without a due date come last, newest activity first as
// before.
func sortByDue(list []*Change) {
	slices.SortStableFunc(list, func(a, b *Change) int {
		switch {
		case a.DueAt == nil && b.DueAt == nil:
			return 0
		case a.DueAt == nil:
			return 1
		case b.DueAt == nil:
			return -1
		}
		return cmp.Or(a.DueAt.Compare(*b.DueAt), cmp.Compare(a.ID, b.ID))
	})
}

// DeadlineStep is one step the deadline job took for a change.
type DeadlineStep struct {
	Step       string
	DueAt      time.Time
	AsOf       time.Time
	Recipients int
}

// DeadlineSteps lists the steps taken for a change, oldest first (for
// tests and operators).
func (s *Service) DeadlineSteps(ctx context.Context, changeID int64) ([]DeadlineStep, error) {
	rows, _ := s.pool.Query(ctx, `SELECT step, due_at, as_of, recipients FROM review_reminders
		WHERE change_id = $1 ORDER BY sent_at, due_at, array_position(ARRAY['reminder', 'overdue', 'escalated'], step)`, changeID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DeadlineStep])
}
