package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/workflow"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	t     testing.TB
	pool  *pgxpool.Pool
	store *wiki.Store
	auth  *auth.Service
	wf    *workflow.Service
	users map[string]*auth.Identity
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newEnv: a database with one public article in Rostock and people with
// roles. Accounts are inserted directly: argon2id hashing would only slow
// the tests down, and logins are not what they test.
func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	e := &env{t: t, pool: pool, store: wiki.NewStore(pool, markdown.New()), users: map[string]*auth.Identity{}}
	roles := map[string][][2]string{
		"autorin":   {{"author", "rostock"}},
		"autor-hwi": {{"author", "wismar"}},
		"pruefer1":  {{"reviewer", "rostock"}},
		"pruefer2":  {{"reviewer", "rostock"}},
		"pruefer3":  {{"reviewer", "rostock"}},
		"pruef-hwi": {{"reviewer", "wismar"}},
		"admin-hro": {{"admin", "rostock"}},
		"mitglied":  nil,
	}
	for name, grants := range roles {
		if _, err := pool.Exec(ctx, `INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org')`, name); err != nil {
			t.Fatal(err)
		}
		for _, g := range grants {
			if _, err := pool.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3)`, name, g[0], g[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var err error
	if e.auth, err = auth.NewService(ctx, pool, auth.Options{Log: quiet}); err != nil {
		t.Fatal(err)
	}
	for name := range roles {
		var uid int64
		pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, name).Scan(&uid)
		if e.users[name], err = e.auth.IdentityByID(ctx, uid); err != nil {
			t.Fatal(err)
		}
	}
	e.wf = workflow.NewService(e.store, e.auth, quiet)
	_, err = e.store.ImportAll(ctx, []wiki.ImportItem{{Source: "x", Draft: wiki.Draft{City: "rostock", Title: "Warnow-Pegel",
		Body: "Version 1", Visibility: wiki.Public, Topics: []string{"wasser-umwelt"}}}}, wiki.ImportOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) meta(user string) workflow.Meta {
	return workflow.Meta{Identity: e.users[user], Addr: "192.0.2.10"}
}

func (e *env) current(slug string) *wiki.Article {
	e.t.Helper()
	a, err := e.store.Article(context.Background(), wiki.Reader{Member: true, Cities: []string{"*"}}, "rostock", slug)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// propose creates a change to the Rostock article from its current revision.
func (e *env) propose(user, body string, submit bool) *workflow.Change {
	e.t.Helper()
	a := e.current("warnow-pegel")
	d := a.Revision.Draft()
	d.Body = body
	c, err := e.wf.Create(context.Background(), e.meta(user), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: submit})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) must(c *workflow.Change, err error) *workflow.Change {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// inState makes a change that is in state st.
func (e *env) inState(st workflow.State) *workflow.Change {
	ctx := context.Background()
	switch st {
	case workflow.Draft:
		return e.propose("autorin", "Entwurf", false)
	case workflow.InReview:
		return e.propose("autorin", "In Prüfung", true)
	case workflow.ChangesRequested:
		c := e.propose("autorin", "Überarbeiten", true)
		return e.must(e.wf.RequestChanges(ctx, e.meta("pruefer1"), c.ID, "Bitte Quellen ergänzen", 0))
	case workflow.Rejected:
		c := e.propose("autorin", "Abgelehnt", true)
		return e.must(e.wf.Reject(ctx, e.meta("pruefer1"), c.ID, "Doppelt", 0))
	case workflow.Withdrawn:
		c := e.propose("autorin", "Zurückgezogen", false)
		return e.must(e.wf.Withdraw(ctx, e.meta("autorin"), c.ID, ""))
	case workflow.Published:
		c := e.propose("autorin", "Veröffentlicht", true)
		return e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))
	case workflow.Conflict:
		first := e.propose("autor-hwi", "Erste", true)
		second := e.propose("autorin", "Zweite", true)
		e.must(e.wf.Approve(ctx, e.meta("pruefer1"), first.ID, "", 0))
		return e.must(e.wf.Approve(ctx, e.meta("pruefer1"), second.ID, "", 0))
	}
	panic(st)
}

// The specification's transitions, written out independently of the code:
// which action is allowed in which state.
var specAllows = map[workflow.Action]map[workflow.State]bool{
	workflow.ActSubmit:         {workflow.Draft: true, workflow.ChangesRequested: true},
	workflow.ActApprove:        {workflow.InReview: true},
	workflow.ActRequestChanges: {workflow.InReview: true},
	workflow.ActReject:         {workflow.InReview: true},
	workflow.ActWithdraw:       {workflow.Draft: true, workflow.InReview: true, workflow.ChangesRequested: true, workflow.Conflict: true},
	workflow.ActUpdate:         {workflow.Draft: true, workflow.ChangesRequested: true, workflow.Conflict: true},
}

// Every state × every action × every role: allowed, refused for the role
// (ErrForbidden → 403), or refused for the state (StateError → 409).
func TestStateMachine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	authorActs := map[workflow.Action]bool{workflow.ActSubmit: true, workflow.ActWithdraw: true, workflow.ActUpdate: true}
	mayReview := map[string]bool{"pruefer1": true, "admin-hro": true}
	sees := map[string]bool{"autorin": true, "pruefer1": true, "admin-hro": true}
	actors := []string{"autorin", "pruefer1", "admin-hro", "pruef-hwi", "autor-hwi", "mitglied"}
	for _, st := range workflow.States {
		for action := range specAllows {
			for _, actor := range actors {
				t.Run(fmt.Sprintf("%s/%s/%s", st, action, actor), func(t *testing.T) {
					c := e.inState(st)
					if c.State != st {
						t.Fatalf("set-up made a %s change, want %s", c.State, st)
					}
					m := e.meta(actor)
					var err error
					switch action {
					case workflow.ActSubmit:
						_, err = e.wf.Submit(ctx, m, c.ID, "")
					case workflow.ActApprove:
						_, err = e.wf.Approve(ctx, m, c.ID, "", 0)
					case workflow.ActRequestChanges:
						_, err = e.wf.RequestChanges(ctx, m, c.ID, "Bitte ändern", 0)
					case workflow.ActReject:
						_, err = e.wf.Reject(ctx, m, c.ID, "Nein", 0)
					case workflow.ActWithdraw:
						_, err = e.wf.Withdraw(ctx, m, c.ID, "")
					case workflow.ActUpdate:
						d := wiki.Draft{Title: "Warnow-Pegel", Body: "Neu", Visibility: wiki.Public}
						_, err = e.wf.Update(ctx, m, c.ID, d, e.current("warnow-pegel").Revision.ID)
					}
					roleOK := authorActs[action] && actor == "autorin" || !authorActs[action] && mayReview[actor]
					var se *workflow.StateError
					switch {
					case !roleOK && !sees[actor]:
						// Those who may not see the change learn nothing of it.
						if !errors.Is(err, wiki.ErrNotFound) {
							t.Errorf("err = %v, want not found", err)
						}
					case !roleOK:
						if !errors.Is(err, wiki.ErrForbidden) {
							t.Errorf("err = %v, want forbidden", err)
						}
					case !specAllows[action][st]:
						if !errors.As(err, &se) || se.State != st || !errors.Is(err, wiki.ErrConflict) {
							t.Errorf("err = %v, want a conflict naming state %s", err, st)
						}
					case err != nil:
						t.Errorf("allowed transition failed: %v", err)
					}
				})
			}
		}
	}
}

func TestFourEyesQuorumAndPolicyInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// An admin who authored a change cannot approve it.
	own := e.must(e.wf.Create(ctx, e.meta("admin-hro"), workflow.Proposal{Draft: wiki.Draft{City: "rostock", Title: "Eigenes", Body: "x"}, Submit: true}))
	if _, err := e.wf.Approve(ctx, e.meta("admin-hro"), own.ID, "", 0); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := e.store.SetRequiredApprovals(ctx, "rostock", 2, "test"); err != nil {
		t.Fatal(err)
	}
	c := e.propose("autorin", "Zwei Freigaben", true)
	if *c.RequiredApprovals != 2 {
		t.Fatalf("policy at submission = %v", *c.RequiredApprovals)
	}
	// Lowering the policy now does not change the change in flight.
	e.store.SetRequiredApprovals(ctx, "rostock", 1, "test")
	c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))
	c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "nochmal", 0))
	if c.State != workflow.InReview || c.Approvals != 1 {
		t.Fatalf("after the same reviewer twice: %s with %d approvals", c.State, c.Approvals)
	}
	c = e.must(e.wf.Approve(ctx, e.meta("pruefer2"), c.ID, "", 0))
	if c.State != workflow.Published || e.current("warnow-pegel").Revision.Body != "Zwei Freigaben" {
		t.Fatalf("second distinct approval: %s", c.State)
	}
	// Reject and request-changes need a reason.
	c = e.propose("autorin", "Ohne Grund", true)
	if _, err := e.wf.Reject(ctx, e.meta("pruefer1"), c.ID, "  ", 0); !errors.Is(err, wiki.ErrInvalid) {
		t.Errorf("reject without comment: %v", err)
	}
	// Approvals of an earlier text do not count after the author changed it.
	e.store.SetRequiredApprovals(ctx, "rostock", 2, "test")
	c = e.propose("autorin", "Text A", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))
	e.must(e.wf.RequestChanges(ctx, e.meta("pruefer2"), c.ID, "Tippfehler", 0))
	e.must(e.wf.Update(ctx, e.meta("autorin"), c.ID, wiki.Draft{Title: "Warnow-Pegel", Body: "Text B", Visibility: wiki.Public}, 0))
	e.must(e.wf.Submit(ctx, e.meta("autorin"), c.ID, ""))
	c = e.must(e.wf.Approve(ctx, e.meta("pruefer2"), c.ID, "", 0))
	if c.State != workflow.InReview {
		t.Fatalf("an approval of the old text counted: %s", c.State)
	}
}

func TestConflictRebaseAndHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	base := e.current("warnow-pegel").Revision.ID
	first := e.propose("autor-hwi", "Version 2 aus Wismar", true)
	second := e.propose("autorin", "Version 2 aus Rostock", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), first.ID, "", 0))
	second = e.must(e.wf.Approve(ctx, e.meta("pruefer2"), second.ID, "", 0))
	if second.State != workflow.Conflict {
		t.Fatalf("second change from the same base: %s, want conflict", second.State)
	}
	if e.current("warnow-pegel").Revision.Body != "Version 2 aus Wismar" {
		t.Fatal("the conflicting change overwrote the first")
	}
	// Updating without rebasing is refused; rebasing puts it back in review.
	d := wiki.Draft{Title: "Warnow-Pegel", Body: "Version 3: beide zusammengeführt", Visibility: wiki.Public}
	if _, err := e.wf.Update(ctx, e.meta("autorin"), second.ID, d, base); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("update of a conflict without rebase: %v", err)
	}
	now := e.current("warnow-pegel").Revision.ID
	second = e.must(e.wf.Update(ctx, e.meta("autorin"), second.ID, d, now))
	if second.State != workflow.InReview || *second.BaseRevision != now {
		t.Fatalf("after rebase: %s on %v", second.State, second.BaseRevision)
	}
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), second.ID, "", 0))
	hist, err := e.store.Revisions(ctx, wiki.Reader{}, "rostock", "warnow-pegel")
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %d entries, %v", len(hist), err)
	}
	if hist[0].Title == "" || e.current("warnow-pegel").Revision.Body != d.Body {
		t.Fatal("the rebased change was not published")
	}
	// A reviewer of another city cannot decide on Rostock's article.
	c := e.propose("autor-hwi", "Von Wismar vorgeschlagen", true)
	if _, err := e.wf.Approve(ctx, e.meta("pruef-hwi"), c.ID, "", 0); !errors.Is(err, wiki.ErrNotFound) {
		t.Fatalf("reviewer of another city: %v", err)
	}
	if _, err := e.wf.Get(ctx, e.users["pruef-hwi"], c.ID); !errors.Is(err, wiki.ErrNotFound) {
		t.Fatalf("reviewer of another city sees the change: %v", err)
	}
	e.must(e.wf.Approve(ctx, e.meta("admin-hro"), c.ID, "", 0))
}

// 20 reviewers approve the same change at the same moment: one publication,
// one audit event, one published revision.
func TestConcurrentApprovalsPublishOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.propose("autorin", "Gleichzeitig", true)
	reviewers := []string{"pruefer1", "pruefer2", "pruefer3", "admin-hro"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.wf.Approve(ctx, e.meta(reviewers[i%len(reviewers)]), c.ID, "", 0)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		var se *workflow.StateError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	var published, revisions int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'change.published' AND object = $1`, fmt.Sprintf("change:%d", c.ID)).Scan(&published)
	e.pool.QueryRow(ctx, `SELECT count(*) FROM revisions WHERE published_at IS NOT NULL`).Scan(&revisions)
	if published != 1 || revisions != 2 {
		t.Fatalf("%d publication events, %d published revisions; want 1 and 2", published, revisions)
	}
}

