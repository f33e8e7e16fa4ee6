package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// The weekly digest ("Diese Woche in der Smarten Hanse"): members who opt
// in get one mail per ISO week with what was published in the past seven
// days in the articles and topics they watch and the cities they hold a
// role in, as far as they may read it.

// DigestSubject is the digest mail's subject.
const DigestSubject = "Diese Woche in der Smarten Hanse"

// Digest reports whether the member gets the weekly digest.
func (s *Service) Digest(ctx context.Context, id *auth.Identity) (bool, error) {
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT weekly_digest FROM users WHERE id = $1`, id.UserID).Scan(&on)
	return on, err
}

// SetDigest opts the member in or out of the weekly digest.
func (s *Service) SetDigest(ctx context.Context, m Meta, on bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET weekly_digest = $2 WHERE id = $1 AND weekly_digest <> $2`, m.Identity.UserID, on)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.auditObject(ctx, tx, m, "user.digest", "user:"+m.Identity.Username, map[string]any{"weekly_digest": on})
	})
}

// isoWeek names the ISO week of t ("2027-W09").
func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// DigestItem is one article in a digest.
type DigestItem struct {
	City, Slug, Title string
	Visibility        wiki.Visibility
	PublishedAt       time.Time
}

// maxDigestItems bounds one digest's list.
const maxDigestItems = 200

// digestItems is what id may read of what was published in the seven
// days before asOf in what they follow.
func (s *Service) digestItems(ctx context.Context, id *auth.Identity, asOf time.Time) ([]DigestItem, error) {
	var cities []string
	all := false
	for _, g := range id.Grants {
		if g.City == auth.AllCities {
			all = true
		} else if !slices.Contains(cities, g.City) {
			cities = append(cities, g.City)
		}
	}
	rows, _ := s.pool.Query(ctx, `SELECT a.city, a.slug, r.title, r.visibility, a.published_at
		FROM articles a JOIN revisions r ON r.id = a.published_revision_id
		WHERE NOT a.archived AND a.published_at > $2::timestamptz - interval '7 days' AND a.published_at <= $2
		  AND (a.id IN (SELECT article_id FROM watches WHERE user_id = $1)
		       OR r.topics && ARRAY(SELECT topic FROM topic_watches WHERE user_id = $1)
		       OR a.city IN (SELECT city FROM city_watches WHERE user_id = $1)
		       OR $4 OR a.city = ANY($3))
		ORDER BY a.published_at DESC, a.id DESC`, id.UserID, asOf, cities, all)
	var out []DigestItem
	var it DigestItem
	var vis string
	reader := s.Reader(id)
	_, err := pgx.ForEachRow(rows, []any{&it.City, &it.Slug, &it.Title, &vis, &it.PublishedAt}, func() error {
		it.Visibility = wiki.Visibility(vis)
		// The limit counts readable articles only: a network-wide role
		// follows every city, and unreadable rows must not crowd them out.
		if reader.CanRead(it.City, it.Visibility) && len(out) < maxDigestItems {
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// digestJob sends the digest of asOf's ISO week to every member who opted
// in and has not had it this week: the first run of a week (in serve, the
// Monday just after midnight UTC) covers the seven days before it. A week
// with nothing new sends nothing.
func (s *Service) digestJob(ctx context.Context, asOf time.Time) (int, error) {
	if s.Mail == nil {
		return 0, nil
	}
	week := isoWeek(asOf.In(auth.Berlin)) // days are Berlin days everywhere
	rows, _ := s.pool.Query(ctx, `SELECT id FROM users u WHERE weekly_digest AND NOT disabled AND email <> ''
		AND NOT EXISTS (SELECT 1 FROM digest_sends d WHERE d.user_id = u.id AND d.week = $1) ORDER BY id`, week)
	users, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	done := 0
	for _, uid := range users {
		id, err := s.perm.IdentityByID(ctx, uid)
		if errors.Is(err, auth.ErrUnauthenticated) {
			continue
		}
		if err != nil {
			return done, err
		}
		items, err := s.digestItems(ctx, id, asOf)
		if err != nil {
			return done, err
		}
		sent := false
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			// A week with nothing new is recorded too: the member is
			// looked at once a week, not every minute until news come.
			tag, err := tx.Exec(ctx, `INSERT INTO digest_sends (user_id, week, articles) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				uid, week, len(items))
			if err != nil || tag.RowsAffected() == 0 || len(items) == 0 {
				return err
			}
			subject, body := s.Mail.composeDigest(week, items)
			if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id, user_id) VALUES ($1, $2, $3, $4, $5)`,
				id.Email, subject, body, fmt.Sprintf("<digest-%d-%s@%s>", uid, week, s.Mail.hostname()), uid); err != nil {
				return err
			}
			sent = true
			_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
			return err
		})
		if err != nil {
			return done, err
		}
		if sent {
			done++
		}
	}
	return done, nil
}

// composeDigest writes the weekly digest.
func (m *MailSettings) composeDigest(week string, items []DigestItem) (subject, body string) {
	subject = "[Hansewiki] " + DigestSubject
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\nThis week in the Smarte Hanse\n\n", DigestSubject, week)
	for _, it := range items {
		fmt.Fprintf(&b, "* %s (%s, %s)\n  %s/c/%s/%s\n", it.Title, it.City, it.PublishedAt.Format("02.01.2006"), m.BaseURL, it.City, it.Slug)
	}
	fmt.Fprintf(&b, "\nAbbestellen / Unsubscribe: %s/account\n\n-- \nHansewiki – Smarte Hanse\n", m.BaseURL)
	return subject, b.String()
}

// composeArticle writes the mail about an article: a freshness request or
// a handover.
func (m *MailSettings) composeArticle(kind string, f *Freshness) (subject, body string) {
	t := mailTexts[kind]
	subject = fmt.Sprintf("[Hansewiki] %s: %s", t[0], f.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s (%s/%s)\n\n", t[0], f.Title, f.City, f.Slug)
	if kind == "freshness.reminder" {
		fmt.Fprintf(&b, "Fällig seit / due since: %s\n"+
			"Bitte prüfen Sie den Artikel und bestätigen Sie mit „Ja, noch aktuell“ – oder schlagen Sie eine Änderung vor.\n"+
			"Please check the article and confirm it is still right, or propose a change.\n\n", f.DueAt.Format("02.01.2006"))
	}
	fmt.Fprintf(&b, "%s/c/%s/%s\n\n-- \n%s / %s\nHansewiki – Smarte Hanse\n", m.BaseURL, f.City, f.Slug, t[0], t[1])
	return subject, b.String()
}
