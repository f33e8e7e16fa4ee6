package workflow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
)

// notifyReviewers tells the reviewers of the change's city, except its
// author, that it waits for them. When nobody but the author could approve
// it there, the network admins are told instead, as reviewers of last
// resort; the change records whom the submission reached (Notified).
func (s *Service) notifyReviewers(ctx context.Context, tx pgx.Tx, c *Change, actor string) error {
	networkAdmins := map[string]bool{}
	var admins []string
	for _, h := range s.perm.Holders(auth.ManageNetwork, auth.AllCities) {
		networkAdmins[h.Username] = true
		admins = append(admins, h.Username)
	}
	// Network admins may review everywhere, but they are asked only as the
	// last resort, unless they also hold a role in the city itself.
	var reviewers []string
	for _, h := range s.perm.Holders(auth.ReviewChange, c.City) {
		if !h.NetworkOnly || !networkAdmins[h.Username] {
			reviewers = append(reviewers, h.Username)
		}
	}
	to, err := activeUsers(ctx, tx, reviewers, c.AuthorID)
	if err != nil {
		return err
	}
	notified, kind := NotifiedReviewers, "change.submitted"
	if len(to) == 0 {
		if to, err = activeUsers(ctx, tx, admins, c.AuthorID); err != nil {
			return err
		}
		notified, kind = NotifiedNetworkAdmins, "change.last_resort"
		if len(to) == 0 {
			notified = NotifiedNobody
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE change_requests SET notified = $2 WHERE id = $1`, c.ID, notified); err != nil {
		return err
	}
	return s.notify(ctx, tx, to, kind, c, actor, "")
}

// activeUsers turns user names into the ids of enabled accounts, leaving
// out the author.
func activeUsers(ctx context.Context, tx pgx.Tx, names []string, author int64) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, `SELECT id FROM users WHERE username = ANY($1) AND NOT disabled AND id <> $2 ORDER BY id`, names, author)
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// notify writes in-app notifications and, with mail configured, queues an
// e-mail for every recipient with an address, in the transition's
// transaction. comment is the reviewer's reason for a decision ("": none).
func (s *Service) notify(ctx context.Context, tx pgx.Tx, userIDs []int64, kind string, c *Change, actor, comment string) error {
	slices.Sort(userIDs)
	userIDs = slices.Compact(userIDs)
	for _, uid := range userIDs {
		var nid int64
		var email string
		err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, change_id, article_id, actor, comment)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, (SELECT email FROM users WHERE id = $1)`,
			uid, kind, c.ID, c.ArticleID, actor, comment).Scan(&nid, &email)
		if err != nil {
			return err
		}
		if s.Mail == nil || email == "" {
			continue
		}
		subject, body := s.Mail.compose(kind, c, actor, comment)
		if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id) VALUES ($1, $2, $3, $4)`,
			email, subject, body, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname())); err != nil {
			return err
		}
	}
	if s.Mail != nil && len(userIDs) > 0 {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
		return err
	}
	return nil
}

// Notification is one entry of a user's notification centre.
type Notification struct {
	ID       int64
	Kind     string
	ChangeID *int64
	City     string
	Slug     string
	Title    string
	Actor    string
	// Comment is the reviewer's reason that came with a decision.
	Comment   string
	CreatedAt time.Time
	Read      bool
}

// Notifications returns the user's newest notifications.
func (s *Service) Notifications(ctx context.Context, id *auth.Identity, limit int) ([]Notification, error) {
	rows, _ := s.pool.Query(ctx, `SELECT n.id, n.kind, n.change_id, coalesce(a.city, ''), coalesce(a.slug, ''),
			coalesce((SELECT r.title FROM change_requests c JOIN revisions r ON r.id = c.revision_id WHERE c.id = n.change_id), ''),
			n.actor, n.comment, n.created_at, n.read_at IS NOT NULL
		FROM notifications n LEFT JOIN articles a ON a.id = n.article_id
		WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT $2`, id.UserID, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Notification])
}

// UnreadCount is the number shown next to the bell.
func (s *Service) UnreadCount(ctx context.Context, id *auth.Identity) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, id.UserID).Scan(&n)
	return n, err
}

// MarkRead marks all of the user's notifications read.
func (s *Service) MarkRead(ctx context.Context, id *auth.Identity) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, id.UserID)
	return err
}

// Watch starts or stops watching an article the user can read.
func (s *Service) Watch(ctx context.Context, id *auth.Identity, city, slug string, on bool) error {
	a, err := s.store.Article(ctx, s.Reader(id), city, slug)
	if err != nil {
		return err
	}
	if on {
		_, err = s.pool.Exec(ctx, `INSERT INTO watches (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id.UserID, a.ID)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM watches WHERE user_id = $1 AND article_id = $2`, id.UserID, a.ID)
	}
	return err
}

// Watching reports whether the user watches the article.
func (s *Service) Watching(ctx context.Context, id *auth.Identity, articleID int64) bool {
	var on bool
	s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND article_id = $2)`, id.UserID, articleID).Scan(&on)
	return on
}
