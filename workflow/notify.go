package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
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
// A recipient who may not know the article (mayKnow) is left out: a
// notification names it.
func (s *Service) notify(ctx context.Context, tx pgx.Tx, userIDs []int64, kind string, c *Change, actor, comment string) error {
	slices.Sort(userIDs)
	userIDs = slices.Compact(userIDs)
	about, err := s.subjectOf(ctx, tx, c.ID, c.ArticleID)
	if err != nil {
		return err
	}
	// Absences: deputies are told too, or instead (reminders).
	to, err := s.addressees(ctx, tx, userIDs, about.city, kind, actor, c.AuthorID)
	if err != nil {
		return err
	}
	var told int
	for _, ad := range to {
		uid := ad.user
		ok, err := s.tells(ctx, about, uid)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		told++
		var nid int64
		var email string
		err = tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, change_id, article_id, actor, comment, deputy_for)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, (SELECT email FROM users WHERE id = $1)`,
			uid, kind, c.ID, c.ArticleID, actor, comment, nullable(ad.deputyFor)).Scan(&nid, &email)
		if err != nil {
			return err
		}
		if s.Mail == nil || email == "" {
			continue
		}
		subject, body := s.Mail.compose(kind, c, actor, comment)
		if ad.deputyFor != 0 {
			body = deputyMailNote(ad.deputyForName) + body
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id, user_id, change_id, article_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			email, subject, body, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname()), uid, c.ID, c.ArticleID); err != nil {
			return err
		}
	}
	if s.Mail != nil && told > 0 {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
		return err
	}
	return nil
}

// mayKnow reports whether user userID may be told about the article of
// change changeID: the visibility rule (wiki.Reader) for the user's current
// roles, applied to the article as published (before its first
// publication: as proposed). The change's author is always told about
// their own change. A disabled or deleted account is told nothing. It is
// asked when a notification is written, when it is shown and when its
// mail is sent, as roles and visibility change in between.
func (s *Service) mayKnow(ctx context.Context, q querier, userID, changeID, articleID int64) (bool, error) {
	a, err := s.subjectOf(ctx, q, changeID, articleID)
	if err != nil {
		return false, err
	}
	return s.tells(ctx, a, userID)
}

// subject is what mayKnow weighs about a change's article, read once per
// notification round rather than once per recipient.
type subject struct {
	found  bool
	city   string
	vis    wiki.Visibility
	author int64
}

func (s *Service) subjectOf(ctx context.Context, q querier, changeID, articleID int64) (subject, error) {
	var a subject
	var vis string
	if changeID == 0 { // about the article as published (a comment)
		err := q.QueryRow(ctx, `SELECT a.city, p.visibility FROM articles a
			JOIN revisions p ON p.id = a.published_revision_id WHERE a.id = $1`, articleID).Scan(&a.city, &vis)
		if errors.Is(err, pgx.ErrNoRows) {
			return a, nil
		}
		a.found, a.vis = err == nil, wiki.Visibility(vis)
		return a, err
	}
	err := q.QueryRow(ctx, `SELECT a.city, coalesce(p.visibility, r.visibility), c.author_id
		FROM change_requests c
		JOIN articles a ON a.id = c.article_id
		JOIN revisions r ON r.id = c.revision_id
		LEFT JOIN revisions p ON p.id = a.published_revision_id
		WHERE c.id = $1 AND a.id = $2`, changeID, articleID).Scan(&a.city, &vis, &a.author)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, nil
	}
	a.found, a.vis = err == nil, wiki.Visibility(vis)
	return a, err
}

// tells applies mayKnow's rule to one recipient.
func (s *Service) tells(ctx context.Context, a subject, userID int64) (bool, error) {
	switch {
	case !a.found:
		return false, nil
	case a.author == userID:
		return true, nil
	}
	id, err := s.perm.IdentityByID(ctx, userID)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.Reader(id).CanRead(a.city, a.vis), nil
}

// Notification is one entry of a user's notification centre.
type Notification struct {
	ID       int64
	Kind     string
	ChangeID *int64
	// QuestionID names the question of a "question.*" notification.
	QuestionID *int64
	City       string
	Slug       string
	Title      string
	// Actor is who acted, by display name (the user name without one).
	Actor string
	// Comment is the reviewer's reason that came with a decision.
	Comment   string
	CreatedAt time.Time
	Read      bool
	// DeputyFor names the absent person for whom the user, as their
	// deputy, received this notification ("": for the user themselves).
	DeputyFor string
}

// Notifications returns the user's newest notifications about articles
// the user may read now (see notificationRows).
func (s *Service) Notifications(ctx context.Context, id *auth.Identity, limit int) ([]Notification, error) {
	return s.notificationRows(ctx, id, false, limit)
}

// UnreadCount is the number shown next to the bell: of the notifications
// the list would show, so the number reveals nothing the list hides.
func (s *Service) UnreadCount(ctx context.Context, id *auth.Identity) (int, error) {
	p, err := s.personal(ctx, id)
	if err != nil {
		return 0, err
	}
	return p.unread, nil
}

func (s *Service) countUnread(ctx context.Context, id *auth.Identity) (int, error) {
	list, err := s.notificationRows(ctx, id, true, maxUnread)
	return len(list), err
}

// maxUnread bounds the unread notifications counted for the bell.
const maxUnread = 1000

// notificationRows lists the user's notifications, newest first, leaving
// out those about an article the user may not read now (it became
// city-only since, or a role was revoked): the visibility rule with the
// identity's current roles, as in mayKnow. The author of a change always
// sees the notifications about it.
func (s *Service) notificationRows(ctx context.Context, id *auth.Identity, unread bool, limit int) ([]Notification, error) {
	reader := s.Reader(id)
	rows, _ := s.pool.Query(ctx, `SELECT n.id, n.kind, n.change_id, n.question_id, coalesce(a.city, ''), coalesce(a.slug, ''),
			coalesce(r.title, p.title, q.title, ''), coalesce((SELECT nullif(display_name, '') FROM users WHERE username = n.actor), n.actor), n.comment, n.created_at, n.read_at IS NOT NULL,
			coalesce(p.visibility, r.visibility, ''), c.author_id IS NOT DISTINCT FROM n.user_id,
			coalesce((SELECT coalesce(nullif(display_name, ''), username) FROM users WHERE id = n.deputy_for), '')
		FROM notifications n
		LEFT JOIN articles a ON a.id = n.article_id
		LEFT JOIN change_requests c ON c.id = n.change_id
		LEFT JOIN revisions r ON r.id = c.revision_id
		LEFT JOIN revisions p ON p.id = a.published_revision_id
		LEFT JOIN questions q ON q.id = n.question_id
		WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL)
		  AND q.hidden_at IS NULL -- a hidden question is gone, its notifications too
		ORDER BY n.id DESC`, id.UserID, unread)
	var out []Notification
	var n Notification
	var vis string
	var own bool
	_, err := pgx.ForEachRow(rows, []any{&n.ID, &n.Kind, &n.ChangeID, &n.QuestionID, &n.City, &n.Slug, &n.Title, &n.Actor, &n.Comment,
		&n.CreatedAt, &n.Read, &vis, &own, &n.DeputyFor}, func() error {
		if len(out) >= limit {
			return errEnough
		}
		// Feedback on the accessibility statement names no article.
		// Questions are network-visible: every member reads them.
		if own || n.Kind == "feedback" || n.Kind == "webhook.disabled" || (n.QuestionID != nil && reader.Member) || reader.CanRead(n.City, wiki.Visibility(vis)) {
			out = append(out, n)
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

var errEnough = errors.New("enough rows")

// MarkRead marks all of the user's notifications read.
func (s *Service) MarkRead(ctx context.Context, id *auth.Identity) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, id.UserID)
	return err
}

// MarkChangeRead marks the user's notifications about a change read: the
// person has opened the change they were told about.
func (s *Service) MarkChangeRead(ctx context.Context, id *auth.Identity, changeID int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET read_at = now()
		WHERE user_id = $1 AND change_id = $2 AND read_at IS NULL`, id.UserID, changeID)
	if err == nil && tag.RowsAffected() > 0 {
		// A read request writes here: this instance's count is right at
		// once (the page being sent shows it); the others hear the trigger.
		s.PersonalChanged(strconv.FormatInt(id.UserID, 10))
	}
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
	p, err := s.personal(ctx, id)
	if err != nil {
		s.log.Warn("reading watched articles", "err", err)
		return false
	}
	return p.watched[articleID]
}

func (s *Service) watchedArticles(ctx context.Context, userID int64) (map[int64]bool, error) {
	rows, _ := s.pool.Query(ctx, `SELECT article_id FROM watches WHERE user_id = $1`, userID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}
