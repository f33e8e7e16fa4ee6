package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// grant gives an account (created when new) roles through auth, as an
// admin would, and refreshes its identity.
func (e *env) grant(name string, grants ...[2]string) *auth.Identity {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') ON CONFLICT DO NOTHING`, name); err != nil {
		e.t.Fatal(err)
	}
	for _, g := range grants {
		if err := e.auth.Grant(ctx, name, g[0], g[1], "test"); err != nil {
			e.t.Fatal(err)
		}
	}
	var uid int64
	e.pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, name).Scan(&uid)
	id, err := e.auth.IdentityByID(ctx, uid)
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[name] = id
	return id
}

func (e *env) policy(n int) {
	e.t.Helper()
	if _, err := e.store.SetRequiredApprovals(context.Background(), "rostock", n, "test"); err != nil {
		e.t.Fatal(err)
	}
}

func draftOf(body string) wiki.Draft {
	return wiki.Draft{Title: "Warnow-Pegel", Body: body, Visibility: wiki.Public}
}

// Issue 9, item 2: a PUT with the current base_revision moved a draft into
// review without a recorded quorum, and one approval published it.
func TestPutNeverEntersReview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A draft from revision 1; meanwhile another change is published.
	old := e.propose("autorin", "Entwurf", false)
	other := e.propose("autor-hwi", "Inzwischen", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), other.ID, "", 0))
	e.policy(3)
	current := e.current("warnow-pegel").Revision.ID
	if _, err := e.wf.Update(ctx, e.meta("autorin"), old.ID, draftOf("Entwurf, jetzt öffentlich"), current); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("PUT of a draft with the current base_revision: %v, want conflict", err)
	}
	if got := e.must(e.wf.Get(ctx, e.users["autorin"], old.ID)); got.State != workflow.Draft || got.RequiredApprovals != nil {
		t.Fatalf("after the PUT: %s, quorum %v; want an untouched draft", got.State, got.RequiredApprovals)
	}
	// A PUT with the draft's own base keeps it a draft.
	base := e.current("warnow-pegel").Revision.ID
	c := e.propose("autorin", "Entwurf", false)
	c = e.must(e.wf.Update(ctx, e.meta("autorin"), c.ID, draftOf("Entwurf, überarbeitet"), base))
	if c.State != workflow.Draft || c.RequiredApprovals != nil {
		t.Fatalf("PUT with the draft's base: %s, quorum %v; want a draft without quorum", c.State, c.RequiredApprovals)
	}
	if _, err := e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("approving a draft: %v, want conflict", err)
	}
	// Any other base is a conflict outside the conflict state, also for
	// a change with requested changes.
	if _, err := e.wf.Update(ctx, e.meta("autorin"), c.ID, draftOf("x"), base+1000); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("PUT with a foreign base: %v, want conflict", err)
	}
	c = e.must(e.wf.Submit(ctx, e.meta("autorin"), c.ID, ""))
	if c.Quorum() != 3 {
		t.Fatalf("submission recorded quorum %d, want 3", c.Quorum())
	}
	if _, err := e.wf.Update(ctx, e.meta("autorin"), c.ID, draftOf("in review"), 0); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("PUT of a change in review: %v, want conflict", err)
	}
	for i, r := range []string{"pruefer1", "pruefer2"} {
		if c = e.must(e.wf.Approve(ctx, e.meta(r), c.ID, "", 0)); c.State != workflow.InReview || c.Approvals != i+1 {
			t.Fatalf("after %d approvals of 3: %s", i+1, c.State)
		}
	}
	if c = e.must(e.wf.Approve(ctx, e.meta("pruefer3"), c.ID, "", 0)); c.State != workflow.Published {
		t.Fatalf("third approval: %s", c.State)
	}

	// The database refuses review without a quorum even if code tried.
	d := e.propose("autorin", "Direkt", false)
	if _, err := e.pool.Exec(ctx, `UPDATE change_requests SET state = 'in_review' WHERE id = $1`, d.ID); err == nil {
		t.Fatal("the database took a change into review without a recorded quorum")
	}
}

