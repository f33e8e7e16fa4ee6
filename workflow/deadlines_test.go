package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// deadlineEnv adds a network admin and Wismar's admin to the usual people,
// sends mail through a real SMTP server, and sets Rostock's policy.
type deadlineEnv struct {
	*env
	server *mailServer
	mailer *workflow.Mailer
	seen   int // mails already looked at
}

func newDeadlineEnv(t *testing.T, approvals, days int) *deadlineEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range [][3]string{{"netz-admin", "admin", "*"}, {"admin-hwi", "admin", "wismar"}} {
		if _, err := e.pool.Exec(ctx, `INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org')`, p[0]); err != nil {
			t.Fatal(err)
		}
		if err := e.auth.Grant(ctx, p[0], p[1], p[2], "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.store.SetReviewPolicy(ctx, "rostock", wiki.ReviewPolicy{RequiredApprovals: &approvals, ReviewDays: &days}, "test"); err != nil {
		t.Fatal(err)
	}
	d := &deadlineEnv{env: e, server: startMailServer(t, "127.0.0.1:0")}
	e.wf.Mail = mailSettings(t, d.server.port())
	d.mailer = e.wf.Mailer(quiet)
	return d
}

// run does the periodic work as of asOf and says how many deadline steps
// were taken.
func (d *deadlineEnv) run(asOf time.Time) int {
	d.t.Helper()
	reports, err := d.wf.RunJobs(context.Background(), asOf, true)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, r := range reports {
		if r.Name == workflow.JobReviewDeadlines {
			if r.Err != nil {
				d.t.Fatalf("deadline job as of %s: %v", asOf, r.Err)
			}
			return r.Done
		}
	}
	d.t.Fatal("no deadline job registered")
	return 0
}

// told lists who got a notification of kind about change id, sorted.
func (d *deadlineEnv) told(kind string, id int64) []string {
	d.t.Helper()
	rows, err := d.pool.Query(context.Background(), `SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.kind = $1 AND n.change_id = $2 ORDER BY u.username`, kind, id)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		out = append(out, name)
	}
	return out
}

// newMail sends what is queued and returns the mails that arrived since
// the last call.
func (d *deadlineEnv) newMail() []delivered {
	d.t.Helper()
	drain(d.t, d.mailer)
	all := d.server.received()
	fresh := all[d.seen:]
	d.seen = len(all)
	return fresh
}

func addrs(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "@example.org"
	}
	slices.Sort(out)
	return out
}

