package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// day is today (Europe/Berlin) moved by n days, written as a form does.
func day(n int) string { return auth.Day(time.Now()).AddDate(0, 0, n).Format(time.DateOnly) }

// noonOf is noon in Berlin of today moved by n days: an as-of time.
func noonOf(n int) time.Time {
	d := auth.Day(time.Now()).AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, auth.Berlin)
}

// kinds lists the user's notifications as "kind" or "kind (for NAME)".
func (e *env) kinds(user string) []string {
	e.t.Helper()
	list, err := e.wf.Notifications(context.Background(), e.users[user], 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, n := range list {
		k := n.Kind
		if n.DeputyFor != "" {
			k += " (for " + n.DeputyFor + ")"
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// mailsTo are the messages delivered to addr whose subject contains word.
func mailsTo(ms *mailServer, addr, word string) []delivered {
	var out []delivered
	for _, m := range ms.received() {
		if slices.Contains(m.To, addr) && strings.Contains(m.Subject, word) {
			out = append(out, m)
		}
	}
	return out
}

// publish proposes a change of the Rostock article and has pruefer3
// approve it, so its watchers are told.
func (e *env) publish(body string) *workflow.Change {
	e.t.Helper()
	c := e.propose("autorin", body, true)
	return e.must(e.wf.Approve(context.Background(), e.meta("pruefer3"), c.ID, "", 0))
}

// While pruefer1 is absent, pruefer2 (their deputy) also receives what
// reaches pruefer1 — here: the publication of an article pruefer1 watches,
// in the app and as a real e-mail; before the absence begins, nothing.
func TestDeputyReceivesAbsentReviewersNotificationsOnlyDuringTheAbsence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ms := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, ms.port())
	mailer := e.wf.Mailer(quiet)
	if err := e.wf.Watch(ctx, e.users["pruefer1"], "rostock", "warnow-pegel", true); err != nil {
		t.Fatal(err)
	}
	later, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{From: day(10), To: day(12), Deputy: "pruefer2"})
	if err != nil {
		t.Fatal(err)
	}
	if later.City != "rostock" || later.Current || later.Deputy != "pruefer2" {
		t.Fatalf("absence = %+v", later)
	}

	e.publish("Vor der Abwesenheit")
	drain(t, mailer)
	if got := e.kinds("pruefer2"); slices.ContainsFunc(got, func(k string) bool { return strings.Contains(k, "for") }) {
		t.Errorf("before the absence the deputy got %v", got)
	}
	if got := mailsTo(ms, "pruefer2@example.org", "Veröffentlicht"); len(got) != 0 {
		t.Errorf("before the absence the deputy got %d publication mails", len(got))
	}

	now, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{City: "rostock", From: day(-1), To: day(1), Deputy: "pruefer2"})
	if err != nil {
		t.Fatal(err)
	}
	if !now.Current {
		t.Errorf("an absence from yesterday to tomorrow is not current: %+v", now)
	}
	e.publish("Während der Abwesenheit")
	drain(t, mailer)
	if got := e.kinds("pruefer1"); count(got, "change.published") != 2 {
		t.Errorf("the absent reviewer still gets their notifications: %v", got)
	}
	if got := e.kinds("pruefer2"); count(got, "change.published (for pruefer1)") != 1 || count(got, "change.published") != 0 {
		t.Errorf("deputy's notifications = %v, want one publication for pruefer1", got)
	}
	mails := mailsTo(ms, "pruefer2@example.org", "Veröffentlicht")
	if len(mails) != 1 || !strings.Contains(mails[0].Body, "als Vertretung für pruefer1") || !strings.Contains(mails[0].Body, "/changes/") {
		t.Fatalf("deputy's publication mails = %+v", mails)
	}
	if len(mailsTo(ms, "pruefer1@example.org", "Veröffentlicht")) != 2 {
		t.Error("the absent reviewer's own mail is missing")
	}
	// The deputy sees the absence among those they stand in for.
	_, standing, err := e.wf.Absences(ctx, e.users["pruefer2"])
	if err != nil || len(standing) != 2 || standing[0].User != "pruefer1" {
		t.Errorf("pruefer2 stands in for %+v (%v)", standing, err)
	}

	// Cancelled, the absence forwards nothing any more; both are audited.
	if err := e.wf.DeleteAbsence(ctx, e.meta("pruefer1"), now.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.DeleteAbsence(ctx, e.meta("pruefer2"), later.ID); !errors.Is(err, wiki.ErrNotFound) {
		t.Errorf("the deputy cancelled someone else's absence: %v", err)
	}
	e.publish("Nach der Abwesenheit")
	if got := e.kinds("pruefer2"); count(got, "change.published (for pruefer1)") != 1 {
		t.Errorf("after the absence the deputy got %v", got)
	}
	var added, deleted int
	e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'absence.add'), count(*) FILTER (WHERE action = 'absence.delete')
		FROM audit_events WHERE object = 'user:pruefer1' AND actor = 'pruefer1'`).Scan(&added, &deleted)
	if added != 2 || deleted != 1 {
		t.Errorf("audited %d recorded and %d cancelled absences, want 2 and 1", added, deleted)
	}
}

// A reminder (the reminder kind) is not sent to an absent reviewer; their
// deputy gets it instead, as of the job's as-of time — and only then.
func TestAbsentReviewerIsNotRemindedButTheDeputyIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ms := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, ms.port())
	mailer := e.wf.Mailer(quiet)
	if !workflow.IsReminder("change.reminder") || workflow.IsReminder("change.submitted") {
		t.Fatal("the reminder kind is not recognised")
	}
	if _, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{From: day(10), To: day(12), Deputy: "pruefer2"}); err != nil {
		t.Fatal(err)
	}
	// A long review period keeps the real deadline job quiet here: this
	// test sends its own reminder (TestDeadlineReminderSkipsTheAbsentReviewer
	// has the real one).
	if _, err := e.pool.Exec(ctx, `UPDATE cities SET review_days = 60 WHERE slug = 'rostock'`); err != nil {
		t.Fatal(err)
	}
	c := e.propose("autorin", "Wartet auf Prüfung", true)
	// Periodic work reminds pruefer1 of the change, as reminders do.
	e.wf.RegisterJob("test.remind", func(ctx context.Context, asOf time.Time) (int, error) {
		return 1, e.wf.NotifyForTest(ctx, "change.reminder", c.ID, []int64{e.users["pruefer1"].UserID})
	})
	run := func(asOf time.Time) {
		t.Helper()
		reports, err := e.wf.RunJobs(ctx, asOf, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Name, r.Err)
			}
		}
		drain(t, mailer)
	}

	run(noonOf(11)) // during the absence
	if got := e.kinds("pruefer1"); count(got, "change.reminder") != 0 {
		t.Errorf("the absent reviewer was reminded: %v", got)
	}
	if got := e.kinds("pruefer2"); count(got, "change.reminder (for pruefer1)") != 1 {
		t.Errorf("the deputy was not reminded instead: %v", got)
	}
	if n := len(mailsTo(ms, "pruefer1@example.org", "")) - len(mailsTo(ms, "pruefer1@example.org", "Neue Änderung")); n != 0 {
		t.Errorf("the absent reviewer got %d reminder mails", n)
	}
	reminders := func(addr string) int {
		n := 0
		for _, m := range ms.received() {
			if slices.Contains(m.To, addr) && !strings.Contains(m.Subject, "Neue Änderung") {
				n++
			}
		}
		return n
	}
	if reminders("pruefer2@example.org") != 1 {
		t.Errorf("the deputy got %d reminder mails, want 1", reminders("pruefer2@example.org"))
	}

	run(noonOf(13)) // the absence is over
	if got := e.kinds("pruefer1"); count(got, "change.reminder") != 1 {
		t.Errorf("after the absence the reviewer was not reminded: %v", got)
	}
	if got := e.kinds("pruefer2"); count(got, "change.reminder (for pruefer1)") != 1 || count(got, "change.reminder") != 0 {
		t.Errorf("after the absence the deputy was reminded again: %v", got)
	}
	if reminders("pruefer1@example.org") != 1 || reminders("pruefer2@example.org") != 1 {
		t.Errorf("reminder mails: reviewer %d, deputy %d; want 1 and 1", reminders("pruefer1@example.org"), reminders("pruefer2@example.org"))
	}
}

// The deputy must review in the absence's city: one of another city, a
// member, an author or the reviewer themselves is refused; only reviewers
// record absences, in their cities, one at a time.
func TestDeputyOfAnotherCityOrNonReviewerIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	key := func(err error) string {
		var inv *wiki.InvalidError
		if errors.As(err, &inv) {
			return inv.Key
		}
		if err == nil {
			return "accepted"
		}
		return err.Error()
	}
	for _, c := range []struct {
		who  string
		in   workflow.AbsenceInput
		want string
	}{
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "pruef-hwi"}, "absence.deputy_not_reviewer"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "autorin"}, "absence.deputy_not_reviewer"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "mitglied"}, "absence.deputy_not_reviewer"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "pruefer1"}, "absence.deputy_self"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "niemand"}, "absence.deputy_unknown"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: ""}, "absence.deputy_missing"},
		{"pruefer1", workflow.AbsenceInput{City: "wismar", From: day(1), To: day(3), Deputy: "pruef-hwi"}, "absence.city"},
		{"pruefer1", workflow.AbsenceInput{From: day(3), To: day(1), Deputy: "pruefer2"}, "absence.order"},
		{"pruefer1", workflow.AbsenceInput{From: day(-5), To: day(-1), Deputy: "pruefer2"}, "absence.past"},
		{"pruefer1", workflow.AbsenceInput{From: "morgen", To: day(1), Deputy: "pruefer2"}, "absence.date"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(400), Deputy: "pruefer2"}, "absence.too_long"},
		{"pruef-hwi", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "pruefer2"}, "absence.deputy_not_reviewer"},
		{"pruefer1", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "Pruefer2"}, "accepted"},
		{"pruefer1", workflow.AbsenceInput{From: day(3), To: day(5), Deputy: "pruefer3"}, "absence.overlap"},
		{"admin-hro", workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "pruefer3"}, "accepted"}, // city admins review
	} {
		_, err := e.wf.AddAbsence(ctx, e.meta(c.who), c.in)
		if got := key(err); got != c.want {
			t.Errorf("%s records %+v: %s, want %s", c.who, c.in, got, c.want)
		}
	}
	if _, err := e.wf.AddAbsence(ctx, e.meta("autorin"), workflow.AbsenceInput{From: day(1), To: day(3), Deputy: "pruefer2"}); !errors.Is(err, wiki.ErrForbidden) {
		t.Errorf("an author recorded an absence: %v", err)
	}
}

// A deputy who no longer reviews in the city (their role was revoked
// since) is told nothing, and above all nothing about a city-only article
// they may not read.
func TestDeputyIsNeverToldWhatTheyMayNotRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.ImportAll(ctx, []wiki.ImportItem{{Source: "y", Draft: wiki.Draft{City: "rostock", Title: "Interne Liste",
		Body: "Nur Rostock", Visibility: wiki.CityVis}}}, wiki.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.Watch(ctx, e.users["pruefer1"], "rostock", "interne-liste", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{From: day(0), To: day(2), Deputy: "pruefer2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Revoke(ctx, "pruefer2", "reviewer", "rostock", "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Grant(ctx, "pruefer2", "reviewer", "wismar", "test"); err != nil {
		t.Fatal(err)
	}
	a, err := e.store.Article(ctx, wiki.Reader{Member: true, Cities: []string{"*"}}, "rostock", "interne-liste")
	if err != nil {
		t.Fatal(err)
	}
	d := a.Revision.Draft()
	d.Body = "Neue Fassung"
	c, err := e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true})
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.wf.Approve(ctx, e.meta("pruefer3"), c.ID, "", 0))
	if got := e.kinds("pruefer1"); count(got, "change.published") != 1 {
		t.Errorf("the watcher was not told: %v", got)
	}
	var n int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'pruefer2'`).Scan(&n)
	if n != 0 {
		t.Errorf("the former deputy got %d notifications about a city-only article", n)
	}
}