// A conflict is rebased only onto the current publication, and returns to
// review under the quorum recorded at its first submission, whatever the
// policy says by then; the approvals of the old text no longer count.
func TestRebaseKeepsTheFirstQuorum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.policy(2)
	first := e.propose("autor-hwi", "Erste", true)
	second := e.propose("autorin", "Zweite", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), first.ID, "", 0))
	e.must(e.wf.Approve(ctx, e.meta("pruefer2"), first.ID, "", 0))
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), second.ID, "", 0))
	second = e.must(e.wf.Approve(ctx, e.meta("pruefer2"), second.ID, "", 0))
	if second.State != workflow.Conflict {
		t.Fatalf("second: %s", second.State)
	}
	e.policy(1)
	oldBase := *second.BaseRevision
	for _, b := range []int64{0, oldBase} {
		if _, err := e.wf.Update(ctx, e.meta("autorin"), second.ID, draftOf("x"), b); !errors.Is(err, wiki.ErrConflict) {
			t.Fatalf("rebase onto %d: %v, want conflict", b, err)
		}
	}
	if _, err := e.wf.Update(ctx, e.meta("pruefer1"), second.ID, draftOf("x"), e.current("warnow-pegel").Revision.ID); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("a reviewer rebasing someone's change: %v", err)
	}
	second = e.must(e.wf.Update(ctx, e.meta("autorin"), second.ID, draftOf("Erste und Zweite"), e.current("warnow-pegel").Revision.ID))
	if second.State != workflow.InReview || second.Quorum() != 2 || second.Approvals != 0 {
		t.Fatalf("after rebase: %s, quorum %d, %d approvals; want in review, 2, 0", second.State, second.Quorum(), second.Approvals)
	}
	for _, r := range second.Reviews {
		if !r.Outdated {
			t.Fatalf("approval of the text before the rebase is not marked outdated: %+v", r)
		}
	}
	if c := e.must(e.wf.Approve(ctx, e.meta("pruefer1"), second.ID, "", 0)); c.State != workflow.InReview {
		t.Fatalf("one approval after the rebase under a quorum of 2: %s", c.State)
	}
}

// Issue 9, item 3: an approval is for the revision the reviewer read.
func TestApprovalIsForTheRevisionRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.policy(2)
	c := e.propose("autorin", "Fassung A", true)
	read := c.Revision
	c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "A passt", read))
	c = e.must(e.wf.RequestChanges(ctx, e.meta("pruefer2"), c.ID, "Bitte Quelle", read))
	c = e.must(e.wf.Update(ctx, e.meta("autorin"), c.ID, draftOf("Fassung B"), 0))
	c = e.must(e.wf.Submit(ctx, e.meta("autorin"), c.ID, ""))
	// pruefer3 still has the page with text A open.
	_, err := e.wf.Approve(ctx, e.meta("pruefer3"), c.ID, "", read)
	var re *workflow.RevisionError
	if !errors.As(err, &re) || !errors.Is(err, wiki.ErrConflict) || re.Current != c.Revision {
		t.Fatalf("approval of a stale revision: %v, want a conflict naming revision %d", err, c.Revision)
	}
	if c = e.must(e.wf.Get(ctx, e.users["autorin"], c.ID)); c.Approvals != 0 || c.State != workflow.InReview {
		t.Fatalf("the stale approval counted: %d approvals, %s", c.Approvals, c.State)
	}
	if !c.Reviews[0].Outdated || !c.Reviews[1].Outdated {
		t.Fatalf("reviews of text A are not marked as given for an earlier revision: %+v", c.Reviews)
	}
	e.must(e.wf.Approve(ctx, e.meta("pruefer3"), c.ID, "", c.Revision))
	if c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", c.Revision)); c.State != workflow.Published {
		t.Fatalf("two approvals of text B: %s", c.State)
	}
	if e.current("warnow-pegel").Revision.Body != "Fassung B" {
		t.Fatal("published text is not the approved one")
	}
}

