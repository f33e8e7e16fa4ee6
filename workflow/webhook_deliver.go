package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Deliveries are sent by DeliverDue, which takes "now" as a parameter: the
// worker calls it with the clock, `jobs run --as-of` with the given time,
// so tests move time through retries and the three-day limit without
// sleeping. The signature's timestamp is always the real sending time
// (receivers reject stale ones).

// WebhookRetryFor is how long a delivery is retried before its endpoint
// is disabled.
const WebhookRetryFor = 72 * time.Hour

// webhookBackoff is the wait after the n-th failed attempt (the last
// entry repeats): the first retry comes within a minute.
var webhookBackoff = []time.Duration{30 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// WebhookPoll is how often serve looks for retries that fell due (new
// deliveries wake it at once).
const WebhookPoll = 10 * time.Second

// webhookTimeout bounds one attempt, connection and answer included.
const webhookTimeout = 15 * time.Second

// webhooks is the delivery side of the service.
type webhooks struct {
	// net is the network policy; tests switch it while a worker runs.
	net  atomic.Pointer[webhookNet]
	wake chan struct{}
}

// webhookNet is whether private targets are allowed, and the client that
// enforces it.
type webhookNet struct {
	allowPrivate bool
	client       *http.Client
}

// initWebhooks sets up delivery and registers it as periodic work, so
// `jobs run --as-of` delivers what is due as of that time.
func initWebhooks(s *Service) {
	s.hooks = &webhooks{wake: make(chan struct{}, 1)}
	s.AllowPrivateWebhooks(false)
	s.RegisterJob("webhooks", s.DeliverDue)
}

// AllowPrivateWebhooks (HANSEWIKI_WEBHOOK_ALLOW_PRIVATE) accepts http URLs
// and private, loopback and link-local targets: for an intranet endpoint
// or a test. Call it before serving.
func (s *Service) AllowPrivateWebhooks(allow bool) {
	s.hooks.net.Store(&webhookNet{allowPrivate: allow, client: webhookClient(allow)})
}

// webhookClient follows no redirect and, unless allow, connects only to
// public addresses: the check runs on the address actually dialled, after
// DNS, so a name cannot lead it to an internal host. No proxy from the
// environment: it would connect on the client's behalf, unchecked.
func webhookClient(allow bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allow {
		d.Control = publicOnly
	}
	return &http.Client{
		Timeout: webhookTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// errPrivateTarget is a connection refused by the SSRF rule.
var errPrivateTarget = errors.New("the target address is not public")

// publicOnly is the dialer's Control: it sees the resolved address.
func publicOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if !publicAddr(ip) {
		return fmt.Errorf("%s: %w", ip, errPrivateTarget)
	}
	return nil
}

// Shared address space (carrier-grade NAT) and the benchmarking and
// IETF protocol ranges are not reachable on the public internet either.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64: may embed a private IPv4 address
}

// publicAddr reports whether ip is a public unicast address: not
// loopback, private, link-local, unspecified or multicast.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// WakeWebhooks makes a running worker look at the queue now; the
// process's listener calls it for WebhookChannel.
func (s *Service) WakeWebhooks() {
	select {
	case s.hooks.wake <- struct{}{}:
	default:
	}
}

// RunWebhooks delivers what is due whenever woken, and every poll
// (retries fall due without a notification), until ctx ends.
func (s *Service) RunWebhooks(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.hooks.wake:
		case <-t.C:
		}
	}
}

// DeliverDue sends every delivery due as of now, one at a time, and says
// how many it attempted. Instances share the queue (FOR UPDATE SKIP
// LOCKED); a delivery is attempted at most once per call.
func (s *Service) DeliverDue(ctx context.Context, now time.Time) (int, error) {
	seen := []int64{} // not nil: NULL would match no row
	for {
		id, err := s.deliverOne(ctx, now, seen)
		if err != nil || id == 0 {
			return len(seen), err
		}
		seen = append(seen, id)
	}
}

type dueDelivery struct {
	ID        int64
	MsgID     string
	Event     string
	Payload   string
	CreatedAt time.Time
	Attempts  int
	Endpoint  int64
	URL       string
	Secret    string
	// Scope is the endpoint's city ("" for the network); City and Vis
	// are the named article's now (nil: none, or never published).
	Scope string
	City  *string
	Vis   *string
}

