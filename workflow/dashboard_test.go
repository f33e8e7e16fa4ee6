package workflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// A city admin sees their city's backlog, the oldest wait, the median time
// to a decision and each reviewer's load; other cities and non-admins see
// nothing.
func TestReviewDashboardShowsTheCitysBacklogAndLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	published := e.inState(workflow.Published) // approved by pruefer1
	waiting := e.inState(workflow.InReview)    // by autorin
	fromAdmin := e.propose("admin-hro", "Vom Stadtadmin", true)
	// Dates as if submitted earlier, so the figures are not all zero.
	for _, u := range []struct {
		id        int64
		submitted string
		closed    *string
	}{
		{published.ID, "4 days", ptr("1 day")},
		{waiting.ID, "5 days", nil},
		{fromAdmin.ID, "2 days", nil},
	} {
		if _, err := e.pool.Exec(ctx, `UPDATE change_requests SET submitted_at = now() - $2::interval,
			closed_at = CASE WHEN $3::text IS NULL THEN closed_at ELSE now() - $3::interval END WHERE id = $1`,
			u.id, u.submitted, u.closed); err != nil {
			t.Fatal(err)
		}
	}
	asOf := time.Now().Add(time.Hour) // the waiting change was due a day ago (5 days, submitted 5 days ago)
	if _, err := e.pool.Exec(ctx, `UPDATE change_requests SET due_at = submitted_at + interval '5 days' WHERE state = 'in_review'`); err != nil {
		t.Fatal(err)
	}
	d, err := e.wf.ReviewDashboard(ctx, e.users["admin-hro"], asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cities) != 1 || d.Cities[0].City != "rostock" {
		t.Fatalf("a Rostock admin sees cities %+v, want Rostock only", d.Cities)
	}
	c := d.Cities[0]
	near := func(got, want time.Duration) bool { return got > want-time.Minute && got < want+time.Minute }
	if c.ArticlesDue != 0 || c.ArticlesStale != 0 {
		t.Errorf("a fresh article counts as due for its check: %+v", c)
	}
	if c.InReview != 2 || !near(c.Oldest, 5*24*time.Hour+time.Hour) || c.Overdue != 1 || c.Decided != 1 || !near(c.Median, 3*24*time.Hour) {
		t.Fatalf("Rostock: %+v; want 2 in review, oldest 5 days, 1 overdue, 1 decided in a median of 3 days", c)
	}
	load := map[string]workflow.ReviewerLoad{}
	for _, l := range d.Reviewers {
		load[l.Username] = l
	}
	want := map[string][2]int{ // reviews, waiting
		"pruefer1":  {1, 2},
		"pruefer2":  {0, 2},
		"admin-hro": {0, 1}, // not their own change
	}
	for user, w := range want {
		l, ok := load[user]
		if !ok || l.Reviews != w[0] || l.Waiting != w[1] {
			t.Errorf("%s: %+v, want %d reviews and %d waiting", user, l, w[0], w[1])
		}
	}
	if _, ok := load["pruef-hwi"]; ok {
		t.Error("a Wismar reviewer is listed on a Rostock admin's dashboard")
	}
	if _, ok := load["autorin"]; ok {
		t.Error("an author who does not review is listed as a reviewer")
	}
	// Thirteen and a half months on, the article (interval 12 months) is
	// due for its check, and overdue by more than a month.
	later, err := e.wf.ReviewDashboard(ctx, e.users["admin-hro"], asOf.AddDate(0, 13, 15))
	if err != nil {
		t.Fatal(err)
	}
	if c := later.Cities[0]; c.ArticlesDue != 1 || c.ArticlesStale != 1 {
		t.Errorf("13½ months later: %+v, want the article due and stale", c)
	}
	// A decision on the waiting change takes it off that reviewer's list.
	e.must(e.wf.RequestChanges(ctx, e.meta("pruefer2"), waiting.ID, "Bitte Quelle nennen", 0))
	d, _ = e.wf.ReviewDashboard(ctx, e.users["admin-hro"], time.Now())
	for _, l := range d.Reviewers {
		if l.Username == "pruefer2" && (l.Waiting != 1 || l.Reviews != 1) {
			t.Errorf("after requesting changes pruefer2 has %+v, want 1 review and 1 waiting", l)
		}
	}
	for _, user := range []string{"pruefer1", "autorin", "mitglied"} {
		if _, err := e.wf.ReviewDashboard(ctx, e.users[user], asOf); !errors.Is(err, wiki.ErrForbidden) {
			t.Errorf("%s reads the dashboard: %v", user, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