// Issue 9, item 4: roles in the domain "*" listed changes with a 500.
func TestNetworkRolesListAndReview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.grant("netz-admin", [2]string{"admin", "*"})
	e.grant("netz-pruefer", [2]string{"reviewer", "*"})
	c := e.propose("autorin", "Für alle", true)
	own := e.must(e.wf.Create(ctx, e.meta("netz-admin"), workflow.Proposal{Draft: wiki.Draft{City: "wismar", Title: "Vom Netz", Body: "x"}, Submit: true}))
	for _, who := range []string{"netz-admin", "netz-pruefer"} {
		list, err := e.wf.List(ctx, e.users[who], workflow.Filter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("%s lists %d changes: %v", who, len(list), err)
		}
		queue, err := e.wf.ReviewQueue(ctx, e.users[who], "")
		if err != nil {
			t.Fatalf("%s review queue: %v", who, err)
		}
		var ids []int64
		for _, q := range queue {
			ids = append(ids, q.ID)
		}
		want := []int64{c.ID, own.ID}
		if who == "netz-admin" {
			want = []int64{c.ID} // never their own
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			t.Fatalf("%s review queue %v, want %v", who, ids, want)
		}
	}
	if _, err := e.wf.Approve(ctx, e.meta("netz-admin"), own.ID, "", 0); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("network admin approving their own change: %v", err)
	}
	if got := e.must(e.wf.Approve(ctx, e.meta("netz-pruefer"), own.ID, "", 0)); got.State != workflow.Published {
		t.Fatalf("network reviewer approving: %s", got.State)
	}
}

func notifications(t *testing.T, e *env, user string) []workflow.Notification {
	t.Helper()
	list, err := e.wf.Notifications(context.Background(), e.users[user], 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func kinds(list []workflow.Notification) []string {
	var out []string
	for _, n := range list {
		out = append(out, n.Kind)
	}
	return out
}

// Issue 9, item 14: a proposal to a city without other reviewers reaches
// the network admins, and says so; elsewhere they are not bothered.
func TestLastResortReviewers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.grant("netz-admin", [2]string{"admin", "*"})
	e.grant("autor-sn", [2]string{"author", "schwerin"}, [2]string{"reviewer", "schwerin"})
	c := e.must(e.wf.Create(ctx, e.meta("autor-sn"), workflow.Proposal{Draft: wiki.Draft{City: "schwerin", Title: "Schlossgarten", Body: "x"}, Submit: true}))
	if c.NotifiedWhom() != workflow.NotifiedNetworkAdmins {
		t.Fatalf("notified = %q, want network_admins", c.NotifiedWhom())
	}
	if k := kinds(notifications(t, e, "netz-admin")); !slices.Equal(k, []string{"change.last_resort"}) {
		t.Fatalf("network admin notifications: %v", k)
	}
	if k := kinds(notifications(t, e, "autor-sn")); len(k) != 0 {
		t.Fatalf("the author was asked to review their own change: %v", k)
	}
	if got := e.must(e.wf.Approve(ctx, e.meta("netz-admin"), c.ID, "", 0)); got.State != workflow.Published {
		t.Fatalf("network admin as reviewer of last resort: %s", got.State)
	}
	// Rostock has reviewers: they are told, the network admin is not.
	r := e.propose("autorin", "Rostock", true)
	if r.NotifiedWhom() != workflow.NotifiedReviewers {
		t.Fatalf("notified = %q, want reviewers", r.NotifiedWhom())
	}
	if k := kinds(notifications(t, e, "netz-admin")); len(k) != 1 {
		t.Fatalf("network admin told of a change Rostock's reviewers handle: %v", k)
	}
	for _, who := range []string{"pruefer1", "pruefer2", "pruefer3", "admin-hro"} {
		if k := kinds(notifications(t, e, who)); !slices.Equal(k, []string{"change.submitted"}) {
			t.Errorf("%s: %v", who, k)
		}
	}
	// Nobody at all: the answer says so.
	e.grant("autor-hst", [2]string{"author", "stralsund"})
	if _, err := e.pool.Exec(ctx, `UPDATE users SET disabled = true WHERE username = 'netz-admin'`); err != nil {
		t.Fatal(err)
	}
	n := e.must(e.wf.Create(ctx, e.meta("autor-hst"), workflow.Proposal{Draft: wiki.Draft{City: "stralsund", Title: "Hafen", Body: "x"}, Submit: true}))
	if n.NotifiedWhom() != workflow.NotifiedNobody {
		t.Fatalf("notified = %q, want nobody", n.NotifiedWhom())
	}
}

// The reviewer's reason travels with the decision: at the top of the
// change (Reason), in the in-app notification, and in the mail.
func TestReviewerReasonReachesTheAuthor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.wf.Mail = mailSettings(t, "2525")
	c := e.propose("autorin", "Ohne Quelle", true)
	c = e.must(e.wf.RequestChanges(ctx, e.meta("pruefer1"), c.ID, "Bitte die Pegeldaten des WSA verlinken.", 0))
	if r := c.Reason(); r == nil || r.Reviewer != "pruefer1" || !strings.Contains(r.Comment, "WSA") {
		t.Fatalf("reason: %+v", r)
	}
	list := notifications(t, e, "autorin")
	if len(list) == 0 || list[0].Kind != "change.changes_requested" || !strings.Contains(list[0].Comment, "WSA") {
		t.Fatalf("notification without the reason: %+v", list)
	}
	var body string
	e.pool.QueryRow(ctx, `SELECT body FROM mail_queue WHERE to_addr = 'autorin@example.org' ORDER BY id DESC LIMIT 1`).Scan(&body)
	if !strings.Contains(body, "> Bitte die Pegeldaten des WSA verlinken.") {
		t.Fatalf("mail without the reason:\n%s", body)
	}
}

