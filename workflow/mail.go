package workflow

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/wiki"
)

// MailChannel announces newly queued mail to every instance's mailer.
const MailChannel = "hansewiki_mail"

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
	q := u.Query()
	m := &MailSettings{Host: u.Hostname(), Port: u.Port(), TLS: q.Get("tls"), BaseURL: strings.TrimSuffix(baseURL, "/")}
	switch m.TLS {
	case "", "starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("SMTP_URL: tls=%s: want starttls, tls or none", m.TLS)
	}
	if u.Scheme == "smtps" {
		if m.TLS != "" && m.TLS != "tls" {
			return nil, fmt.Errorf("SMTP_URL: smtps:// always uses TLS, tls=%s contradicts it", m.TLS)
		}
		m.TLS = "tls"
	}
	if m.Port == "" {
		m.Port = map[bool]string{true: "465", false: "587"}[m.TLS == "tls"]
	}
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if q.Get("from") == "" {
		return nil, errors.New("SMTP_URL needs ?from=ADDRESS")
	}
	// Only the bare address goes into the envelope and the From header.
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: from=%s is not an e-mail address", q.Get("from"))
	}
	m.From = from.Address
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
	"change.last_resort":       {"Niemand sonst kann diese Änderung prüfen", "Nobody else can review this change"},
	"change.approved":          {"Ihre Änderung wurde freigegeben", "Your change was approved"},
	"change.changes_requested": {"Überarbeitung erbeten", "Changes requested"},
	"change.rejected":          {"Ihre Änderung wurde abgelehnt", "Your change was rejected"},
	"change.published":         {"Veröffentlicht", "Published"},
	"change.conflict":          {"Konflikt: bitte neu aufsetzen", "Conflict: please rebase"},
	"change.comment":           {"Neuer Kommentar", "New comment"},
	"change.reminder":          {"Erinnerung: Änderung bald fällig", "Reminder: change due soon"},
	"change.overdue":           {"Prüfung überfällig", "Review overdue"},
	"change.escalated":         {"Prüfung seit über einem Tag überfällig", "Review overdue by more than a day"},
	"comment.created":          {"Neuer Kommentar zu einem Artikel", "New comment on an article"},
	"question.created":         {"Neue Frage: Wer hat Erfahrung?", "New question: who has experience?"},
	"question.answered":        {"Neue Antwort auf Ihre Frage", "New answer to your question"},
	"freshness.reminder":       {"Ist dieser Artikel noch aktuell?", "Is this article still up to date?"},
	"article.handover":         {"Ein Artikel wurde Ihnen übergeben", "An article was handed over to you"},
}

// composeComment writes the mail of a comment on article a.
func (m *MailSettings) composeComment(a *wiki.Article, actor, excerpt string) (subject, body string) {
	t := mailTexts["comment.created"]
	subject = fmt.Sprintf("[Hansewiki] %s: %s", t[0], a.Revision.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s/%s)\nvon / by: %s\n\n", t[0], a.Revision.Title, a.City, a.Slug, actor)
	for _, line := range strings.Split(excerpt, "\n") {
		b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
	}
	fmt.Fprintf(&b, "\n%s/c/%s/%s#comments-title\n\n-- \n%s / %s\nHansewiki – Smarte Hanse\n", m.BaseURL, a.City, a.Slug, t[0], t[1])
	return subject, b.String()
}

// composeQuestion writes the mail about a question (new, or answered).
func (m *MailSettings) composeQuestion(kind string, qid int64, title, actor string) (subject, body string) {
	t := mailTexts[kind]
	subject = fmt.Sprintf("[Hansewiki] %s: %s", t[0], title)
	link := fmt.Sprintf("%s/questions/%d", m.BaseURL, qid)
	body = fmt.Sprintf("%s: %s\nvon / by: %s\n\n%s\n\n-- \n%s / %s\nHansewiki – Smarte Hanse\n", t[0], title, actor, link, t[0], t[1])
	return subject, body
}

// lastResortNote explains to a network admin why the mail reached them.
const lastResortNote = "In dieser Stadt kann niemand außer der Autorin oder dem Autor die Änderung freigeben;\n" +
	"Sie werden als Netzwerk-Admin benachrichtigt.\n" +
	"Nobody but the author can approve this change in its city; you are told as a network admin.\n\n"

