package workflow

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Feedback is a message from the accessibility statement's feedback form
// (BITV 2.0 § 7 Abs. 1 Nr. 3): what did not work, where, and how to answer.
type Feedback struct {
	ID        int64
	Contact   string
	Problem   string
	Location  string
	CreatedAt time.Time
}

// SubmitFeedback keeps a feedback message and tells every network admin,
// in the app and (with mail configured) by e-mail, in one transaction.
func (s *Service) SubmitFeedback(ctx context.Context, f Feedback) (Feedback, error) {
	f.Contact, f.Problem, f.Location = strings.TrimSpace(f.Contact), strings.TrimSpace(f.Problem), strings.TrimSpace(f.Location)
	switch {
	case !utf8.ValidString(f.Contact + f.Problem + f.Location):
		return f, &wiki.InvalidError{Field: "problem", Key: "body.utf8", Message: "the text is not valid UTF-8"}
	case f.Problem == "" || utf8.RuneCountInString(f.Problem) > 5000:
		return f, &wiki.InvalidError{Field: "problem", Key: "feedback.problem", Message: "please describe what did not work (at most 5000 characters)"}
	case utf8.RuneCountInString(f.Contact) > 300 || strings.ContainsAny(f.Contact, "\r\n"):
		return f, &wiki.InvalidError{Field: "contact", Key: "feedback.contact", Message: "the contact may have at most 300 characters on one line"}
	case utf8.RuneCountInString(f.Location) > 1000:
		return f, &wiki.InvalidError{Field: "location", Key: "feedback.location", Message: "the place may have at most 1000 characters"}
	}
	var names []string
	for _, h := range s.perm.Holders(auth.ManageNetwork, auth.AllCities) {
		names = append(names, h.Username)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO accessibility_feedback (contact, problem, location) VALUES ($1, $2, $3) RETURNING id, created_at`,
			f.Contact, f.Problem, f.Location).Scan(&f.ID, &f.CreatedAt); err != nil {
			return err
		}
		to, err := activeUsers(ctx, tx, names, 0)
		if err != nil {
			return err
		}
		queued := false
		for _, uid := range to {
			var nid int64
			var email string
			if err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, feedback_id, actor, comment) VALUES ($1, 'feedback', $2, '', $3)
				RETURNING id, (SELECT email FROM users WHERE id = $1)`, uid, f.ID, truncate(f.Problem, 300)).Scan(&nid, &email); err != nil {
				return err
			}
			if s.Mail == nil || email == "" {
				continue
			}
			subject := "[Hansewiki] Rückmeldung zur Barrierefreiheit / Accessibility feedback"
			body := fmt.Sprintf("Rückmeldung zur Barrierefreiheit / Accessibility feedback #%d\n\nWas hat nicht funktioniert / What did not work:\n%s\n\nWo / Where: %s\nKontakt / Contact: %s\n\n%s/admin/feedback\n\n-- \nHansewiki – Smarte Hanse\n",
				f.ID, quote(f.Problem), f.Location, f.Contact, s.Mail.BaseURL)
			if err := s.QueueMail(ctx, tx, email, subject, body, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname())); err != nil {
				return err
			}
			queued = true
		}
		if queued {
			_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
			return err
		}
		return nil
	})
	return f, err
}

// FeedbackList lists the feedback messages, newest first.
func (s *Service) FeedbackList(ctx context.Context, limit int) ([]Feedback, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, contact, problem, location, created_at FROM accessibility_feedback ORDER BY id DESC LIMIT $1`, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Feedback])
}

// QueueMail queues one message in tx, to leave after commit; the caller
// sends MailChannel's notification. Without mail settings it does nothing.
func (s *Service) QueueMail(ctx context.Context, tx pgx.Tx, to, subject, body, messageID string) error {
	if s.Mail == nil {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id) VALUES ($1, $2, $3, $4)`, to, subject, body, messageID)
	return err
}

func quote(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
	}
	return b.String()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// QueueAccountMail queues the mail that carries an invitation or reset
// link (kind auth.LinkInvite or auth.LinkReset) in tx and wakes the
// mailers after commit. by names the inviter.
func (s *Service) QueueAccountMail(ctx context.Context, tx pgx.Tx, kind, to, link, by string) error {
	if s.Mail == nil {
		return nil
	}
	var subject, body string
	switch kind {
	case auth.LinkInvite:
		subject = "[Hansewiki] Einladung / Invitation"
		body = fmt.Sprintf("%s lädt Sie ins Hansewiki der Smarten Hanse ein.\n%s invites you to the Hansewiki of the Smarte Hanse network.\n\n"+
			"Mit diesem Link legen Sie Ihr Konto und Ihr Passwort an (gültig 7 Tage, nur einmal):\n"+
			"This link sets up your account and password (valid for 7 days, once):\n\n%s\n\n-- \nHansewiki – Smarte Hanse\n", by, by, link)
	default:
		subject = "[Hansewiki] Passwort zurücksetzen / Reset your password"
		body = fmt.Sprintf("Jemand hat für Ihr Konto ein neues Passwort angefordert.\nSomeone asked for a new password for your account.\n\n"+
			"Mit diesem Link setzen Sie es (gültig 1 Stunde, nur einmal):\nThis link sets it (valid for 1 hour, once):\n\n%s\n\n"+
			"Waren Sie das nicht, ignorieren Sie diese Nachricht; Ihr Passwort bleibt.\nIf it was not you, ignore this message; your password stays.\n\n-- \nHansewiki – Smarte Hanse\n", link)
	}
	if err := s.QueueMail(ctx, tx, to, subject, body, fmt.Sprintf("<account-%s@%s>", rand.Text(), s.Mail.hostname())); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
	return err
}
