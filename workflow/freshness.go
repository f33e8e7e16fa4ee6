package workflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Freshness and ownership (issue 14). Every published article has an owner
// (its first author, or the city's admins after a handover) and maybe a
// deputy, and a review interval. When it is due, owner and deputy are asked
// whether it is still right; a confirmation is an audited event that moves
// the due date without a new revision. An article overdue by more than a
// month tells its readers so and is listed on the city's freshness page.
// When is due is computed in one place, the view article_freshness.

// Freshness is an article's stewardship and review state.
type Freshness struct {
	ArticleID  int64           `json:"-"`
	City       string          `json:"city"`
	Slug       string          `json:"slug"`
	Title      string          `json:"title"`
	Visibility wiki.Visibility `json:"-"`
	OwnerID    *int64          `json:"-"`
	// Owner is the owner's user name ("" when the city's admins own it),
	// OwnerName what the UI calls them.
	Owner      string `json:"owner"`
	OwnerName  string `json:"-"`
	DeputyID   *int64 `json:"-"`
	Deputy     string `json:"deputy"`
	DeputyName string `json:"-"`
	// ReviewMonths is the interval; CityDefault says it is the city's.
	ReviewMonths int        `json:"review_months"`
	CityDefault  bool       `json:"city_default"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	ConfirmedBy  string     `json:"confirmed_by"`
	DueAt        time.Time  `json:"due_at"`
	// Stale: overdue by more than a month when the periodic work last
	// looked, and not confirmed or published since.
	Stale bool `json:"stale"`
}

// Overdue is how long past its due date the article is at t.
func (f *Freshness) Overdue(t time.Time) time.Duration { return t.Sub(f.DueAt) }

const freshnessSelect = `SELECT f.article_id, f.city, f.slug, r.title, r.visibility,
		f.owner_id, coalesce(o.username, ''), coalesce(nullif(o.display_name, ''), o.username, ''),
		f.deputy_id, coalesce(d.username, ''), coalesce(nullif(d.display_name, ''), d.username, ''),
		f.review_months, f.city_default, f.confirmed_at, coalesce(nullif(cb.display_name, ''), cb.username, ''), f.due_at, f.stale
	FROM article_freshness f
	JOIN articles a ON a.id = f.article_id
	JOIN revisions r ON r.id = a.published_revision_id
	LEFT JOIN users o ON o.id = f.owner_id
	LEFT JOIN users d ON d.id = f.deputy_id
	LEFT JOIN users cb ON cb.id = f.confirmed_by`

func scanFreshness(rows pgx.Rows) ([]Freshness, error) {
	var out []Freshness
	var f Freshness
	var vis string
	_, err := pgx.ForEachRow(rows, []any{&f.ArticleID, &f.City, &f.Slug, &f.Title, &vis, &f.OwnerID, &f.Owner, &f.OwnerName,
		&f.DeputyID, &f.Deputy, &f.DeputyName, &f.ReviewMonths, &f.CityDefault, &f.ConfirmedAt, &f.ConfirmedBy, &f.DueAt, &f.Stale}, func() error {
		f.Visibility = wiki.Visibility(vis)
		out = append(out, f)
		return nil
	})
	return out, err
}

func (s *Service) freshnessOf(ctx context.Context, q querier, articleID int64) (*Freshness, error) {
	rows, _ := q.Query(ctx, freshnessSelect+` WHERE f.article_id = $1`, articleID)
	list, err := scanFreshness(rows)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("freshness of article %d: %w", articleID, wiki.ErrNotFound)
	}
	return &list[0], nil
}

// ArticleFreshness is the review state of a published, unarchived article
// (wiki.ErrNotFound otherwise). The caller has read the article through
// the visibility rule.
func (s *Service) ArticleFreshness(ctx context.Context, articleID int64) (*Freshness, error) {
	return s.freshnessOf(ctx, s.pool, articleID)
}

// mayConfirm is the one rule of who may confirm an article or is asked
// to: its owner, its deputy, and the admins of its city.
func (s *Service) mayConfirm(id *auth.Identity, f *Freshness) bool {
	if id == nil {
		return false
	}
	return f.OwnerID != nil && *f.OwnerID == id.UserID ||
		f.DeputyID != nil && *f.DeputyID == id.UserID ||
		s.perm.Can(id, auth.ManageCity, f.City)
}

// Confirmable is the article's review state when id may confirm it, nil
// otherwise: the "Ja, noch aktuell" button is a personal part of the
// article page, as owner and deputy are people, not roles.
func (s *Service) Confirmable(ctx context.Context, id *auth.Identity, articleID int64) (*Freshness, error) {
	if id == nil {
		return nil, nil
	}
	f, err := s.cachedFreshness(ctx, articleID)
	if err != nil || f == nil || !s.mayConfirm(id, f) || !s.Reader(id).CanRead(f.City, f.Visibility) {
		return nil, err
	}
	return f, nil
}

// freshnessCache keeps articles' review states for the confirmation
// button, so a signed-in article view from the page cache asks the
// database nothing for it. Every write that changes a review state
// announces it like a publication, and every publication drops the cache
// (FreshnessChanged); gen stops a read that began before a drop from
// storing what it read.
type freshnessCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[int64]*Freshness // nil: not published, or archived
}

func (s *Service) cachedFreshness(ctx context.Context, articleID int64) (*Freshness, error) {
	c := &s.fresh
	c.mu.Lock()
	f, ok := c.m[articleID]
	gen := c.gen
	c.mu.Unlock()
	if ok && auth.CachedReads(ctx) {
		return f, nil
	}
	f, err := s.ArticleFreshness(ctx, articleID)
	if errors.Is(err, wiki.ErrNotFound) {
		f, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if gen == c.gen {
		if c.m == nil || len(c.m) >= maxCached {
			c.m = map[int64]*Freshness{}
		}
		c.m[articleID] = f
	}
	c.mu.Unlock()
	return f, nil
}

// FreshnessChanged drops the cached review states; the page cache calls it
// for every publication notice.
func (s *Service) FreshnessChanged() {
	c := &s.fresh
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// lockFreshness reads the article as id may, locks its row and returns
// its review state.
func (s *Service) lockFreshness(ctx context.Context, tx pgx.Tx, id *auth.Identity, city, slug string) (*Freshness, error) {
	a, err := s.store.In(tx).Article(ctx, s.Reader(id), city, slug)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM articles WHERE id = $1 FOR UPDATE`, a.ID); err != nil {
		return nil, err
	}
	return s.freshnessOf(ctx, tx, a.ID)
}

