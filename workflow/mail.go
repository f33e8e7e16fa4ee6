package workflow

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const mailChannel = "hansewiki_mail"

// MailSettings come from SMTP_URL: smtp://[user:password@]host[:port]?from=ADDRESS[&tls=starttls|tls|none].
type MailSettings struct {
	Host, Port string
	Username   string
	Password   string
	From       string
	TLS        string // "starttls" (default: when the server offers it), "tls" (implicit), "none"
	BaseURL    string // links in mails
}

// ParseSMTPURL reads SMTP_URL.
func ParseSMTPURL(raw, baseURL string) (*MailSettings, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL must look like smtp://user:password@host:587?from=wiki@example.org")
	}
	m := &MailSettings{Host: u.Hostname(), Port: u.Port(), From: u.Query().Get("from"), TLS: u.Query().Get("tls"), BaseURL: strings.TrimSuffix(baseURL, "/")}
	if u.Scheme == "smtps" {
		m.TLS = "tls"
	}
	if m.Port == "" {
		m.Port = map[bool]string{true: "465", false: "587"}[m.TLS == "tls"]
	}
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if m.From == "" {
		return nil, errors.New("SMTP_URL needs ?from=ADDRESS")
	}
	return m, nil
}

func (m *MailSettings) hostname() string {
	if at := strings.LastIndex(m.From, "@"); at >= 0 {
		return m.From[at+1:]
	}
	return "hansewiki"
}

var mailTexts = map[string][2]string{
	"change.submitted":         {"Neue Änderung zur Prüfung", "New change to review"},
	"change.approved":          {"Ihre Änderung wurde freigegeben", "Your change was approved"},
	"change.changes_requested": {"Überarbeitung erbeten", "Changes requested"},
	"change.rejected":          {"Ihre Änderung wurde abgelehnt", "Your change was rejected"},
	"change.published":         {"Veröffentlicht", "Published"},
	"change.conflict":          {"Konflikt: bitte neu aufsetzen", "Conflict: please rebase"},
	"change.comment":           {"Neuer Kommentar", "New comment"},
}

func (m *MailSettings) compose(kind string, c *Change, actor string) (subject, body string) {
	t := mailTexts[kind]
	subject = fmt.Sprintf("[Hansewiki] %s: %s", t[0], c.Title)
	link := fmt.Sprintf("%s/changes/%d", m.BaseURL, c.ID)
	body = fmt.Sprintf("%s: %s (%s/%s)\nvon / by: %s\n\n%s\n\n-- \n%s / %s\nHansewiki – Smarte Hanse\n",
		t[0], c.Title, c.City, c.Slug, actor, link, t[0], t[1])
	return subject, body
}

// Mailer sends the queued mail after the transactions that wrote it have
// committed. Several instances share the queue (SKIP LOCKED); a failed
// delivery is retried with exponential backoff.
type Mailer struct {
	pool     *pgxpool.Pool
	settings *MailSettings
	log      *slog.Logger
	// Poll is how often the queue is checked besides NOTIFY (default 5s).
	Poll time.Duration
	// MaxBackoff caps the wait between attempts (default 30 min).
	MaxBackoff time.Duration
}

// NewMailer returns a mailer for settings.
func NewMailer(pool *pgxpool.Pool, settings *MailSettings, log *slog.Logger) *Mailer {
	return &Mailer{pool: pool, settings: settings, log: log, Poll: 5 * time.Second, MaxBackoff: 30 * time.Minute}
}

// Run sends mail until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	go m.listen(ctx, wake)
	for ctx.Err() == nil {
		for {
			n, err := m.SendDue(ctx)
			if err != nil && ctx.Err() == nil {
				m.log.Warn("sending mail", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(m.Poll):
		}
	}
}

func (m *Mailer) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		conn, err := m.pool.Acquire(ctx)
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		pc := conn.Hijack()
		if _, err := pc.Exec(ctx, "LISTEN "+mailChannel); err == nil {
			for {
				if _, err := pc.WaitForNotification(ctx); err != nil {
					break
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
		pc.Close(context.WithoutCancel(ctx))
	}
}

// SendDue sends up to 20 due messages and reports how many it handled.
func (m *Mailer) SendDue(ctx context.Context) (int, error) {
	handled := 0
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, to_addr, subject, body, message_id, attempts FROM mail_queue
			WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED`)
		type queued struct {
			ID                     int64
			To, Subject, Body, MID string
			Attempts               int
		}
		due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[queued])
		if err != nil {
			return err
		}
		for _, q := range due {
			handled++
			if err := m.send(q.To, q.Subject, q.Body, q.MID); err != nil {
				wait := min(time.Duration(1<<min(q.Attempts, 20))*time.Second, m.MaxBackoff)
				if _, err2 := tx.Exec(ctx, `UPDATE mail_queue SET attempts = attempts + 1, last_error = $2,
					next_attempt_at = now() + $3::interval WHERE id = $1`, q.ID, err.Error(), wait.String()); err2 != nil {
					return err2
				}
				// The server is probably down: leave the rest for later.
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE mail_queue SET sent_at = now(), attempts = attempts + 1, last_error = '' WHERE id = $1`, q.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return handled, err
}

// send delivers one message over SMTP.
func (m *Mailer) send(to, subject, body, messageID string) error {
	s := m.settings
	addr := net.JoinHostPort(s.Host, s.Port)
	var c *smtp.Client
	var err error
	if s.TLS == "tls" {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{ServerName: s.Host})
		if err != nil {
			return err
		}
		c, err = smtp.NewClient(conn, s.Host)
		if err != nil {
			return err
		}
	} else {
		conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return err
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if c, err = smtp.NewClient(conn, s.Host); err != nil {
			return err
		}
	}
	defer c.Close()
	if s.TLS != "tls" && s.TLS != "none" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: s.Host}); err != nil {
				return err
			}
		} else if s.TLS == "starttls" {
			return errors.New("the SMTP server does not offer STARTTLS")
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return err
		}
	}
	if err = c.Mail(s.From); err != nil {
		return err
	}
	if err = c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: Hansewiki <" + s.From + ">\r\nTo: " + to + "\r\nSubject: " + mimeHeader(subject) +
		"\r\nMessage-ID: " + messageID + "\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// mimeHeader encodes a header with umlauts (RFC 2047).
func mimeHeader(s string) string { return mime.QEncoding.Encode("utf-8", s) }