// 200 changes to 20 articles are approved in parallel, rebased when they
// conflict, and approved again until all are published: no update is lost
// and every published revision is based on its predecessor.
func TestNoLostUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var items []wiki.ImportItem
	for i := range 20 {
		items = append(items, wiki.ImportItem{Source: fmt.Sprint(i), Draft: wiki.Draft{City: "rostock", Title: fmt.Sprintf("Artikel %02d", i), Body: "0", Visibility: wiki.Public}})
	}
	if _, err := e.store.ImportAll(ctx, items, wiki.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	// -short (the race detector's run in make test) proposes fewer changes
	// per article: the same races in a quarter of the time.
	perArticle := 10
	if testing.Short() {
		perArticle = 3
	}
	var changes []*workflow.Change
	for i := range 20 {
		a := e.current(fmt.Sprintf("artikel-%02d", i))
		for j := range perArticle {
			d := a.Revision.Draft()
			d.Body = fmt.Sprintf("Änderung %d von Artikel %d", j, i)
			changes = append(changes, e.must(e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true})))
		}
	}
	pending := changes
	for round := 0; len(pending) > 0; round++ {
		if round > 12 {
			t.Fatalf("%d changes still unpublished", len(pending))
		}
		var wg sync.WaitGroup
		results := make([]*workflow.Change, len(pending))
		for i, c := range pending {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0)
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = r
			}()
		}
		wg.Wait()
		var next []*workflow.Change
		for _, r := range results {
			if r == nil || r.State == workflow.Published {
				continue
			}
			if r.State != workflow.Conflict {
				t.Fatalf("change %d ended %s", r.ID, r.State)
			}
			now := e.current(r.Slug).Revision
			d := now.Draft()
			d.Body = fmt.Sprintf("%s + Änderung %d", now.Body, r.ID)
			next = append(next, e.must(e.wf.Update(ctx, e.meta("autorin"), r.ID, d, now.ID)))
		}
		pending = next
	}
	var bad, published int
	e.pool.QueryRow(ctx, `WITH p AS (
			SELECT r.id, r.article_id, r.base_revision_id,
				lag(r.id) OVER (PARTITION BY r.article_id ORDER BY r.published_at, r.id) AS predecessor
			FROM revisions r WHERE r.published_at IS NOT NULL)
		SELECT count(*) FILTER (WHERE predecessor IS NOT NULL AND base_revision_id IS DISTINCT FROM predecessor), count(*) FROM p`).Scan(&bad, &published)
	if want := 21 + 20*perArticle; bad != 0 || published != want {
		t.Fatalf("%d published revisions not based on their predecessor; %d published, want %d", bad, published, want)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.propose("autorin", "Geprüft", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "passt", 0))
	res, err := workflow.VerifyAudit(ctx, e.pool, nil)
	if err != nil || res.FirstBad != 0 || res.Events < 4 {
		t.Fatalf("fresh chain: %+v, %v", res, err)
	}
	events, err := workflow.Audit(ctx, e.pool, workflow.AuditFilter{Object: fmt.Sprintf("change:%d", c.ID)})
	if err != nil || len(events) != 4 || events[0].Action != "change.published" || events[0].Actor != "pruefer1" || events[0].ClientAddr != "192.0.2.10" {
		t.Fatalf("audit of the change: %+v, %v", events, err)
	}
	// Someone with database access rewrites who approved.
	if _, err := e.pool.Exec(ctx, `DROP RULE audit_events_no_update ON audit_events;
		UPDATE audit_events SET actor = 'jemand' WHERE action = 'change.approve'`); err != nil {
		t.Fatal(err)
	}
	res, err = workflow.VerifyAudit(ctx, e.pool, nil)
	if err != nil || res.FirstBad == 0 {
		t.Fatalf("tampered chain passed verification: %+v, %v", res, err)
	}
}
