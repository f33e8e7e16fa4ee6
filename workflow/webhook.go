package workflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Webhooks (SPEC "Review operations"): network admins register endpoints
// for every city's events, city admins for their city's. An event queues
// one delivery per subscribed endpoint in the transaction that makes the
// event, so nothing leaves before commit; webhook_deliver.go sends them.

// WebhookEvents are the events an endpoint may subscribe to.
var WebhookEvents = []string{"change.submitted", "change.published", "change.rejected",
	"article.archived", "comment.created", "question.created"}

// WebhookChannel wakes every instance's delivery worker (a trigger on
// webhook_deliveries notifies it after commit).
const WebhookChannel = "hansewiki_webhooks"

// Webhook is a registered endpoint.
type Webhook struct {
	ID     int64    `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// City is nil for a network endpoint, which hears every city.
	City *string `json:"city"`
	// Secret is set only in the answer to the registration: it is shown
	// once.
	Secret     string     `json:"secret,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at"`
	// Queued counts the deliveries waiting to be sent.
	Queued int `json:"queued"`
}

// NewWebhook is a registration.
type NewWebhook struct {
	URL    string
	Events []string
	City   string // "": a network endpoint
}

// scope is the city of an endpoint's events ("" for every city).
func (w *Webhook) scope() string {
	if w.City == nil {
		return ""
	}
	return *w.City
}

// mayManageWebhooks reports whether id may register and remove endpoints
// of city ("": network endpoints): network admins everywhere, city admins
// in their city.
func (s *Service) mayManageWebhooks(id *auth.Identity, city string) bool {
	if id == nil {
		return false
	}
	if city == "" {
		return s.perm.Can(id, auth.ManageNetwork, "")
	}
	return s.perm.Can(id, auth.ManageCity, city)
}

// MayManageWebhooks reports whether id may manage any endpoint at all
// (the admin page is theirs).
func (s *Service) MayManageWebhooks(id *auth.Identity) bool {
	return s.mayManageWebhooks(id, "") || len(s.WebhookCities(id)) > 0
}

// WebhookCities are the cities whose endpoints id may manage; network
// admins may manage every city's ("*" is not returned: they pick one).
func (s *Service) WebhookCities(id *auth.Identity) []string {
	if id == nil {
		return nil
	}
	return slices.DeleteFunc(s.perm.CitiesWhere(id, auth.ManageCity), func(c string) bool { return c == auth.AllCities })
}

func invalidWebhook(field, key, msg string) error {
	return &wiki.InvalidError{Field: field, Key: key, Message: msg}
}

// checkWebhookURL accepts https URLs, without credentials, whose host is
// a name or a public address; AllowPrivate lifts both rules. A name is
// checked when connecting (see publicOnly), so DNS cannot redirect it.
func (s *Service) checkWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "", invalidWebhook("url", "webhook.url_invalid", "the URL must be absolute, like https://example.org/hook")
	}
	if u.User != nil {
		return "", invalidWebhook("url", "webhook.url_invalid", "the URL must not carry a user name or password")
	}
	allow := s.hooks.net.Load().allowPrivate
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allow:
	default:
		return "", invalidWebhook("url", "webhook.url_https", "only https URLs are accepted")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !allow && !publicAddr(ip) {
		return "", invalidWebhook("url", "webhook.url_private", "the address is not public (loopback, private, link-local or similar)")
	}
	if len(raw) > 2000 {
		return "", invalidWebhook("url", "webhook.url_invalid", "the URL is longer than 2000 bytes")
	}
	u.Fragment = ""
	return u.String(), nil
}

// newWebhookSecret is a Standard Webhooks secret: "whsec_" and 32 random
// bytes in base64.
func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// CreateWebhook registers an endpoint and returns it with its secret,
// which is never shown again.
func (s *Service) CreateWebhook(ctx context.Context, m Meta, n NewWebhook) (*Webhook, error) {
	n.City = strings.TrimSpace(n.City)
	if !s.mayManageWebhooks(m.Identity, n.City) {
		if n.City == "" {
			return nil, fmt.Errorf("only network admins register endpoints for every city: %w", wiki.ErrForbidden)
		}
		return nil, fmt.Errorf("webhooks of %s: %w", n.City, wiki.ErrForbidden)
	}
	u, err := s.checkWebhookURL(n.URL)
	if err != nil {
		return nil, err
	}
	var events []string
	for _, e := range n.Events {
		if !slices.Contains(WebhookEvents, e) {
			return nil, &wiki.InvalidError{Field: "events", Key: "webhook.event_unknown", Args: []any{e},
				Message: fmt.Sprintf("unknown event %q; known: %s", e, strings.Join(WebhookEvents, ", "))}
		}
		events = append(events, e)
	}
	slices.Sort(events)
	events = slices.Compact(events)
	if len(events) == 0 {
		return nil, invalidWebhook("events", "webhook.events_missing", "choose at least one event")
	}
	w := &Webhook{URL: u, Events: events, Secret: newWebhookSecret(), CreatedBy: m.Identity.Username}
	if n.City != "" {
		w.City = &n.City
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if w.City != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cities WHERE slug = $1)`, n.City).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return invalidWebhook("city", "city.unknown", "unknown city")
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_endpoints (url, events, city, secret, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, w.URL, w.Events, w.City, w.Secret, m.Identity.UserID).
			Scan(&w.ID, &w.CreatedAt); err != nil {
			return err
		}
		return s.auditObject(ctx, tx, m, "webhook.create", fmt.Sprintf("webhook:%d", w.ID),
			map[string]any{"host": hostOf(w.URL), "events": w.Events, "city": w.City})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Webhooks lists the endpoints id may manage, without their secrets.