// Confirm records that the article is still right: an audited event, no
// new revision; the next due date counts from now.
func (s *Service) Confirm(ctx context.Context, m Meta, city, slug string) (*Freshness, error) {
	var articleID int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		f, err := s.lockFreshness(ctx, tx, m.Identity, city, slug)
		if err != nil {
			return err
		}
		if !s.mayConfirm(m.Identity, f) {
			return fmt.Errorf("only the article's owner, deputy and city admins confirm it: %w", wiki.ErrForbidden)
		}
		articleID = f.ArticleID
		if _, err := tx.Exec(ctx, `UPDATE articles SET confirmed_at = now(), confirmed_by = $2 WHERE id = $1`, f.ArticleID, m.Identity.UserID); err != nil {
			return err
		}
		next, err := s.freshnessOf(ctx, tx, f.ArticleID)
		if err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "article.confirm", "article:"+city+"/"+slug,
			map[string]any{"previous_due": f.DueAt, "due": next.DueAt}); err != nil {
			return err
		}
		// Article pages show "geprüft am": every instance drops them.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, wiki.PublishedChannel, city+"/"+slug)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.ArticleFreshness(ctx, articleID)
}

// Stewards is a change of an article's owner, deputy or interval by its
// city's admins. A nil field stays as it is; Owner "" hands the article
// to the city's admins, Deputy "" removes the deputy, ReviewMonths 0
// returns to the city's default.
type Stewards struct {
	Owner        *string `json:"owner"`
	Deputy       *string `json:"deputy"`
	ReviewMonths *int    `json:"review_months"`
}

// MaxReviewMonths bounds review intervals (five years).
const MaxReviewMonths = 60