func (m *MailSettings) compose(kind string, c *Change, actor, comment string) (subject, body string) {
	t := mailTexts[kind]
	subject = fmt.Sprintf("[Hansewiki] %s: %s", t[0], c.Title)
	link := fmt.Sprintf("%s/changes/%d", m.BaseURL, c.ID)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s/%s)\nvon / by: %s\n\n", t[0], c.Title, c.City, c.Slug, actor)
	if kind == "change.last_resort" {
		b.WriteString(lastResortNote)
	}
	if c.DueAt != nil {
		switch kind {
		case "change.reminder", "change.overdue", "change.escalated":
			// The date as the wiki shows it (German local time), and in UTC.
			fmt.Fprintf(&b, "Fällig am / Due: %s (UTC: %s)\n\n", c.DueAt.In(berlin).Format("02.01.2006 15:04"),
				c.DueAt.UTC().Format("2006-01-02 15:04"))
		}
	}
	if comment != "" {
		// The reviewer's reason, quoted so it cannot pass for our text.
		b.WriteString("Begründung / Reason:\n")
		for _, line := range strings.Split(comment, "\n") {
			b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n\n-- \n%s / %s\nHansewiki – Smarte Hanse\n", link, t[0], t[1])
	return subject, b.String()
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
	// mayKnow, when set, is asked right before a notification's mail is
	// sent whether its recipient may still read the article it names.
	mayKnow func(ctx context.Context, q querier, userID, changeID, articleID int64) (bool, error)

	wake chan struct{}
}

// NewMailer returns a mailer for settings.
func NewMailer(pool *pgxpool.Pool, settings *MailSettings, log *slog.Logger) *Mailer {
	return &Mailer{pool: pool, settings: settings, log: log, Poll: 5 * time.Second, MaxBackoff: 30 * time.Minute,
		wake: make(chan struct{}, 1)}
}

// Wake makes a running mailer look at the queue now; the process's
// listener calls it for every notification on MailChannel.
func (m *Mailer) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Mailer returns the mailer for the service's mail settings. Right before
// sending, it checks with the visibility rule that each recipient may still
// read the article the mail names; a mail to someone who may not any more
// is dropped unsent.
func (s *Service) Mailer(log *slog.Logger) *Mailer {
	m := NewMailer(s.pool, s.Mail, log)
	m.mayKnow = s.mayKnow
	return m
}

// Run sends mail until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	poll := m.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	lastPurge := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastPurge) > time.Hour {
			lastPurge = time.Now()
			m.purgeSent(ctx)
		}
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
		case <-m.wake:
		case <-time.After(poll):
		}
	}
}

// SentRetention is how long delivered mail stays in the queue, for
// questions like "did the reviewers get a mail?".
const SentRetention = 30 * 24 * time.Hour

// purgeSent keeps the queue from growing forever.
func (m *Mailer) purgeSent(ctx context.Context) {
	if _, err := m.pool.Exec(ctx, `DELETE FROM mail_queue WHERE sent_at < now() - $1::interval`, SentRetention.String()); err != nil && ctx.Err() == nil {
		m.log.Warn("purging sent mail", "err", err)
	}
}

// SendDue sends up to 20 due messages and reports how many it handled.
func (m *Mailer) SendDue(ctx context.Context) (int, error) {
	handled := 0
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, to_addr, subject, body, message_id, attempts, user_id, change_id, article_id
			FROM mail_queue
			WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED`)
		type queued struct {
			ID                     int64
			To, Subject, Body, MID string
			Attempts               int
			User, Change, Article  *int64
		}
		due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[queued])
		if err != nil {
			return err
		}
		for _, q := range due {
			handled++
			// A mail about an article without a change (a comment) is
			// checked against the article as published.
			if m.mayKnow != nil && q.User != nil && q.Article != nil {
				var change int64
				if q.Change != nil {
					change = *q.Change
				}
				ok, err := m.mayKnow(ctx, tx, *q.User, change, *q.Article)
				if err != nil {
					return err
				}
				if !ok {
					// It names an article its recipient may no longer read.
					m.log.Info("mail withheld: the recipient may no longer read the article", "mail", q.ID)
					if _, err := tx.Exec(ctx, `DELETE FROM mail_queue WHERE id = $1`, q.ID); err != nil {
						return err
					}
					continue
				}
			}
			if err := m.send(ctx, q.To, q.Subject, q.Body, q.MID); err != nil {
				wait := min(time.Duration(1<<min(q.Attempts, 20))*time.Second, m.MaxBackoff)
				if _, err2 := tx.Exec(ctx, `UPDATE mail_queue SET attempts = attempts + 1, last_error = $2,
					next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`, q.ID, err.Error(), wait.Seconds()); err2 != nil {
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

// mailTimeout bounds one delivery, so a server that stops answering cannot
// hold the queue rows (and the transaction locking them) for long.
const mailTimeout = 30 * time.Second

// send delivers one message over SMTP.
func (m *Mailer) send(ctx context.Context, to, subject, body, messageID string) error {
	s := m.settings
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, s.Port)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if s.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: s.Host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	// The deadline covers the whole conversation, TLS handshakes included;
	// cancelling ctx (shutdown) ends it at once.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return err
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
	// Data's writer dot-stuffs lines that begin with a dot.
	if _, err := w.Write(composeMessage(s.From, to, subject, body, messageID, time.Now())); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has accepted the message: a failing QUIT must not make us
	// send it a second time.
	c.Quit()
	return nil
}

// composeMessage builds the RFC 5322 message. The body is quoted-printable,
// so umlauts arrive intact through servers without 8BITMIME and no line
// exceeds the 998 characters SMTP allows.
func composeMessage(from, to, subject, body, messageID string, date time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("From: Hansewiki <" + from + ">\r\nTo: " + to + "\r\nSubject: " + mimeHeader(subject) +
		"\r\nMessage-ID: " + messageID + "\r\nDate: " + date.Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(body)) // line breaks become CRLF
	qp.Close()
	return b.Bytes()
}

// mimeHeader encodes a header with umlauts (RFC 2047). Long values become
// several encoded-words, one per folded line, so the header stays within
// the line length limits however long an article title is.
func mimeHeader(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// berlin is the time zone the wiki shows dates in.
var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}()