// deliverOne claims one due delivery, sends it and records the outcome in
// the same transaction, so two workers never send it at once.
func (s *Service) deliverOne(ctx context.Context, now time.Time, skip []int64) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT d.id, d.msg_id, d.event, d.payload, d.created_at, d.attempts, e.id, e.url, e.secret,
				coalesce(e.city, ''), a.city, p.visibility
			FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			LEFT JOIN articles a ON a.id = d.article_id
			LEFT JOIN revisions p ON p.id = a.published_revision_id
			WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND e.disabled_at IS NULL AND d.id <> ALL($2)
			ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED`, now, skip)
		d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[dueDelivery])
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		id = d.ID
		// The article may have become unreadable in the endpoint's scope
		// since the event (retries last days): then nothing is sent.
		if d.City != nil && d.Vis != nil && !scopeReader(d.Scope).CanRead(*d.City, wiki.Visibility(*d.Vis)) {
			s.log.Info("webhook delivery withheld: the article is no longer readable in the endpoint's scope", "webhook", d.Endpoint, "delivery", d.ID)
			_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'withheld', last_attempt_at = $2,
				last_error = 'withheld: the article is no longer readable in this scope' WHERE id = $1`, d.ID, now)
			return err
		}
		status, sendErr := s.send(ctx, d)
		d.Attempts++
		if sendErr == nil {
			s.log.Info("webhook delivered", "webhook", d.Endpoint, "delivery", d.ID, "event", d.Event, "status", status, "attempt", d.Attempts)
			_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'delivered', attempts = $2, last_attempt_at = $3,
				last_status = $4, last_error = '' WHERE id = $1`, d.ID, d.Attempts, now, status)
			return err
		}
		var st *int
		if status != 0 {
			st = &status
		}
		msg := sendErr.Error()
		deadline := d.CreatedAt.Add(WebhookRetryFor)
		s.log.Warn("webhook delivery failed", "webhook", d.Endpoint, "delivery", d.ID, "event", d.Event, "attempt", d.Attempts, "err", msg)
		if !now.Before(deadline) {
			if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'failed', attempts = $2, last_attempt_at = $3,
				last_status = $4, last_error = $5 WHERE id = $1`, d.ID, d.Attempts, now, st, msg); err != nil {
				return err
			}
			return s.disableWebhook(ctx, tx, d.Endpoint, now)
		}
		wait := webhookBackoff[min(d.Attempts, len(webhookBackoff))-1]
		next := now.Add(wait)
		if next.After(deadline) {
			next = deadline // one last attempt when the three days are up
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = $2, last_attempt_at = $3, next_attempt_at = $4,
			last_status = $5, last_error = $6 WHERE id = $1`, d.ID, d.Attempts, now, next, st, msg)
		return err
	})
	return id, err
}

// send posts one delivery, signed per Standard Webhooks. A 2xx answer is
// success; anything else (a redirect too) is a failure with its status.
func (s *Service) send(ctx context.Context, d dueDelivery) (int, error) {
	wh, err := standardwebhooks.NewWebhook(d.Secret)
	if err != nil {
		return 0, errors.New("the endpoint's secret is unusable")
	}
	sent := time.Now()
	sig, err := wh.Sign(d.MsgID, sent, []byte(d.Payload))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader([]byte(d.Payload)))
	if err != nil {
		return 0, errors.New("the URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hansewiki-Webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.MsgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(sent.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.hooks.net.Load().client.Do(req)
	if err != nil {
		// The URL may carry a token in its path: name only what failed.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// disableWebhook turns an endpoint off after three days of failure, gives
// up its other queued deliveries and tells its owners: who registered it
// and the admins of its scope (the city's, or the network's).
func (s *Service) disableWebhook(ctx context.Context, tx pgx.Tx, endpoint int64, now time.Time) error {
	var target string
	var city *string
	var creator int64
	err := tx.QueryRow(ctx, `UPDATE webhook_endpoints SET disabled_at = $2,
			disabled_reason = 'deliveries failed for three days'
		WHERE id = $1 AND disabled_at IS NULL RETURNING url, city, created_by`, endpoint, now).Scan(&target, &city, &creator)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // disabled already
	}
	if err != nil {
		return err
	}
	s.log.Warn("webhook disabled after three days of failed deliveries", "webhook", endpoint)
	if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'failed',
			last_error = CASE WHEN last_error = '' THEN 'endpoint disabled' ELSE last_error END
		WHERE endpoint_id = $1 AND state = 'pending'`, endpoint); err != nil {
		return err
	}
	var names []string
	if city == nil {
		for _, h := range s.perm.Holders(auth.ManageNetwork, auth.AllCities) {
			names = append(names, h.Username)
		}
	} else {
		for _, h := range s.perm.Holders(auth.ManageCity, *city) {
			if !h.NetworkOnly {
				names = append(names, h.Username)
			}
		}
	}
	to, err := activeUsers(ctx, tx, names, 0)
	if err != nil {
		return err
	}
	to = append(to, creator)
	return s.notifyWebhookDisabled(ctx, tx, to, endpoint, target)
}

// notifyWebhookDisabled writes the notifications and queues the mails.
func (s *Service) notifyWebhookDisabled(ctx context.Context, tx pgx.Tx, to []int64, endpoint int64, target string) error {
	seen := map[int64]bool{}
	mailed := false
	for _, uid := range to {
		if seen[uid] {
			continue
		}
		seen[uid] = true
		var nid int64
		var email string
		var disabled bool
		if err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, webhook_id, comment)
			VALUES ($1, 'webhook.disabled', $2, $3) RETURNING id, (SELECT email FROM users WHERE id = $1), (SELECT disabled FROM users WHERE id = $1)`,
			uid, endpoint, target).Scan(&nid, &email, &disabled); err != nil {
			return err
		}
		if s.Mail == nil || email == "" || disabled {
			continue
		}
		subject := "[Hansewiki] Webhook abgeschaltet / Webhook disabled"
		body := fmt.Sprintf("Die Zustellungen an %s sind seit drei Tagen fehlgeschlagen; der Webhook wurde abgeschaltet.\n"+
			"Deliveries to %s have failed for three days; the webhook was disabled.\n\n%s/admin/webhooks\n", target, target, s.Mail.BaseURL)
		if err := s.QueueMail(ctx, tx, email, subject, body, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname())); err != nil {
			return err
		}
		mailed = true
	}
	if mailed {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
		return err
	}
	return nil
}

// QueuedWebhooks counts the deliveries waiting to be sent (a metric).
func (s *Service) QueuedWebhooks(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// LogValue keeps a webhook's secret out of logs if one is ever logged.
func (w *Webhook) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", w.ID), slog.Any("city", w.City))
}
