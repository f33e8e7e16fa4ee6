package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// receiver is a real HTTP endpoint that verifies every delivery's
// signature with the Standard Webhooks library.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	status atomic.Int32

	mu       sync.Mutex
	secret   string
	got      []hookCall
	requests int
	ids      map[string]int // webhook-id → attempts seen
}

type hookCall struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, ids: map[string]int{}}
	rc.status.Store(http.StatusNoContent)
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	wh, err := standardwebhooks.NewWebhook(rc.secret)
	if err != nil {
		rc.t.Errorf("receiver has no usable secret: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if err := wh.Verify(body, r.Header); err != nil {
		rc.t.Errorf("signature does not verify: %v (headers %v)", err, r.Header)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.ids[r.Header.Get("webhook-id")]++
	status := int(rc.status.Load())
	if status >= 300 {
		w.WriteHeader(status)
		return
	}
	var d hookCall
	if err := json.Unmarshal(body, &d); err != nil {
		rc.t.Errorf("payload is not JSON: %v", err)
	}
	rc.got = append(rc.got, d)
	w.WriteHeader(status)
}

func (rc *receiver) events() []hookCall {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

// register creates an endpoint for the receiver and hands it the secret.
func (rc *receiver) register(e *env, wf *workflow.Service, user, city string, events ...string) *workflow.Webhook {
	rc.t.Helper()
	w, err := wf.CreateWebhook(context.Background(), e.meta(user), workflow.NewWebhook{URL: rc.srv.URL + "/hook?token=abc", Events: events, City: city})
	if err != nil {
		rc.t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") {
		rc.t.Fatalf("secret %q is not a Standard Webhooks secret", w.Secret)
	}
	rc.mu.Lock()
	rc.secret = w.Secret
	rc.mu.Unlock()
	return w
}

// webhookEnv is newEnv with a network admin, a Wismar admin, a city-only
// Rostock article, and a service that accepts the test's loopback
// receivers and logs into logs.
func webhookEnv(t *testing.T) (*env, *workflow.Service, *bytes.Buffer) {
	e := newEnv(t)
	e.grant("netz-admin", [2]string{"admin", "*"})
	e.grant("admin-hwi", [2]string{"admin", "wismar"})
	e.policy(1)
	_, err := e.store.ImportAll(context.Background(), []wiki.ImportItem{{Source: "y", Draft: wiki.Draft{City: "rostock", Title: "Interne Kontakte",
		Body: "Nur Rostock", Visibility: wiki.CityVis, Topics: []string{"wasser-umwelt"}}}}, wiki.ImportOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	wf := workflow.NewService(e.store, e.auth, slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	wf.AllowPrivateWebhooks(true)
	e.wf = wf
	return e, wf, logs
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) proposeTo(user, slug, body string) *workflow.Change {
	e.t.Helper()
	a, err := e.store.Article(context.Background(), wiki.Reader{Member: true, Cities: []string{"*"}}, "rostock", slug)
	if err != nil {
		e.t.Fatal(err)
	}
	d := a.Revision.Draft()
	d.Body = body
	return e.must(e.wf.Create(context.Background(), e.meta(user), workflow.Proposal{Draft: d, Slug: slug, BaseRevision: a.Revision.ID, Submit: true}))
}

func types(list []hookCall) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.Type)
	}
	slices.Sort(out)
	return out
}

func TestWebhookEveryEventDeliveredAndSigned(t *testing.T) {
	e, wf, logs := webhookEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	w := rc.register(e, wf, "netz-admin", "", workflow.WebhookEvents...)

	c := e.propose("autorin", "Version 2", true)                                                                       // change.submitted
	e.must(wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))                                                           // change.published
	r := e.propose("autorin", "Version 3", true)                                                                       // change.submitted
	e.must(wf.Reject(ctx, e.meta("pruefer2"), r.ID, "Nein", 0))                                                        // change.rejected
	if _, err := wf.AddArticleComment(ctx, e.meta("mitglied"), "rostock", "warnow-pegel", "Danke!", nil); err != nil { // comment.created
		t.Fatal(err)
	}
	if _, err := wf.Ask(ctx, e.meta("mitglied"), workflow.NewQuestion{Title: "Wer misst Pegel?", Topics: []string{"wasser-umwelt"}}); err != nil {
		t.Fatal(err)
	}
	if err := wf.SetArchived(ctx, e.meta("admin-hro"), "rostock", "warnow-pegel", true); err != nil { // article.archived
		t.Fatal(err)
	}
	if rc.count() != 0 {
		t.Fatal("a delivery left before the worker ran")
	}
	n, err := wf.DeliverDue(ctx, time.Now())
	if err != nil || n != 7 {
		t.Fatalf("DeliverDue = %d, %v; want 7 deliveries", n, err)
	}
	want := []string{"article.archived", "change.published", "change.rejected", "change.submitted", "change.submitted", "comment.created", "question.created"}
	if got := types(rc.events()); !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for _, d := range rc.events() {
		if d.Type == "change.published" && (d.Data["slug"] != "warnow-pegel" || d.Data["city"] != "rostock" || d.Data["title"] != "Warnow-Pegel") {
			t.Errorf("published payload names %v", d.Data)
		}
	}
	// Sent once: a second run as of the same time does nothing.
	if n, _ := wf.DeliverDue(ctx, time.Now()); n != 0 || rc.count() != 7 {
		t.Errorf("second run delivered %d more", n)
	}
	log, err := wf.WebhookDeliveries(ctx, e.users["netz-admin"], w.ID, 50)
	if err != nil || len(log) != 7 {
		t.Fatalf("delivery log: %d entries, %v", len(log), err)
	}
	for _, d := range log {
		if d.State != "delivered" || d.Attempts != 1 || d.LastStatus == nil || *d.LastStatus != http.StatusNoContent {
			t.Errorf("delivery %+v", d)
		}
	}
	// The secret is shown once: never in the list, never in the logs.
	list, err := wf.Webhooks(ctx, e.users["netz-admin"])
	if err != nil || len(list) != 1 || list[0].Secret != "" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if strings.Contains(logs.String(), w.Secret) || strings.Contains(logs.String(), strings.TrimPrefix(w.Secret, "whsec_")) {
		t.Error("the secret appears in the logs")
	}
	if strings.Contains(logs.String(), "token=abc") {
		t.Error("the endpoint URL (it may carry a token) appears in the logs")
	}
	var audited, leaked int
	e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'webhook.create'), count(*) FILTER (WHERE detail::text LIKE '%token=abc%')
		FROM audit_events`).Scan(&audited, &leaked)
	if audited != 1 || leaked != 0 {
		t.Errorf("audit: %d registrations, %d events with the URL's token", audited, leaked)
	}
}

func TestWebhookRetriedThenDisabledAfterThreeDays(t *testing.T) {
	e, wf, logs := webhookEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	rc.status.Store(http.StatusInternalServerError)
	wf.Mail = &workflow.MailSettings{From: "wiki@hanse.test", BaseURL: "https://wiki.hanse.test"}
	w := rc.register(e, wf, "admin-hro", "rostock", "change.submitted")
	e.propose("autorin", "Version 2", true)
	start := time.Now()
	if n, err := wf.DeliverDue(ctx, start); err != nil || n != 1 || rc.count() != 1 {
		t.Fatalf("first attempt: %d, %v, %d requests", n, err, rc.count())
	}
	if n, _ := wf.DeliverDue(ctx, start.Add(10*time.Second)); n != 0 {
		t.Fatal("retried before its backoff")
	}
	// The first retry comes within a minute; the job moves time too.
	if _, err := wf.RunJobs(ctx, start.Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if rc.count() != 2 {
		t.Fatalf("after a minute the receiver saw %d attempts, want 2", rc.count())
	}
	for h := 1; h <= 71; h++ {
		if _, err := wf.DeliverDue(ctx, start.Add(time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := wf.Webhooks(ctx, e.users["admin-hro"])
	if list[0].DisabledAt != nil {
		t.Fatal("disabled before three days")
	}
	if len(rc.ids) != 1 {
		t.Errorf("retries must keep the message id; saw %v", rc.ids)
	}
	attempts := rc.count()
	if attempts < 5 {
		t.Errorf("only %d attempts in 71 hours", attempts)
	}
	if _, err := wf.DeliverDue(ctx, start.Add(WebhookDays(3)+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rc.count() != attempts+1 {
		t.Errorf("no last attempt at three days")
	}
	list, _ = wf.Webhooks(ctx, e.users["admin-hro"])
	if list[0].DisabledAt == nil {
		t.Fatal("not disabled after three days of failure")
	}
	log, _ := wf.WebhookDeliveries(ctx, e.users["admin-hro"], w.ID, 10)
	if log[0].State != "failed" || log[0].LastError != "HTTP 500" || *log[0].LastStatus != 500 {
		t.Errorf("delivery log says %+v", log[0])
	}
	// Its owner is told; nothing more is queued or sent.
	notes, err := wf.Notifications(ctx, e.users["admin-hro"], 10)
	if err != nil || len(notes) == 0 || notes[0].Kind != "webhook.disabled" {
		t.Fatalf("owner's notifications: %+v, %v", notes, err)
	}
	var mails int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM mail_queue WHERE to_addr = 'admin-hro@example.org' AND subject LIKE '%Webhook%'
		AND body LIKE '%https://wiki.hanse.test/admin/webhooks%'`).Scan(&mails)
	if mails != 1 {
		t.Errorf("%d mails to the owner about the disabled webhook", mails)
	}
	e.propose("autorin", "Version 3", true)
	if n, _ := wf.DeliverDue(ctx, start.Add(WebhookDays(4))); n != 0 {
		t.Error("a disabled endpoint still receives")
	}
	if strings.Contains(logs.String(), w.Secret) {
		t.Error("the secret appears in the logs")
	}
}