// A change goes through a whole deadline as of moving times: nothing
// before half time; at half time one reminder (in-app and mail) to each
// reviewer who may still decide — not its author, not the reviewer who
// approved it already; when overdue Rostock's admin; a day later the
// network admin. Each step once, whatever runs again.
func TestReviewDeadlineRemindsAndEscalatesOnce(t *testing.T) {
	t.Parallel()
	d := newDeadlineEnv(t, 2, 4)
	ctx := context.Background()
	c := d.propose("autorin", "Neue Pegel an der Unterwarnow.", true)
	if c.DueAt == nil || c.SubmittedAt == nil {
		t.Fatalf("a submitted change has no due date: %+v", c)
	}
	if got := c.DueAt.Sub(*c.SubmittedAt); got < 4*24*time.Hour-time.Second || got > 4*24*time.Hour+time.Second {
		t.Fatalf("due %s after submission, want Rostock's 4 days", got)
	}
	d.must(d.wf.Approve(ctx, d.meta("pruefer1"), c.ID, "", 0))
	d.newMail() // the submission's and the approval's mail
	due := *c.DueAt
	started := due.Add(-4 * 24 * time.Hour)

	if n := d.run(started.Add(47 * time.Hour)); n != 0 || len(d.told("change.reminder", c.ID)) != 0 || len(d.newMail()) != 0 {
		t.Fatalf("before half time: %d steps", n)
	}
	half := started.Add(48 * time.Hour)
	if n := d.run(half); n != 1 {
		t.Fatalf("at half time %d steps, want the reminder", n)
	}
	reminded := []string{"admin-hro", "pruefer2", "pruefer3"}
	if got := d.told("change.reminder", c.ID); !slices.Equal(got, reminded) {
		t.Fatalf("reminded %v, want %v (not the author, not pruefer1 who approved, not Wismar, not the network admin)", got, reminded)
	}
	mails := d.newMail()
	if got := recipients(mails); !slices.Equal(got, addrs(reminded...)) {
		t.Fatalf("reminder mailed to %v", got)
	}
	for _, m := range mails {
		if !strings.HasPrefix(m.Subject, "[Hansewiki] Erinnerung: Änderung bald fällig: Warnow-Pegel") ||
			!strings.Contains(m.Body, "Fällig am / Due:") || !strings.Contains(m.Body, "/changes/") {
			t.Errorf("reminder mail %q:\n%s", m.Subject, m.Body)
		}
	}
	// Again at the same time, and later but before the due date: nothing.
	for _, at := range []time.Time{half, half.Add(time.Hour), due.Add(-time.Second)} {
		if n := d.run(at); n != 0 {
			t.Fatalf("as of %s: %d more steps", at, n)
		}
	}
	if got := d.told("change.reminder", c.ID); len(got) != 3 || len(d.newMail()) != 0 {
		t.Fatalf("reminders after running again: %v", got)
	}

	if n := d.run(due); n != 1 {
		t.Fatalf("at the due date %d steps, want the city admins told", n)
	}
	if got := d.told("change.overdue", c.ID); !slices.Equal(got, []string{"admin-hro"}) {
		t.Fatalf("overdue told %v, want Rostock's admin only", got)
	}
	if got := recipients(d.newMail()); !slices.Equal(got, addrs("admin-hro")) {
		t.Fatalf("overdue mailed to %v", got)
	}
	if n := d.run(due.Add(EscalationLess)); n != 0 {
		t.Fatalf("less than a day overdue: %d steps", n)
	}
	if n := d.run(due.Add(workflow.EscalationDelay)); n != 1 {
		t.Fatalf("a day overdue: %d steps, want the network admins told", n)
	}
	if got := d.told("change.escalated", c.ID); !slices.Equal(got, []string{"netz-admin"}) {
		t.Fatalf("escalation told %v, want the network admin", got)
	}
	mails = d.newMail()
	if len(mails) != 1 || !slices.Equal(mails[0].To, addrs("netz-admin")) || !strings.Contains(mails[0].Subject, "überfällig") {
		t.Fatalf("escalation mail: %+v", mails)
	}
	if n := d.run(due.Add(30 * 24 * time.Hour)); n != 0 || len(d.newMail()) != 0 {
		t.Fatalf("a month later: %d more steps", n)
	}
	steps, err := d.wf.DeadlineSteps(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Step)
		if !s.DueAt.Equal(due) {
			t.Errorf("step %s recorded for due date %s, want %s", s.Step, s.DueAt, due)
		}
	}
	if !slices.Equal(names, []string{"reminder", "overdue", "escalated"}) || steps[0].Recipients != 3 || !steps[0].AsOf.Equal(half) {
		t.Fatalf("recorded steps %+v", steps)
	}
	// The author sees the change as overdue; the queue and JSON say so.
	got := d.must(d.wf.Get(ctx, d.users["autorin"], c.ID))
	if got.DueAt == nil || !got.DueAt.Equal(due) || got.Overdue {
		t.Fatalf("read back: due %v, overdue %v (not yet, by the clock)", got.DueAt, got.Overdue)
	}
}

// EscalationLess is just short of the escalation delay.
const EscalationLess = workflow.EscalationDelay - time.Minute

