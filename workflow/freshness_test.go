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

// publishNew has author propose a new article in city and a reviewer of
// the city publish it.
func (e *env) publishNew(author, reviewer, city, title string, vis wiki.Visibility, topics ...string) *wiki.Article {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.wf.Create(ctx, e.meta(author), workflow.Proposal{Draft: wiki.Draft{City: city, Title: title, Body: "Stand heute.",
		Visibility: vis, Topics: topics}, Submit: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(e.wf.Approve(ctx, e.meta(reviewer), c.ID, "", 0))
	a, err := e.store.Article(ctx, wiki.Reader{Member: true, Cities: []string{"*"}}, city, c.Slug)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// run does the periodic work as of asOf and says what the named job did.
func (e *env) run(name string, asOf time.Time) int {
	e.t.Helper()
	reports, err := e.wf.RunJobs(context.Background(), asOf, true)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range reports {
		if r.Name == name {
			if r.Err != nil {
				e.t.Fatalf("job %s: %v", name, r.Err)
			}
			return r.Done
		}
	}
	e.t.Fatalf("no job %s in %+v", name, reports)
	return 0
}

func (e *env) addUser(name string, grants ...[2]string) {
	e.t.Helper()
	ctx := context.Background()
	var uid int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id`, name).Scan(&uid); err != nil {
		e.t.Fatal(err)
	}
	for _, g := range grants {
		if err := e.auth.Grant(ctx, name, g[0], g[1], "test"); err != nil {
			e.t.Fatal(err)
		}
	}
	id, err := e.auth.IdentityByID(ctx, uid)
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[name] = id
}

// quietSample gives the sample article its own interval of two years, so
// only the articles a test publishes become due.
func (e *env) quietSample() {
	e.t.Helper()
	months := 24
	f, err := e.wf.SetStewards(context.Background(), e.meta("admin-hro"), "rostock", "warnow-pegel", workflow.Stewards{ReviewMonths: &months})
	if err != nil || f.ReviewMonths != 24 || f.CityDefault {
		e.t.Fatalf("an article's own interval: %v %+v", err, f)
	}
}

func (e *env) auditCount(action, object string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1 AND object = $2`, action, object).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// fresh drains the queue and returns how many messages the server has, so
// a test looks only at what came after.
func fresh(t testing.TB, m *workflow.Mailer, ms *mailServer) int {
	t.Helper()
	drain(t, m)
	return len(ms.received())
}

func (e *env) notified(user, kind string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE u.username = $1 AND n.kind = $2`, user, kind).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// An article's owner (its first author) and deputy are asked once per due
// period whether it is still right, by notification and real e-mail;
// confirming is an audited event without a new revision that moves the
// next due date; overdue by more than a month it is stale and listed.
func TestFreshnessAsksOwnerAndDeputyOnce(t *testing.T) {
	e := newEnv(t)
	ms := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, ms.port())
	mailer := e.wf.Mailer(quiet)
	ctx := context.Background()
	e.addUser("admin-hwi", [2]string{"admin", "wismar"})
	e.quietSample()

	a := e.publishNew("autorin", "pruefer1", "rostock", "Quartiersbus Evershagen", wiki.Public)
	f, err := e.wf.ArticleFreshness(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Owner != "autorin" || f.ReviewMonths != 12 || !f.CityDefault {
		t.Fatalf("a new article: owner %q, %d months (city default %v); want its author, 12, true", f.Owner, f.ReviewMonths, f.CityDefault)
	}
	if want := a.UpdatedAt.AddDate(0, 12, 0); !f.DueAt.Equal(want) {
		t.Fatalf("due %v, want a year after publication %v", f.DueAt, want)
	}

	// Only the city's admins name owner and deputy.
	deputy := "pruefer2"
	if _, err := e.wf.SetStewards(ctx, e.meta("admin-hwi"), "rostock", a.Slug, workflow.Stewards{Deputy: &deputy}); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("another city's admin names a deputy: %v, want ErrForbidden", err)
	}
	if _, err := e.wf.SetStewards(ctx, e.meta("autorin"), "rostock", a.Slug, workflow.Stewards{Deputy: &deputy}); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("the owner names a deputy: %v, want ErrForbidden", err)
	}
	outsider := "autor-hwi"
	if _, err := e.wf.SetStewards(ctx, e.meta("admin-hro"), "rostock", a.Slug, workflow.Stewards{Deputy: &outsider}); !errors.Is(err, wiki.ErrInvalid) {
		t.Fatalf("a deputy without a role in the city: %v, want ErrInvalid", err)
	}
	if f, err = e.wf.SetStewards(ctx, e.meta("admin-hro"), "rostock", a.Slug, workflow.Stewards{Deputy: &deputy}); err != nil || f.Deputy != "pruefer2" {
		t.Fatalf("naming the deputy: %v %+v", err, f)
	}

	due := f.DueAt
	base := fresh(t, mailer, ms)
	if n := e.run("freshness", due.Add(-time.Hour)); n != 0 {
		t.Fatalf("an hour before the due date %d articles were asked about", n)
	}
	if got := fresh(t, mailer, ms) - base; got != 0 {
		t.Fatalf("%d mails before the due date", got)
	}
	if n := e.run("freshness", due.Add(time.Hour)); n != 1 {
		t.Fatalf("at the due date %d articles asked about, want 1", n)
	}
	drain(t, mailer)
	msgs := ms.received()[base:]
	if to := recipients(msgs); !slices.Equal(to, []string{"autorin@example.org", "pruefer2@example.org"}) {
		t.Fatalf("asked %v, want owner and deputy", to)
	}
	for _, m := range msgs {
		if !strings.Contains(m.Subject, "Ist dieser Artikel noch aktuell?") || !strings.Contains(m.Body, "/c/rostock/"+a.Slug) {
			t.Errorf("mail %q does not ask about the article:\n%s", m.Subject, m.Body)
		}
	}
	if e.notified("autorin", "freshness.reminder") != 1 || e.notified("pruefer2", "freshness.reminder") != 1 {
		t.Error("owner and deputy were not asked in the app")
	}
	// The same moment again, or later in the same period: nobody asked twice.
	if n := e.run("freshness", due.Add(time.Hour)); n != 0 {
		t.Fatalf("running again asked about %d articles", n)
	}
	if n := e.run("freshness", due.Add(48*time.Hour)); n != 0 {
		t.Fatalf("two days later %d articles asked about again", n)
	}
	if n := fresh(t, mailer, ms) - base; n != 2 {
		t.Fatalf("%d mails, want the 2 of the first request", n)
	}

	// A member who is neither owner, deputy nor city admin cannot confirm.
	for _, who := range []string{"mitglied", "autor-hwi", "admin-hwi", "pruefer1"} {
		if _, err := e.wf.Confirm(ctx, e.meta(who), "rostock", a.Slug); !errors.Is(err, wiki.ErrForbidden) {
			t.Errorf("%s confirms: %v, want ErrForbidden", who, err)
		}
	}
	var revisions int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM revisions WHERE article_id = $1`, a.ID).Scan(&revisions)
	confirmed, err := e.wf.Confirm(ctx, e.meta("pruefer2"), "rostock", a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	var after int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM revisions WHERE article_id = $1`, a.ID).Scan(&after)
	if after != revisions {
		t.Errorf("confirming wrote a revision (%d → %d)", revisions, after)
	}
	if e.auditCount("article.confirm", "article:rostock/"+a.Slug) != 1 {
		t.Error("the confirmation is not in the audit log")
	}
	if confirmed.ConfirmedAt == nil || confirmed.ConfirmedBy != "pruefer2" || !confirmed.DueAt.After(due) {
		t.Fatalf("after confirming: %+v; want confirmed by pruefer2 and due after %v", confirmed, due)
	}

	// Overdue by more than a month: stale, listed for the city's people.
	next := confirmed.DueAt
	if n := e.run("freshness", next.AddDate(0, 1, 1)); n != 2 { // stale, and asked for the new period
		t.Fatalf("a month after the next due date %d done, want 2 (marked stale, asked)", n)
	}
	list, err := e.wf.StaleArticles(ctx, e.users["pruefer1"], "rostock")
	if err != nil || len(list) != 1 || list[0].Slug != a.Slug || list[0].Owner != "autorin" {
		t.Fatalf("freshness list: %v %+v", err, list)
	}
	if _, err := e.wf.StaleArticles(ctx, e.users["autor-hwi"], "rostock"); !errors.Is(err, wiki.ErrForbidden) {
		t.Errorf("another city's author reads the freshness list: %v", err)
	}
	// Confirming ends it.
	if _, err := e.wf.Confirm(ctx, e.meta("autorin"), "rostock", a.Slug); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.wf.StaleArticles(ctx, e.users["pruefer1"], "rostock"); len(list) != 0 {
		t.Errorf("a confirmed article is still listed: %+v", list)
	}
}

// Disabling an account hands its articles to their deputy, and without
// one to the city's admins, in the same transaction, audited, and told.
func TestDisablingHandsArticlesOver(t *testing.T) {
	e := newEnv(t)
	ms := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, ms.port())
	mailer := e.wf.Mailer(quiet)
	ctx := context.Background()
	e.quietSample()
	withDeputy := e.publishNew("autorin", "pruefer1", "rostock", "Bürgerhaushalt digital", wiki.Network)
	alone := e.publishNew("autorin", "pruefer1", "rostock", "Parkraum-Sensoren", wiki.CityVis)
	deputy := "pruefer2"
	if _, err := e.wf.SetStewards(ctx, e.meta("admin-hro"), "rostock", withDeputy.Slug, workflow.Stewards{Deputy: &deputy}); err != nil {
		t.Fatal(err)
	}
	base := fresh(t, mailer, ms)
	if err := e.auth.SetDisabled(ctx, "autorin", true, "admin-hro"); err != nil {
		t.Fatal(err)
	}
	f1, _ := e.wf.ArticleFreshness(ctx, withDeputy.ID)
	f2, _ := e.wf.ArticleFreshness(ctx, alone.ID)
	if f1.Owner != "pruefer2" || f1.Deputy != "" {
		t.Errorf("with a deputy: owner %q, deputy %q; want the deputy as owner", f1.Owner, f1.Deputy)
	}
	if f2.Owner != "" {
		t.Errorf("without a deputy: owner %q; want the city's admins", f2.Owner)
	}
	for _, slug := range []string{withDeputy.Slug, alone.Slug} {
		if e.auditCount("article.handover", "article:rostock/"+slug) != 1 {
			t.Errorf("the handover of %s is not audited", slug)
		}
	}
	if e.notified("pruefer2", "article.handover") != 1 || e.notified("admin-hro", "article.handover") != 1 {
		t.Error("the new owners were not told")
	}
	drain(t, mailer)
	if to := recipients(ms.received()[base:]); !slices.Equal(to, []string{"admin-hro@example.org", "pruefer2@example.org"}) {
		t.Errorf("handover mails went to %v", to)
	}
	// When it is due, the city's admins are asked about what they own.
	if n := e.run("freshness", f2.DueAt.Add(time.Hour)); n != 2 {
		t.Fatalf("%d asked, want both articles", n)
	}
	if e.notified("admin-hro", "freshness.reminder") != 1 || e.notified("autorin", "freshness.reminder") != 0 {
		t.Error("the city's admins were not asked, or the disabled account was")
	}
	// A refused disable (oneself) hands nothing over.
	if err := e.auth.SetDisabled(ctx, "pruefer2", true, "pruefer2"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("disabling oneself: %v", err)
	}
	if f1, _ = e.wf.ArticleFreshness(ctx, withDeputy.ID); f1.Owner != "pruefer2" {
		t.Errorf("a refused disable moved the article to %q", f1.Owner)
	}
}

// The weekly digest: an opted-in member gets one mail per ISO week listing
// what was published in what they follow, only what they may read; an
// opted-out member gets none.
func TestWeeklyDigest(t *testing.T) {
	e := newEnv(t)
	ms := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, ms.port())
	mailer := e.wf.Mailer(quiet)
	ctx := context.Background()
	if err := e.wf.WatchTopic(ctx, e.users["autor-hwi"], "wasser-umwelt", true); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.WatchTopic(ctx, e.users["pruef-hwi"], "wasser-umwelt", true); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.SetDigest(ctx, e.meta("autor-hwi"), true); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.wf.Digest(ctx, e.users["autor-hwi"]); !on {
		t.Fatal("opting in did not hold")
	}
	// pruef-hwi follows the same topic but opts out again.
	if err := e.wf.SetDigest(ctx, e.meta("pruef-hwi"), true); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.SetDigest(ctx, e.meta("pruef-hwi"), false); err != nil {
		t.Fatal(err)
	}
	e.publishNew("autorin", "pruefer1", "rostock", "Regenwasser im Stadtpark", wiki.Public, "wasser-umwelt")
	e.publishNew("autorin", "pruefer1", "rostock", "Interne Pegelwarnung", wiki.CityVis, "wasser-umwelt")
	e.publishNew("autor-hwi", "pruef-hwi", "wismar", "Hafenbecken-Sensorik", wiki.CityVis)
	e.publishNew("autorin", "pruefer1", "rostock", "Schulwegplanung", wiki.Public, "mobilitaet")

	base := fresh(t, mailer, ms)
	asOf := time.Now().Add(24 * time.Hour)
	if asOf.UTC().Weekday() == time.Sunday { // a few hours later must be the same ISO week
		asOf = asOf.Add(24 * time.Hour)
	}
	if n := e.run("digest", asOf); n != 1 {
		t.Fatalf("%d digests sent, want 1 (the opted-in member)", n)
	}
	drain(t, mailer)
	msgs := ms.received()[base:]
	if len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"autor-hwi@example.org"}) {
		t.Fatalf("digests to %v", recipients(msgs))
	}
	body := msgs[0].Body
	if !strings.Contains(msgs[0].Subject, "Diese Woche in der Smarten Hanse") {
		t.Errorf("subject %q", msgs[0].Subject)
	}
	for _, want := range []string{"Regenwasser im Stadtpark", "Hafenbecken-Sensorik"} {
		if !strings.Contains(body, want) {
			t.Errorf("the digest misses %q:\n%s", want, body)
		}
	}
	for _, never := range []string{"Interne Pegelwarnung", "Schulwegplanung"} {
		if strings.Contains(body, never) {
			t.Errorf("the digest lists %q (unreadable or not followed):\n%s", never, body)
		}
	}
	if n := e.run("digest", asOf); n != 0 {
		t.Fatalf("the same week again sent %d digests", n)
	}
	// A member without any role who watches Rostock gets its public and
	// network publications, never its city-only ones.
	if err := e.wf.WatchCity(ctx, e.users["mitglied"], "rostock", true); err != nil {
		t.Fatal(err)
	}
	if err := e.wf.SetDigest(ctx, e.meta("mitglied"), true); err != nil {
		t.Fatal(err)
	}
	base = len(ms.received())
	if n := e.run("digest", asOf.Add(30*time.Minute)); n != 1 {
		t.Fatalf("the city watcher: %d digests, want 1", n)
	}
	drain(t, mailer)
	if msgs := ms.received()[base:]; len(msgs) != 1 || !strings.Contains(msgs[0].Body, "Schulwegplanung") ||
		!strings.Contains(msgs[0].Body, "Regenwasser im Stadtpark") || strings.Contains(msgs[0].Body, "Interne Pegelwarnung") {
		t.Errorf("the city watcher's digest: %v", msgs)
	}
	// Opting in later in the week: the next digest comes next week.
	if err := e.wf.SetDigest(ctx, e.meta("pruef-hwi"), true); err != nil {
		t.Fatal(err)
	}
	e.publishNew("autorin", "pruefer1", "rostock", "Regenwasser, zweiter Teil", wiki.Public, "wasser-umwelt")
	if n := e.run("digest", asOf.Add(time.Hour)); n != 1 {
		t.Fatalf("a member who opted in during the week: %d digests, want 1", n)
	}
	if n := e.run("digest", asOf.Add(2*time.Hour)); n != 0 {
		t.Fatalf("later that week: %d digests", n)
	}
	// A week later nothing new was published: nothing is sent.
	if n := e.run("digest", asOf.AddDate(0, 0, 9)); n != 0 {
		t.Fatalf("a week without news sent %d digests", n)
	}
}

// A freshness reminder honours absences like every reminder: an absent
// owner is not asked, their deputy for the absence is.
func TestAbsentOwnerIsNotAskedButTheAbsenceDeputyIs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.quietSample()
	a := e.publishNew("autorin", "pruefer1", "rostock", "Sirenen-Netz", wiki.Public)
	owner, months := "pruefer1", 1
	f, err := e.wf.SetStewards(ctx, e.meta("admin-hro"), "rostock", a.Slug, workflow.Stewards{Owner: &owner, ReviewMonths: &months})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{From: day(25), To: day(40), Deputy: "pruefer3"}); err != nil {
		t.Fatal(err)
	}
	if n := e.run("freshness", f.DueAt.Add(time.Hour)); n != 1 {
		t.Fatalf("%d asked, want 1", n)
	}
	if e.notified("pruefer1", "freshness.reminder") != 0 || e.notified("pruefer3", "freshness.reminder") != 1 {
		t.Errorf("absent owner asked %d times, absence deputy %d times; want 0 and 1",
			e.notified("pruefer1", "freshness.reminder"), e.notified("pruefer3", "freshness.reminder"))
	}
}
