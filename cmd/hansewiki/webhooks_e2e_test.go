package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hansewiki/migrations/pgtest"
)

// hookReceiver is a real endpoint that verifies signatures with the
// Standard Webhooks library and records the verified events.
type hookReceiver struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	secret string
	events []string
	calls  int
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.status.Store(200)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls++
		wh, err := standardwebhooks.NewWebhook(h.secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct{ Type string }
		json.Unmarshal(body, &p)
		h.events = append(h.events, p.Type)
		w.WriteHeader(int(h.status.Load()))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) seen() (events []string, calls, bad int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...), h.calls, h.bad
}

type webhookJSON struct {
	ID         int64
	URL        string
	Events     []string
	City       *string
	Secret     string
	DisabledAt *time.Time `json:"disabled_at"`
}

// Webhooks over the API and the admin page, delivered by serve's worker
// after commit, retried by `jobs run --as-of`, with the secret shown once
// and never logged.
func TestWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "koordination", [2]string{"admin", "*"})
	addUser(t, dbURL, "admin-hro", [2]string{"admin", "rostock"})
	addUser(t, dbURL, "autorin", [2]string{"author", "rostock"})
	logs := &syncBuffer{}
	m := serve(t, openServer(t, dbURL, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	as := func(user string) *client {
		c := newClient(t, m.URL())
		c.token = apiToken(t, m.URL(), user)
		return c
	}
	netAdmin, cityAdmin, author := as("koordination"), as("admin-hro"), as("autorin")
	rc := newHookReceiver(t)

	// Without HANSEWIKI_WEBHOOK_ALLOW_PRIVATE: https to public addresses only.
	for _, u := range []string{rc.srv.URL, "https://127.0.0.1/x", "https://[::1]/x"} {
		if status, body := netAdmin.sendJSON("POST", "/api/v1/webhooks", map[string]any{"url": u, "events": []string{"change.submitted"}}); status != 422 {
			t.Errorf("%s: %d %s", u, status, body)
		}
	}
	// City admins only for their city.
	for _, city := range []any{nil, "wismar"} {
		if status, body := cityAdmin.sendJSON("POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.org/x", "events": []string{"change.submitted"}, "city": city}); status != 403 {
			t.Errorf("city admin for %v: %d %s", city, status, body)
		}
	}
	if status, _ := author.sendJSON("POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.org/x", "events": []string{"change.submitted"}, "city": "rostock"}); status != 403 {
		t.Errorf("an author registers a webhook: %d", status)
	}

	// The operator allows the intranet receiver.
	m.Workflow.AllowPrivateWebhooks(true)
	status, body := netAdmin.sendJSON("POST", "/api/v1/webhooks", map[string]any{"url": rc.srv.URL + "/hook", "events": []string{"change.submitted", "change.published"}})
	var hook webhookJSON
	json.Unmarshal([]byte(body), &hook)
	if status != 201 || !strings.HasPrefix(hook.Secret, "whsec_") || hook.City != nil || len(hook.Events) != 2 {
		t.Fatalf("create: %d %s", status, body)
	}
	rc.mu.Lock()
	rc.secret = hook.Secret
	rc.mu.Unlock()
	if status, body := netAdmin.get("/api/v1/webhooks"); status != 200 || strings.Contains(body, hook.Secret) || strings.Contains(body, `"secret"`) || !strings.Contains(body, "/hook") {
		t.Errorf("list: %d %s", status, body)
	}
	if status, body := cityAdmin.get("/api/v1/webhooks"); status != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("a city admin lists the network's webhooks: %d %s", status, body)
	}

	// A submission reaches the receiver through serve's worker (woken by
	// the queue's notification after commit), signed.
	author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Hitzeaktionsplan Rostock",
		"body": "Trinkbrunnen.", "topics": []string{"klimaresilienz"}, "visibility": "public", "submit": true}, 201)
	waitFor(t, func() bool { ev, _, _ := rc.seen(); return len(ev) == 1 })
	if ev, _, bad := rc.seen(); ev[0] != "change.submitted" || bad != 0 {
		t.Fatalf("received %v, %d unverifiable", ev, bad)
	}
	var log []struct {
		State    string
		Attempts int
	}
	if status := getJSONWith(t, netAdmin, fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook.ID), &log); status != 200 || len(log) != 1 || log[0].State != "delivered" {
		t.Errorf("delivery log: %d %+v", status, log)
	}

	// A failing receiver: retried when `jobs run --as-of` moves time.
	rc.status.Store(500)
	author.change("POST", "/api/v1/changes", map[string]any{"city": "rostock", "title": "Gründächer Rostock",
		"body": "Dächer.", "topics": []string{"klimaresilienz"}, "visibility": "public", "submit": true}, 201)
	waitFor(t, func() bool { _, calls, _ := rc.seen(); return calls == 2 })
	var out bytes.Buffer
	err := run(context.Background(), []string{"jobs", "run", "--as-of", time.Now().Add(2 * time.Minute).Format(time.RFC3339)}, strings.NewReader(""), &out, &out,
		env("DATABASE_URL", dbURL, "HANSEWIKI_WEBHOOK_ALLOW_PRIVATE", "true"))
	if err != nil {
		t.Fatalf("jobs run: %v\n%s", err, out.String())
	}
	if _, calls, _ := rc.seen(); calls != 3 {
		t.Errorf("after jobs run a minute later the receiver saw %d calls, want 3", calls)
	}
	// Three days of failure: disabled, and its owner is told.
	if err := run(context.Background(), []string{"jobs", "run", "--as-of", time.Now().Add(73 * time.Hour).Format(time.RFC3339)}, strings.NewReader(""), &out, &out,
		env("DATABASE_URL", dbURL, "HANSEWIKI_WEBHOOK_ALLOW_PRIVATE", "true")); err != nil {
		t.Fatalf("jobs run: %v\n%s", err, out.String())
	}
	var hooks []webhookJSON
	if getJSONWith(t, netAdmin, "/api/v1/webhooks", &hooks); len(hooks) != 1 || hooks[0].DisabledAt == nil {
		t.Fatalf("after three days: %+v", hooks)
	}

	// The admin page: endpoints and the delivery log; a form creates one
	// and shows the secret once.
	web := newClient(t, m.URL())
	web.login("koordination", testPassword)
	if _, page := web.get("/notifications"); !strings.Contains(page, "Webhook abgeschaltet: Die Zustellungen") || !strings.Contains(page, rc.srv.URL+"/hook") {
		t.Error("the owner's notifications do not say the webhook was disabled")
	}
	status, page := web.get("/admin/webhooks")
	if status != 200 || !strings.Contains(page, rc.srv.URL+"/hook") || !strings.Contains(page, "HTTP 500") || !strings.Contains(page, "Abgeschaltet seit") || strings.Contains(page, hook.Secret) {
		t.Fatalf("admin page: %d", status)
	}
	status, page, _ = web.postForm("/admin/webhooks", url.Values{"csrf_token": {csrfOf(t, page)}, "url": {rc.srv.URL + "/zwei"}, "events": {"comment.created"}, "city": {"rostock"}})
	secret := regexpSecret(page)
	if status != 201 || secret == "" {
		t.Fatalf("create by form: %d", status)
	}
	if _, page := web.get("/admin/webhooks"); strings.Contains(html.UnescapeString(page), secret) {
		t.Error("the secret is shown again")
	}
	if status, _, _ := web.postForm("/admin/webhooks", url.Values{"url": {rc.srv.URL}, "events": {"comment.created"}}); status != 403 {
		t.Errorf("a form without CSRF token: %d", status)
	}
	city := newClient(t, m.URL())
	city.login("admin-hro", testPassword)
	if status, page := city.get("/admin/webhooks"); status != 200 || !strings.Contains(page, "/zwei") || strings.Contains(page, "/hook") {
		t.Errorf("a city admin's page: %d", status)
	}
	if status, _ := newClient(t, m.URL()).get("/admin/webhooks"); status != http.StatusSeeOther {
		t.Errorf("anonymous: %d", status)
	}

	// Deleting: not someone else's scope; confirmed on the page.
	if status, _, _ := cityAdmin.do("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hook.ID), nil); status != 404 {
		t.Errorf("a city admin deletes the network's webhook: %d", status)
	}
	if status, _, _ := netAdmin.do("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hook.ID), nil); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, body := get(t, m.URL()+"/metrics"); status != 200 || !strings.Contains(body, "hansewiki_webhook_queue_length") {
		t.Errorf("metrics: %d", status)
	}
	for _, s := range []string{hook.Secret, strings.TrimPrefix(hook.Secret, "whsec_"), secret} {
		if strings.Contains(logs.String(), s) {
			t.Error("a secret is in the logs")
		}
	}
}

func getJSONWith(t *testing.T, c *client, path string, v any) int {
	t.Helper()
	status, body := c.get(path)
	if err := json.Unmarshal([]byte(body), v); err != nil && status == 200 {
		t.Fatalf("%s: %v", path, err)
	}
	return status
}

func regexpSecret(page string) string {
	i := strings.Index(page, `value="whsec_`)
	if i < 0 {
		return ""
	}
	rest := page[i+len(`value="`):]
	return html.UnescapeString(rest[:strings.IndexByte(rest, '"')])
}