// A change decided before its deadline gets nothing more; one sent back
// and resubmitted gets a new due date, and its old round's steps are not
// taken for it.
func TestDecidedChangeGetsNoDeadlineSteps(t *testing.T) {
	t.Parallel()
	d := newDeadlineEnv(t, 1, 2)
	ctx := context.Background()
	published := d.propose("autorin", "Veröffentlicht vor der Frist.", true)
	d.must(d.wf.Approve(ctx, d.meta("pruefer1"), published.ID, "", 0))
	sentBack := d.propose("autorin", "Zur Überarbeitung.", true)
	d.must(d.wf.RequestChanges(ctx, d.meta("pruefer2"), sentBack.ID, "Bitte Quellen ergänzen.", 0))
	d.newMail()
	due := *sentBack.DueAt
	if n := d.run(due.Add(10 * 24 * time.Hour)); n != 0 || len(d.newMail()) != 0 {
		t.Fatalf("decided changes: %d steps", n)
	}
	if c := d.must(d.wf.Get(ctx, d.users["autorin"], sentBack.ID)); c.DueAt != nil {
		t.Fatalf("a change back with its author shows a due date %v", c.DueAt)
	}
	for _, kind := range []string{"change.reminder", "change.overdue", "change.escalated"} {
		if got := append(d.told(kind, published.ID), d.told(kind, sentBack.ID)...); len(got) != 0 {
			t.Fatalf("%s for a decided change: %v", kind, got)
		}
	}
	// Resubmitted: a new round with its own due date.
	cur := d.must(d.wf.Get(ctx, d.users["autorin"], sentBack.ID))
	if _, err := d.wf.Submit(ctx, d.meta("autorin"), cur.ID, "Quellen ergänzt."); err != nil {
		t.Fatal(err)
	}
	again := d.must(d.wf.Get(ctx, d.users["autorin"], sentBack.ID))
	if again.DueAt == nil || !again.DueAt.After(due) {
		t.Fatalf("resubmitted: due %v, want after the first round's %s", again.DueAt, due)
	}
}

// A city-only article's deadline steps reach only people who may read
// it: Wismar's reviewer and admin and the network admin, never Rostock's
// people or a member; and a reviewer who loses the role before the mail
// goes out does not get the mail.
func TestDeadlineStepsOfACityOnlyArticleStayInItsCity(t *testing.T) {
	t.Parallel()
	d := newDeadlineEnv(t, 1, 5)
	ctx := context.Background()
	c, err := d.wf.Create(ctx, d.meta("autor-hwi"), workflow.Proposal{Submit: true, Draft: wiki.Draft{City: "wismar",
		Title: "Interne Leitstellen-Rufnummern", Body: "Nur für die Verwaltung.", Visibility: wiki.CityVis, Topics: []string{"wasser-umwelt"}}})
	if err != nil {
		t.Fatal(err)
	}
	d.newMail()
	due := *c.DueAt
	half := due.Add(-5 * 12 * time.Hour)
	// The reminder is written; before its mail leaves, pruef-hwi loses the role.
	if n := d.run(half); n != 1 {
		t.Fatalf("half time: %d steps", n)
	}
	if got := d.told("change.reminder", c.ID); !slices.Equal(got, []string{"admin-hwi", "pruef-hwi"}) {
		t.Fatalf("reminded %v, want Wismar's reviewers only", got)
	}
	if err := d.auth.Revoke(ctx, "pruef-hwi", "reviewer", "wismar", "test"); err != nil {
		t.Fatal(err)
	}
	if got := recipients(d.newMail()); !slices.Equal(got, addrs("admin-hwi")) {
		t.Fatalf("reminder mails went to %v; the former reviewer may no longer read the article", got)
	}
	if n := d.run(due.Add(workflow.EscalationDelay)); n != 2 {
		t.Fatalf("a day overdue: %d steps, want overdue and escalation", n)
	}
	if got := d.told("change.overdue", c.ID); !slices.Equal(got, []string{"admin-hwi"}) {
		t.Fatalf("overdue told %v", got)
	}
	if got := d.told("change.escalated", c.ID); !slices.Equal(got, []string{"netz-admin"}) {
		t.Fatalf("escalation told %v", got)
	}
	if got := recipients(d.newMail()); !slices.Equal(got, addrs("admin-hwi", "netz-admin")) {
		t.Fatalf("mailed %v", got)
	}
	// Nobody outside Wismar heard of it, in-app or by mail.
	var leaked []string
	rows, err := d.pool.Query(ctx, `SELECT DISTINCT u.username FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.change_id = $1 AND u.username NOT IN ('autor-hwi', 'pruef-hwi', 'admin-hwi', 'netz-admin')`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		leaked = append(leaked, n)
	}
	rows.Close()
	for _, m := range d.server.received() {
		for _, to := range m.To {
			if !slices.Contains(addrs("autor-hwi", "pruef-hwi", "admin-hwi", "netz-admin"), to) {
				leaked = append(leaked, to)
			}
		}
	}
	if len(leaked) != 0 {
		t.Fatalf("told about a Wismar city-only article: %v", leaked)
	}
	// The former reviewer's notification list does not show it either.
	list, err := d.wf.Notifications(ctx, d.users["pruef-hwi"], 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.ChangeID != nil && *n.ChangeID == c.ID {
			t.Fatalf("the former reviewer still sees %+v", n)
		}
	}
}