// SetStewards changes an article's owner, deputy or review interval; only
// the admins of its city may.
func (s *Service) SetStewards(ctx context.Context, m Meta, city, slug string, st Stewards) (*Freshness, error) {
	var articleID int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		f, err := s.lockFreshness(ctx, tx, m.Identity, city, slug)
		if err != nil {
			return err
		}
		if !s.perm.Can(m.Identity, auth.ManageCity, f.City) {
			return fmt.Errorf("only the city's admins change who looks after its articles: %w", wiki.ErrForbidden)
		}
		articleID = f.ArticleID
		owner, deputy, months := f.OwnerID, f.DeputyID, &f.ReviewMonths
		if f.CityDefault {
			months = nil
		}
		if st.Owner != nil {
			if owner, err = s.steward(ctx, tx, "owner", *st.Owner, f.City); err != nil {
				return err
			}
		}
		if st.Deputy != nil {
			if deputy, err = s.steward(ctx, tx, "deputy", *st.Deputy, f.City); err != nil {
				return err
			}
		}
		if st.ReviewMonths != nil {
			switch n := *st.ReviewMonths; {
			case n == 0:
				months = nil
			case n < 1 || n > MaxReviewMonths:
				return &wiki.InvalidError{Field: "review_months", Key: "review_months.range",
					Message: fmt.Sprintf("the review interval lies between 1 and %d months", MaxReviewMonths)}
			default:
				months = &n
			}
		}
		if deputy != nil && owner != nil && *deputy == *owner {
			return &wiki.InvalidError{Field: "deputy", Key: "deputy.owner", Message: "the deputy must be someone other than the owner"}
		}
		if _, err := tx.Exec(ctx, `UPDATE articles SET owner_id = $2, deputy_id = $3, review_months = $4 WHERE id = $1`,
			f.ArticleID, owner, deputy, months); err != nil {
			return err
		}
		detail := map[string]any{"previous_owner": f.Owner, "previous_deputy": f.Deputy, "review_months": months}
		if st.Owner != nil {
			detail["owner"] = *st.Owner
		}
		if st.Deputy != nil {
			detail["deputy"] = *st.Deputy
		}
		if err := s.auditObject(ctx, tx, m, "article.stewards", "article:"+city+"/"+slug, detail); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, wiki.PublishedChannel, city+"/"+slug)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.ArticleFreshness(ctx, articleID)
}

// steward resolves a user name for owner or deputy: "" is nobody; anyone
// else must be an enabled account with a role in the city.
func (s *Service) steward(ctx context.Context, tx pgx.Tx, field, username, city string) (*int64, error) {
	username = auth.NormalizeUsername(username)
	if username == "" {
		return nil, nil
	}
	var uid int64
	err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = $1 AND NOT disabled`, username).Scan(&uid)
	if err == nil {
		var id *auth.Identity
		if id, err = s.perm.IdentityByID(ctx, uid); err == nil && s.perm.Can(id, auth.ReadCityArticles, city) {
			return &uid, nil
		}
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) && !errors.Is(err, auth.ErrUnauthenticated) {
		return nil, err
	}
	return nil, &wiki.InvalidError{Field: field, Key: "steward.role",
		Message: fmt.Sprintf("%s: %s is no active member with a role in %s", field, username, city)}
}

// SetCityReviewMonths sets the city's default review interval; only its
// admins may.
func (s *Service) SetCityReviewMonths(ctx context.Context, m Meta, city string, months int) error {
	if !s.perm.Can(m.Identity, auth.ManageCity, city) {
		return fmt.Errorf("the review interval of %s: %w", city, wiki.ErrForbidden)
	}
	if months < 1 || months > MaxReviewMonths {
		return &wiki.InvalidError{Field: "review_months", Key: "review_months.range",
			Message: fmt.Sprintf("the review interval lies between 1 and %d months", MaxReviewMonths)}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var old int
		if err := tx.QueryRow(ctx, `SELECT review_months FROM cities WHERE slug = $1 FOR UPDATE`, city).Scan(&old); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("city %s: %w", city, wiki.ErrNotFound)
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cities SET review_months = $2 WHERE slug = $1`, city, months); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "city.review_interval", "city:"+city, map[string]any{"review_months": months, "previous": old}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, wiki.PublishedChannel)
		return err
	})
}