func (s *Service) Webhooks(ctx context.Context, id *auth.Identity) ([]*Webhook, error) {
	if !s.MayManageWebhooks(id) {
		return nil, wiki.ErrForbidden
	}
	all := s.mayManageWebhooks(id, "")
	rows, _ := s.pool.Query(ctx, `SELECT e.id, e.url, e.events, e.city, u.username, e.created_at, e.disabled_at,
			(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending')
		FROM webhook_endpoints e JOIN users u ON u.id = e.created_by
		WHERE $1 OR e.city = ANY($2) ORDER BY e.id`, all, s.WebhookCities(id))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Webhook, error) {
		w := &Webhook{}
		err := row.Scan(&w.ID, &w.URL, &w.Events, &w.City, &w.CreatedBy, &w.CreatedAt, &w.DisabledAt, &w.Queued)
		return w, err
	})
}

// webhook loads endpoint whID if id may manage it; wiki.ErrNotFound
// otherwise, so nobody learns about endpoints outside their scope.
func (s *Service) webhook(ctx context.Context, q querier, id *auth.Identity, whID int64) (*Webhook, error) {
	w := &Webhook{ID: whID}
	err := q.QueryRow(ctx, `SELECT url, events, city FROM webhook_endpoints WHERE id = $1`, whID).Scan(&w.URL, &w.Events, &w.City)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !s.mayManageWebhooks(id, w.scope()) {
		return nil, fmt.Errorf("webhook %d: %w", whID, wiki.ErrNotFound)
	}
	return w, err
}

// WebhookByID returns an endpoint id may manage, without its secret.
func (s *Service) WebhookByID(ctx context.Context, id *auth.Identity, whID int64) (*Webhook, error) {
	return s.webhook(ctx, s.pool, id, whID)
}

// DeleteWebhook removes an endpoint and its queued deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, m Meta, whID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		w, err := s.webhook(ctx, tx, m.Identity, whID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, whID); err != nil {
			return err
		}
		return s.auditObject(ctx, tx, m, "webhook.delete", fmt.Sprintf("webhook:%d", whID),
			map[string]any{"host": hostOf(w.URL), "city": w.City})
	})
}

// hostOf is what the audit log keeps of an endpoint's URL: its path or
// query may carry a token (chat services put one there).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// WebhookDelivery is one entry of the delivery log.
type WebhookDelivery struct {
	ID            int64      `json:"id"`
	WebhookID     int64      `json:"webhook_id"`
	MessageID     string     `json:"message_id"`
	Event         string     `json:"event"`
	State         string     `json:"state"` // pending, delivered, failed, withheld
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastStatus    *int       `json:"last_status"`
	LastError     string     `json:"last_error"`
}

// WebhookDeliveries is the delivery log of the endpoints id may manage,
// newest first (webhookID 0: all of them).
func (s *Service) WebhookDeliveries(ctx context.Context, id *auth.Identity, webhookID int64, limit int) ([]WebhookDelivery, error) {
	if !s.MayManageWebhooks(id) {
		return nil, wiki.ErrForbidden
	}
	rows, _ := s.pool.Query(ctx, `SELECT d.id, d.endpoint_id, d.msg_id, d.event, d.state, d.attempts, d.created_at,
			d.last_attempt_at, CASE WHEN d.state = 'pending' THEN d.next_attempt_at END, d.last_status, d.last_error
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE ($1 OR e.city = ANY($2)) AND ($3 = 0 OR e.id = $3)
		ORDER BY d.id DESC LIMIT $4`, s.mayManageWebhooks(id, ""), s.WebhookCities(id), webhookID, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[WebhookDelivery])
}

// webhookEvent is something that happened, as endpoints may be told.
type webhookEvent struct {
	kind string
	// city is the article's city ("" for a question).
	city string
	// vis: who may read what the payload names; every one must be
	// readable by the endpoint's scope (a change: its article as
	// published and as proposed).
	vis []wiki.Visibility
	// cities are the cities a question asks (none: all of them).
	cities   []string
	question bool
	// articleID names the article, checked again when sending (0: none).
	articleID int64
	data      map[string]any
}