// review_days outside 1–60 is refused with a clear error, and nothing
// changes.
func TestReviewDaysValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, days := range []int{0, -3, 61, 365} {
		_, err := e.store.SetReviewPolicy(ctx, "rostock", wiki.ReviewPolicy{ReviewDays: &days}, "test")
		var inv *wiki.InvalidError
		if !errors.As(err, &inv) || inv.Field != "review_days" || inv.Key != "review_days.range" || !strings.Contains(inv.Message, "1 to 60") {
			t.Errorf("review_days %d: %v", days, err)
		}
	}
	if _, err := e.store.SetReviewPolicy(ctx, "rostock", wiki.ReviewPolicy{}, "test"); err == nil {
		t.Error("an empty policy change was accepted")
	}
	seven := 7
	city, err := e.store.SetReviewPolicy(ctx, "rostock", wiki.ReviewPolicy{ReviewDays: &seven}, "test")
	if err != nil || city.ReviewDays != 7 || city.RequiredApprovals != 1 {
		t.Fatalf("setting 7 days: %+v, %v", city, err)
	}
}

// The clock starts again when a change re-enters review: a change that
// had its reminder and went back to its author gets a new due date when
// resubmitted, and the new round's steps come on the new dates only. A
// rebased conflict gets a new due date too.
func TestReviewClockRestartsOnReentry(t *testing.T) {
	t.Parallel()
	d := newDeadlineEnv(t, 1, 4)
	ctx := context.Background()
	c := d.propose("autorin", "Erste Runde.", true)
	// The first round began three days ago.
	if _, err := d.pool.Exec(ctx, `UPDATE change_requests SET review_started_at = review_started_at - interval '3 days',
		due_at = due_at - interval '3 days' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if n := d.run(now); n != 1 || len(d.told("change.reminder", c.ID)) != 4 {
		t.Fatalf("first round at three of four days: %d steps, reminded %v", n, d.told("change.reminder", c.ID))
	}
	d.must(d.wf.RequestChanges(ctx, d.meta("pruefer1"), c.ID, "Bitte Quellen ergänzen.", 0))
	if _, err := d.wf.Submit(ctx, d.meta("autorin"), c.ID, "Ergänzt."); err != nil {
		t.Fatal(err)
	}
	again := d.must(d.wf.Get(ctx, d.users["autorin"], c.ID))
	if again.DueAt == nil || again.DueAt.Sub(now) < 4*24*time.Hour-time.Minute {
		t.Fatalf("resubmitted: due %v, want four days from now", again.DueAt)
	}
	// The old round's overdue date passes: nothing for the new round yet.
	if n := d.run(now.Add(24 * time.Hour)); n != 0 {
		t.Fatalf("a day into the new round: %d steps", n)
	}
	if n := d.run(again.DueAt.Add(-2 * 24 * time.Hour)); n != 1 || len(d.told("change.reminder", c.ID)) != 8 {
		t.Fatalf("half of the new round: %d steps, reminders %v", n, d.told("change.reminder", c.ID))
	}
	steps, err := d.wf.DeadlineSteps(ctx, c.ID)
	if err != nil || len(steps) != 2 || steps[0].DueAt.Equal(steps[1].DueAt) {
		t.Fatalf("two rounds' reminders: %+v, %v", steps, err)
	}

	// A conflict shows no due date; its rebase gets a new one.
	conflict := d.inState(workflow.Conflict)
	if conflict.DueAt != nil {
		t.Fatalf("a change in conflict shows a due date %v", conflict.DueAt)
	}
	cur := d.current("warnow-pegel")
	dr := cur.Revision.Draft()
	dr.Body = "Zweite, neu aufgesetzt"
	rebased := d.must(d.wf.Update(ctx, d.meta("autorin"), conflict.ID, dr, cur.Revision.ID))
	if rebased.State != workflow.InReview || rebased.DueAt == nil || rebased.DueAt.Before(time.Now().Add(4*24*time.Hour-time.Minute)) {
		t.Fatalf("rebased: %s, due %v", rebased.State, rebased.DueAt)
	}
}