// Capabilities is the one answer: spot checks of its table.
func TestCapabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.grant("netz-admin", [2]string{"admin", "*"})
	c := e.propose("autorin", "Prüfen", true)
	cases := map[string][]workflow.Action{
		"autorin":    {workflow.ActWithdraw, workflow.ActComment},
		"pruefer1":   {workflow.ActApprove, workflow.ActRequestChanges, workflow.ActReject, workflow.ActComment},
		"admin-hro":  {workflow.ActApprove, workflow.ActRequestChanges, workflow.ActReject, workflow.ActComment},
		"netz-admin": {workflow.ActApprove, workflow.ActRequestChanges, workflow.ActReject, workflow.ActComment},
		"pruef-hwi":  {},
		"mitglied":   {},
	}
	for who, want := range cases {
		if got := e.wf.Capabilities(e.users[who], c).Actions(); !slices.Equal(got, want) {
			t.Errorf("%s may %v, want %v", who, got, want)
		}
	}
	if k := e.wf.Capabilities(nil, c); k.View {
		t.Error("anonymous sees a change")
	}
	// An author whose role was taken away can only withdraw.
	d := e.propose("autorin", "Entwurf", false)
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM casbin_rules WHERE v0 = 'autorin'`); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Grant(context.Background(), "mitglied", "author", "wismar", "test"); err != nil { // reloads the policy
		t.Fatal(err)
	}
	id, _ := e.auth.IdentityByID(context.Background(), e.users["autorin"].UserID)
	if got := e.wf.Capabilities(id, d).Actions(); !slices.Equal(got, []workflow.Action{workflow.ActWithdraw, workflow.ActComment}) {
		t.Errorf("author without role may %v", got)
	}
}

// N reviewers approve at once under a quorum of Q: exactly one
// publication, carrying Q or more distinct approvals of its revision, and
// no approval lost.
func TestParallelApprovalsUnderQuorum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const n, q = 8, 3
	var reviewers []string
	for i := range n {
		name := fmt.Sprintf("pr%d", i)
		e.grant(name, [2]string{"reviewer", "rostock"})
		reviewers = append(reviewers, name)
	}
	e.policy(q)
	c := e.propose("autorin", "Parallel", true)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i, r := range reviewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.wf.Approve(ctx, e.meta(r), c.ID, "", c.Revision)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var se *workflow.StateError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &se) || se.State != workflow.Published:
			t.Errorf("unexpected error: %v", err)
		}
	}
	var published, approvals int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'change.published' AND object = $1`, fmt.Sprintf("change:%d", c.ID)).Scan(&published)
	e.pool.QueryRow(ctx, `SELECT count(DISTINCT reviewer_id) FROM reviews WHERE change_id = $1 AND decision = 'approve'`, c.ID).Scan(&approvals)
	if published != 1 || approvals != q || ok != q {
		t.Fatalf("%d publications, %d approvals recorded, %d accepted; want 1, %d, %d", published, approvals, ok, q, q)
	}
	if got := e.must(e.wf.Get(ctx, e.users["autorin"], c.ID)); got.State != workflow.Published || got.Approvals != q {
		t.Fatalf("change: %s with %d approvals", got.State, got.Approvals)
	}
}