// CityReviewMonths is the city's default review interval.
func (s *Service) CityReviewMonths(ctx context.Context, city string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT review_months FROM cities WHERE slug = $1`, city).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("city %s: %w", city, wiki.ErrNotFound)
	}
	return n, err
}

// StaleArticles lists the city's articles overdue by more than a month,
// the most overdue first, for those who may read the city's articles.
func (s *Service) StaleArticles(ctx context.Context, id *auth.Identity, city string) ([]Freshness, error) {
	if !s.perm.Can(id, auth.ReadCityArticles, city) {
		return nil, fmt.Errorf("the freshness of %s: %w", city, wiki.ErrForbidden)
	}
	rows, _ := s.pool.Query(ctx, freshnessSelect+` WHERE f.city = $1 AND f.stale ORDER BY f.due_at, f.slug`, city)
	list, err := scanFreshness(rows)
	if err != nil {
		return nil, err
	}
	reader := s.Reader(id)
	out := list[:0]
	for _, f := range list {
		if reader.CanRead(f.City, f.Visibility) {
			out = append(out, f)
		}
	}
	return out, nil
}

// registerUpkeep registers the periodic work of freshness and the weekly
// digest, and the handover of a disabled account's articles.
func (s *Service) registerUpkeep() {
	s.RegisterJob("freshness", s.freshnessJob)
	s.RegisterJob("digest", s.digestJob)
	if a, ok := s.perm.(interface{ OnDisable(auth.DisableHook) }); ok {
		a.OnDisable(s.handOver)
	}
}

// systemActor names the periodic work in notifications and the audit log.
const systemActor = "hansewiki"

// freshnessJob marks articles overdue by more than a month as of asOf,
// and asks owner and deputy of every due article once per due date.
func (s *Service) freshnessJob(ctx context.Context, asOf time.Time) (int, error) {
	var done int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE articles a SET stale_due = f.due_at FROM article_freshness f
			WHERE f.article_id = a.id AND f.due_at + interval '1 month' <= $1 AND a.stale_due IS DISTINCT FROM f.due_at`, asOf)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		done = int(tag.RowsAffected())
		// Their pages now say so: every instance drops them.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, wiki.PublishedChannel)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("marking stale articles: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT f.article_id FROM article_freshness f
		WHERE f.due_at <= $1 AND NOT EXISTS (SELECT 1 FROM freshness_requests q WHERE q.article_id = f.article_id AND q.due_at = f.due_at)
		ORDER BY f.due_at`, asOf)
	due, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return done, err
	}
	for _, articleID := range due {
		asked := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT 1 FROM articles WHERE id = $1 FOR UPDATE`, articleID); err != nil {
				return err
			}
			f, err := s.freshnessOf(ctx, tx, articleID)
			if errors.Is(err, wiki.ErrNotFound) {
				return nil // archived meanwhile
			}
			if err != nil || f.DueAt.After(asOf) {
				return err // confirmed meanwhile
			}
			to, err := s.stewardsOf(ctx, tx, f)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO freshness_requests (article_id, due_at, recipients) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, articleID, f.DueAt, len(to))
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
			asked = true
			told, err := s.notifyArticle(ctx, tx, to, "freshness.reminder", f, systemActor)
			if err != nil || told > 0 {
				return err
			}
			// Nobody of them may read it any more: its city's admins.
			if to, err = s.cityAdmins(ctx, tx, f.City); err != nil {
				return err
			}
			_, err = s.notifyArticle(ctx, tx, to, "freshness.reminder", f, systemActor)
			return err
		})
		if err != nil {
			return done, err
		}
		if asked {
			done++
		}
	}
	return done, nil
}

// stewardsOf is whom to ask about an article: its owner and deputy while
// their accounts are enabled, else the city's admins.
func (s *Service) stewardsOf(ctx context.Context, tx pgx.Tx, f *Freshness) ([]int64, error) {
	var ids []int64
	for _, p := range []*int64{f.OwnerID, f.DeputyID} {
		if p != nil {
			ids = append(ids, *p)
		}
	}
	if len(ids) > 0 {
		rows, _ := tx.Query(ctx, `SELECT id FROM users WHERE id = ANY($1) AND NOT disabled ORDER BY id`, ids)
		active, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(active) > 0 {
			return active, err
		}
	}
	return s.cityAdmins(ctx, tx, f.City)
}

// cityAdmins are the enabled admins of the city, or the network admins
// when it has none of its own.
func (s *Service) cityAdmins(ctx context.Context, tx pgx.Tx, city string) ([]int64, error) {
	var names []string
	for _, h := range s.perm.Holders(auth.ManageCity, city) {
		if !h.NetworkOnly {
			names = append(names, h.Username)
		}
	}
	ids, err := activeUsers(ctx, tx, names, 0)
	if err != nil || len(ids) > 0 {
		return ids, err
	}
	names = names[:0]
	for _, h := range s.perm.Holders(auth.ManageNetwork, auth.AllCities) {
		names = append(names, h.Username)
	}
	return activeUsers(ctx, tx, names, 0)
}