// scopeReader is what an endpoint of city ("" for the network) may read:
// a member of no city, or of that city.
func scopeReader(city string) wiki.Reader {
	r := wiki.Reader{Member: true}
	if city != "" {
		r.Cities = []string{city}
	}
	return r
}

// reaches reports whether endpoint (scope city, "" for network) hears the
// event: the event is of its city (a network endpoint hears every city)
// and its scope's reader may read everything the payload names, by the one
// visibility rule.
func (ev webhookEvent) reaches(city string) bool {
	reader := scopeReader(city)
	if city != "" {
		if ev.question {
			if len(ev.cities) > 0 && !slices.Contains(ev.cities, city) {
				return false
			}
		} else if ev.city != city {
			return false
		}
	}
	for _, v := range ev.vis {
		if !reader.CanRead(ev.city, v) {
			return false
		}
	}
	return true
}

// webhookTarget is an enabled endpoint subscribed to an event.
type webhookTarget struct {
	ID   int64
	City string // "" for the network
}

// webhookTargets lists the enabled endpoints subscribed to kind that
// hear city's events (question: the cities are sorted out by reaches).
// Asked first, so an event nobody subscribed to costs one query.
func webhookTargets(ctx context.Context, tx pgx.Tx, kind, city string, question bool) ([]webhookTarget, error) {
	rows, _ := tx.Query(ctx, `SELECT id, coalesce(city, '') FROM webhook_endpoints
		WHERE disabled_at IS NULL AND $1 = ANY(events) AND (city IS NULL OR city = $2 OR $3)`, kind, city, question)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[webhookTarget])
}

// queueWebhooks queues a delivery of ev to every target that may hear it,
// in tx: deliveries leave after commit.
func (s *Service) queueWebhooks(ctx context.Context, tx pgx.Tx, ev webhookEvent, targets []webhookTarget) error {
	body, err := json.Marshal(map[string]any{"type": ev.kind, "timestamp": time.Now().UTC().Format(time.RFC3339), "data": ev.data})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !ev.reaches(t.City) {
			continue
		}
		b := make([]byte, 12)
		rand.Read(b)
		msgID := "msg_" + hex.EncodeToString(b)
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, msg_id, event, payload, article_id) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, msgID, ev.kind, string(body), nullable(ev.articleID)); err != nil {
			return err
		}
	}
	return nil
}

// changeWebhook queues a change event (submitted, published, rejected).
func (s *Service) changeWebhook(ctx context.Context, tx pgx.Tx, kind string, c *Change, actor string) error {
	targets, err := webhookTargets(ctx, tx, kind, c.City, false)
	if err != nil || len(targets) == 0 {
		return err
	}
	var title, proposed string
	var published *string
	if err := tx.QueryRow(ctx, `SELECT r.title, r.visibility, p.visibility FROM change_requests c
		JOIN articles a ON a.id = c.article_id
		JOIN revisions r ON r.id = c.revision_id
		LEFT JOIN revisions p ON p.id = a.published_revision_id
		WHERE c.id = $1`, c.ID).Scan(&title, &proposed, &published); err != nil {
		return err
	}
	vis := []wiki.Visibility{wiki.Visibility(proposed)}
	if published != nil {
		vis = append(vis, wiki.Visibility(*published))
	}
	return s.queueWebhooks(ctx, tx, webhookEvent{kind: kind, city: c.City, vis: vis, articleID: c.ArticleID, data: map[string]any{
		"change": c.ID, "city": c.City, "slug": c.Slug, "title": title, "visibility": proposed, "actor": actor}}, targets)
}

// articleWebhook queues an event about a published article.
func (s *Service) articleWebhook(ctx context.Context, tx pgx.Tx, kind string, a *wiki.Article, actor string, extra map[string]any) error {
	targets, err := webhookTargets(ctx, tx, kind, a.City, false)
	if err != nil || len(targets) == 0 {
		return err
	}
	data := map[string]any{"city": a.City, "slug": a.Slug, "title": a.Revision.Title,
		"visibility": a.Revision.Visibility, "actor": actor}
	for k, v := range extra {
		data[k] = v
	}
	return s.queueWebhooks(ctx, tx, webhookEvent{kind: kind, city: a.City, vis: []wiki.Visibility{a.Revision.Visibility}, articleID: a.ID, data: data}, targets)
}

// questionWebhook queues question.created: questions are network-visible,
// and a city endpoint hears those that ask its city or every city.
func (s *Service) questionWebhook(ctx context.Context, tx pgx.Tx, qid int64, q NewQuestion, actor string) error {
	targets, err := webhookTargets(ctx, tx, "question.created", "", true)
	if err != nil || len(targets) == 0 {
		return err
	}
	return s.queueWebhooks(ctx, tx, webhookEvent{kind: "question.created", question: true, cities: q.Cities,
		vis: []wiki.Visibility{wiki.Network}, data: map[string]any{
			"question": qid, "title": q.Title, "topics": q.Topics, "cities": q.Cities, "actor": actor}}, targets)
}