func WebhookDays(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestWebhookScopeNeverLeaksCityOnlyArticles(t *testing.T) {
	e, wf, _ := webhookEnv(t)
	ctx := context.Background()
	network, rostock, wismar := newReceiver(t), newReceiver(t), newReceiver(t)
	network.register(e, wf, "netz-admin", "", "change.submitted", "comment.created")
	rostock.register(e, wf, "admin-hro", "rostock", "change.submitted", "comment.created")
	wismar.register(e, wf, "admin-hwi", "wismar", "change.submitted", "comment.created")

	e.proposeTo("autorin", "interne-kontakte", "Neu: nur für Rostock")
	if _, err := wf.AddArticleComment(ctx, e.meta("pruefer1"), "rostock", "interne-kontakte", "Intern", nil); err != nil {
		t.Fatal(err)
	}
	e.proposeTo("autorin", "warnow-pegel", "Öffentlich")
	if _, err := wf.DeliverDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, d := range network.events() {
		if d.Data["slug"] == "interne-kontakte" || strings.Contains(d.Data["title"].(string), "Intern") {
			t.Errorf("network endpoint received a city-only article: %v", d)
		}
	}
	if got := types(network.events()); !slices.Equal(got, []string{"change.submitted"}) {
		t.Errorf("network endpoint received %v", got)
	}
	if got := types(rostock.events()); !slices.Equal(got, []string{"change.submitted", "change.submitted", "comment.created"}) {
		t.Errorf("Rostock endpoint received %v", got)
	}
	if got := wismar.events(); len(got) != 0 {
		t.Errorf("Wismar endpoint received Rostock's events: %v", got)
	}
}

func TestWebhookRegistrationPermissions(t *testing.T) {
	e, wf, _ := webhookEnv(t)
	ctx := context.Background()
	hook := func(user, city string) error {
		_, err := wf.CreateWebhook(ctx, e.meta(user), workflow.NewWebhook{URL: "https://hooks.example.org/x", Events: []string{"change.published"}, City: city})
		return err
	}
	for _, c := range []struct{ user, city string }{{"admin-hro", ""}, {"admin-hro", "wismar"}, {"pruefer1", "rostock"}, {"mitglied", ""}} {
		if err := hook(c.user, c.city); !errors.Is(err, wiki.ErrForbidden) {
			t.Errorf("%s registering for %q: %v, want forbidden", c.user, c.city, err)
		}
	}
	if err := hook("admin-hro", "rostock"); err != nil {
		t.Fatal(err)
	}
	if err := hook("netz-admin", ""); err != nil {
		t.Fatal(err)
	}
	if err := hook("netz-admin", "wismar"); err != nil {
		t.Fatal(err)
	}
	mine, _ := wf.Webhooks(ctx, e.users["admin-hro"])
	if len(mine) != 1 || *mine[0].City != "rostock" {
		t.Fatalf("a city admin lists %+v", mine)
	}
	all, _ := wf.Webhooks(ctx, e.users["netz-admin"])
	if len(all) != 3 {
		t.Fatalf("a network admin lists %d", len(all))
	}
	if err := wf.DeleteWebhook(ctx, e.meta("admin-hro"), all[1].ID); !errors.Is(err, wiki.ErrNotFound) {
		t.Errorf("a city admin deleting a network endpoint: %v", err)
	}
	if err := wf.DeleteWebhook(ctx, e.meta("admin-hro"), mine[0].ID); err != nil {
		t.Fatal(err)
	}
	var inv *wiki.InvalidError
	if _, err := wf.CreateWebhook(ctx, e.meta("netz-admin"), workflow.NewWebhook{URL: "https://hooks.example.org/x", Events: []string{"article.deleted"}}); !errors.As(err, &inv) {
		t.Errorf("unknown event: %v", err)
	}
}

func TestWebhookRefusesPrivateTargets(t *testing.T) {
	e, wf, _ := webhookEnv(t)
	wf.AllowPrivateWebhooks(false)
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1/hook", "http://hooks.example.org/hook", "https://127.0.0.1/hook", "https://10.1.2.3/",
		"https://[::1]:8443/", "https://169.254.169.254/latest", "https://0.0.0.0/", "https://192.168.1.1/", "https://[fe80::1]/", "https://224.0.0.1/",
		"ftp://hooks.example.org/"} {
		var inv *wiki.InvalidError
		if _, err := wf.CreateWebhook(ctx, e.meta("netz-admin"), workflow.NewWebhook{URL: u, Events: []string{"change.submitted"}}); !errors.As(err, &inv) || inv.Field != "url" {
			t.Errorf("%s accepted: %v", u, err)
		}
	}
	// A name passes registration; it is checked when connecting, on the
	// address it resolved to, so it reaches nothing internal.
	rc := newReceiver(t)
	port := strings.TrimPrefix(rc.srv.URL, "http://127.0.0.1:")
	w, err := wf.CreateWebhook(ctx, e.meta("netz-admin"), workflow.NewWebhook{URL: "https://localhost:" + port + "/hook", Events: []string{"change.submitted"}})
	if err != nil {
		t.Fatal(err)
	}
	e.propose("autorin", "Version 2", true)
	if _, err := wf.DeliverDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if rc.count() != 0 {
		t.Fatal("the delivery connected to a loopback address")
	}
	log, _ := wf.WebhookDeliveries(ctx, e.users["netz-admin"], w.ID, 5)
	if len(log) != 1 || log[0].State != "pending" || !strings.Contains(log[0].LastError, "not public") {
		t.Fatalf("delivery log: %+v", log)
	}
	// The allow flag lifts both rules (an intranet endpoint).
	wf.AllowPrivateWebhooks(true)
	u, _ := url.Parse(rc.srv.URL)
	if _, err := wf.CreateWebhook(ctx, e.meta("netz-admin"), workflow.NewWebhook{URL: u.String(), Events: []string{"change.submitted"}}); err != nil {
		t.Errorf("with the allow flag: %v", err)
	}
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	e, wf, _ := webhookEnv(t)
	ctx := context.Background()
	target := newReceiver(t)
	redirect := newReceiver(t)
	redirect.srv.Config.Handler = http.RedirectHandler(target.srv.URL, http.StatusTemporaryRedirect)
	w := redirect.register(e, wf, "netz-admin", "", "change.submitted")
	e.propose("autorin", "Version 2", true)
	wf.DeliverDue(ctx, time.Now())
	if target.count() != 0 {
		t.Fatal("the redirect was followed")
	}
	log, _ := wf.WebhookDeliveries(ctx, e.users["netz-admin"], w.ID, 5)
	if len(log) != 1 || log[0].State != "pending" || log[0].LastStatus == nil || *log[0].LastStatus != http.StatusTemporaryRedirect {
		t.Fatalf("delivery log: %+v", log)
	}
}

// An article that became city-only after the event is withheld from a
// network endpoint, though the delivery was queued while it was public.
func TestWebhookWithheldWhenTheArticleNarrowsBeforeSending(t *testing.T) {
	e, wf, _ := webhookEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	w := rc.register(e, wf, "netz-admin", "", "comment.created")
	if _, err := wf.AddArticleComment(ctx, e.meta("mitglied"), "rostock", "warnow-pegel", "Danke!", nil); err != nil {
		t.Fatal(err)
	}
	a := e.current("warnow-pegel")
	d := a.Revision.Draft()
	d.Visibility = wiki.CityVis
	c := e.must(wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}))
	e.must(wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))
	if _, err := wf.DeliverDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if rc.count() != 0 {
		t.Fatalf("the network endpoint received %v", rc.events())
	}
	log, _ := wf.WebhookDeliveries(ctx, e.users["netz-admin"], w.ID, 5)
	if len(log) != 1 || log[0].State != "withheld" {
		t.Fatalf("delivery log: %+v", log)
	}
}