// handOver runs in the transaction that disables account userID: its
// articles go to their deputy, else to the city's admins, who are told;
// where it was the deputy, the article has none any more.
func (s *Service) handOver(ctx context.Context, tx pgx.Tx, userID int64, actor string) error {
	m := Meta{Identity: &auth.Identity{Username: actor}}
	var username string
	if err := tx.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, userID).Scan(&username); err != nil {
		return err
	}
	rows, _ := tx.Query(ctx, `SELECT id, city, slug, owner_id = $1, deputy_id FROM articles
		WHERE owner_id = $1 OR deputy_id = $1 ORDER BY id FOR UPDATE`, userID)
	type held struct {
		ID         int64
		City, Slug string
		Owned      bool
		Deputy     *int64
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[held])
	if err != nil {
		return err
	}
	changed := false
	for _, a := range list {
		changed = true
		object := "article:" + a.City + "/" + a.Slug
		if !a.Owned {
			if _, err := tx.Exec(ctx, `UPDATE articles SET deputy_id = NULL WHERE id = $1`, a.ID); err != nil {
				return err
			}
			if err := s.auditObject(ctx, tx, m, "article.handover", object, map[string]any{"deputy": username, "to": ""}); err != nil {
				return err
			}
			continue
		}
		var newOwner *int64
		if a.Deputy != nil {
			var active bool
			if err := tx.QueryRow(ctx, `SELECT NOT disabled FROM users WHERE id = $1`, *a.Deputy).Scan(&active); err != nil {
				return err
			}
			if active {
				newOwner = a.Deputy
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE articles SET owner_id = $2, deputy_id = NULL WHERE id = $1`, a.ID, newOwner); err != nil {
			return err
		}
		var to []int64
		toName := "city admins"
		if newOwner != nil {
			to = []int64{*newOwner}
			if err := tx.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, *newOwner).Scan(&toName); err != nil {
				return err
			}
		} else if to, err = s.cityAdmins(ctx, tx, a.City); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "article.handover", object, map[string]any{"owner": username, "to": toName}); err != nil {
			return err
		}
		f, err := s.freshnessOf(ctx, tx, a.ID)
		if errors.Is(err, wiki.ErrNotFound) {
			continue // archived: nobody to ask about it
		}
		if err != nil {
			return err
		}
		if _, err := s.notifyArticle(ctx, tx, to, "article.handover", f, actor); err != nil {
			return err
		}
	}
	if changed {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, wiki.PublishedChannel)
		return err
	}
	return nil
}

// notifyArticle tells the recipients who may read article f about it (a
// freshness reminder, a handover), with absences applied (addressees): in
// the app and, with mail configured, by e-mail. It says how many it told.
func (s *Service) notifyArticle(ctx context.Context, tx pgx.Tx, userIDs []int64, kind string, f *Freshness, actor string) (int, error) {
	about := subject{found: true, city: f.City, vis: f.Visibility}
	seen := map[int64]bool{}
	told := 0
	mailed := false
	// Absences: a reminder reaches an absent person's deputy instead.
	to, err := s.addressees(ctx, tx, userIDs, f.City, kind, actor)
	if err != nil {
		return 0, err
	}
	for _, ad := range to {
		uid := ad.user
		if seen[uid] {
			continue
		}
		seen[uid] = true
		ok, err := s.tells(ctx, about, uid)
		if err != nil {
			return told, err
		}
		if !ok {
			continue
		}
		told++
		var nid int64
		var email string
		if err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, article_id, actor, deputy_for)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, (SELECT email FROM users WHERE id = $1)`,
			uid, kind, f.ArticleID, actor, nullable(ad.deputyFor)).Scan(&nid, &email); err != nil {
			return told, err
		}
		if s.Mail == nil || email == "" {
			continue
		}
		subject, text := s.Mail.composeArticle(kind, f)
		if ad.deputyFor != 0 {
			text = deputyMailNote(ad.deputyForName) + text
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id, user_id, article_id)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			email, subject, text, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname()), uid, f.ArticleID); err != nil {
			return told, err
		}
		mailed = true
	}
	if mailed {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
		return told, err
	}
	return told, nil
}

// Checked is when the article was last confirmed (zero: never).
func (f *Freshness) Checked() time.Time {
	if f.ConfirmedAt == nil {
		return time.Time{}
	}
	return *f.ConfirmedAt
}
