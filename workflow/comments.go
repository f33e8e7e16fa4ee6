package workflow

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Comments on articles (issue 13). Members who may read an article discuss
// it below it, threaded one level. Authors edit or delete their own comment
// for CommentEditWindow; admins of the article's city (and network admins)
// hide one, audited. Every write announces the article on
// wiki.PublishedChannel in its transaction, so every instance drops its
// cached pages of it before the writer's response (see wiki.Barrier).

// CommentEditWindow is how long an author may edit or delete a comment.
const CommentEditWindow = 15 * time.Minute

// MaxCommentRunes bounds a comment's Markdown.
const MaxCommentRunes = 10000

// ArticleComment is one comment on an article as a reader sees it.
type ArticleComment struct {
	ID         int64
	Author     string // user name
	AuthorName string // display name, the user name without one
	AuthorID   int64
	Body       string // Markdown; "" when removed
	HTML       template.HTML
	Parent     *int64
	CreatedAt  time.Time
	Edited     bool
	// Removed: deleted by its author or hidden by an admin; kept in the
	// list only as a placeholder above its replies.
	Removed bool
	Replies []*ArticleComment
}

// CommentThread is an article's comments, top-level in order with their
// replies.
type CommentThread struct {
	Article *wiki.Article
	List    []*ArticleComment
}

// ArticleComments lists the comments on an article id may read (wiki.ErrNotFound
// otherwise), rendered for the article's audience intersected with id: a
// link never shows a title someone on the page may not read.
func (s *Service) ArticleComments(ctx context.Context, id *auth.Identity, city, slug string) (*CommentThread, error) {
	if id == nil {
		return nil, wiki.ErrNotFound
	}
	reader := s.Reader(id)
	a, err := s.store.Article(ctx, reader, city, slug)
	if err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT c.id, u.username, coalesce(nullif(u.display_name, ''), u.username), c.author_id, c.body,
			c.parent_id, c.created_at, c.edited_at IS NOT NULL, c.deleted_at IS NOT NULL OR c.hidden_at IS NOT NULL
		FROM article_comments c JOIN users u ON u.id = c.author_id
		WHERE c.article_id = $1 ORDER BY c.id`, a.ID)
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*ArticleComment, error) {
		var c ArticleComment
		err := row.Scan(&c.ID, &c.Author, &c.AuthorName, &c.AuthorID, &c.Body, &c.Parent, &c.CreatedAt, &c.Edited, &c.Removed)
		return &c, err
	})
	if err != nil {
		return nil, err
	}
	var shown []*ArticleComment
	var bodies []string
	for _, c := range all {
		if c.Removed {
			c.Body = ""
			continue
		}
		shown = append(shown, c)
		bodies = append(bodies, c.Body)
	}
	html, err := s.store.PreviewMany(ctx, reader, a.City, a.Revision.Visibility, bodies)
	if err != nil {
		return nil, err
	}
	for i, c := range shown {
		c.HTML = template.HTML(html[i].HTML)
	}
	t := &CommentThread{Article: a}
	top := map[int64]*ArticleComment{}
	for _, c := range all {
		if c.Parent == nil {
			top[c.ID] = c
			t.List = append(t.List, c)
		} else if p := top[*c.Parent]; p != nil && !c.Removed {
			p.Replies = append(p.Replies, c)
		}
	}
	// A removed comment stays only as the placeholder of its replies.
	kept := t.List[:0]
	for _, c := range t.List {
		if !c.Removed || len(c.Replies) > 0 {
			kept = append(kept, c)
		}
	}
	t.List = kept
	return t, nil
}

// Flat returns the thread's comments in order, replies after their parent.
func (t *CommentThread) Flat() []*ArticleComment {
	var out []*ArticleComment
	for _, c := range t.List {
		out = append(out, c)
		out = append(out, c.Replies...)
	}
	return out
}

func checkCommentBody(body string) (string, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return "", &wiki.InvalidError{Field: "body", Key: "comment.empty", Message: "the comment is empty"}
	}
	if utf8.RuneCountInString(body) > MaxCommentRunes {
		return "", &wiki.InvalidError{Field: "body", Key: "comment.too_long", Message: fmt.Sprintf("a comment has at most %d characters", MaxCommentRunes),
			Args: []any{MaxCommentRunes}}
	}
	return body, nil
}

// AddArticleComment writes a comment (a reply when parent is set: its parent must
// be a top-level comment on the same article) and notifies the article's
// watchers and authors, and the parent's author, who may read it.
func (s *Service) AddArticleComment(ctx context.Context, m Meta, city, slug, body string, parent *int64) (*ArticleComment, error) {
	id := m.Identity
	if id == nil {
		return nil, wiki.ErrForbidden
	}
	body, err := checkCommentBody(body)
	if err != nil {
		return nil, err
	}
	a, err := s.store.Article(ctx, s.Reader(id), city, slug)
	if err != nil {
		return nil, err
	}
	c := &ArticleComment{Author: id.Username, AuthorName: id.Name(), AuthorID: id.UserID, Body: body, Parent: parent}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var to []int64
		if parent != nil {
			var grand *int64
			var author int64
			var removed bool
			err := tx.QueryRow(ctx, `SELECT parent_id, author_id, deleted_at IS NOT NULL OR hidden_at IS NOT NULL
				FROM article_comments WHERE id = $1 AND article_id = $2`, *parent, a.ID).Scan(&grand, &author, &removed)
			if errors.Is(err, pgx.ErrNoRows) || removed {
				return &wiki.InvalidError{Field: "parent", Key: "comment.parent_unknown", Message: "no such comment on this article"}
			}
			if err != nil {
				return err
			}
			if grand != nil {
				return &wiki.InvalidError{Field: "parent", Key: "comment.reply_to_reply", Message: "a reply answers a top-level comment, not a reply"}
			}
			to = append(to, author)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO article_comments (article_id, parent_id, author_id, body)
			VALUES ($1, $2, $3, $4) RETURNING id, created_at`, a.ID, parent, id.UserID, body).Scan(&c.ID, &c.CreatedAt); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT user_id FROM watches WHERE article_id = $1
			UNION SELECT author_id FROM revisions WHERE article_id = $1 AND published_at IS NOT NULL`, a.ID)
		more, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		to = append(to, more...)
		if err := s.notifyComment(ctx, tx, a, c.ID, to, id, body); err != nil {
			return err
		}
		if err := s.articleWebhook(ctx, tx, "comment.created", a, id.Username, map[string]any{"comment": c.ID}); err != nil {
			return err
		}
		return commentChanged(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// notifyComment tells the recipients, but the writer and anyone who may
// not read the article (mayKnow's rule), of a new comment.
func (s *Service) notifyComment(ctx context.Context, tx pgx.Tx, a *wiki.Article, cid int64, userIDs []int64, writer *auth.Identity, body string) error {
	about := subject{found: true, city: a.City, vis: a.Revision.Visibility}
	excerpt := body
	if utf8.RuneCountInString(excerpt) > 200 {
		excerpt = string([]rune(excerpt)[:200]) + "…"
	}
	told := map[int64]bool{writer.UserID: true}
	mailed := false
	// Absences: deputies are told too.
	to, err := s.addressees(ctx, tx, userIDs, a.City, "comment.created", writer.Username, writer.UserID)
	if err != nil {
		return err
	}
	for _, ad := range to {
		uid := ad.user
		if told[uid] {
			continue
		}
		told[uid] = true
		ok, err := s.tells(ctx, about, uid)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		var nid int64
		var email string
		if err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, article_id, actor, comment, article_comment_id, deputy_for)
			VALUES ($1, 'comment.created', $2, $3, $4, $5, $6) RETURNING id, (SELECT email FROM users WHERE id = $1)`,
			uid, a.ID, writer.Username, excerpt, cid, nullable(ad.deputyFor)).Scan(&nid, &email); err != nil {
			return err
		}
		if s.Mail == nil || email == "" {
			continue
		}
		subject, text := s.Mail.composeComment(a, writer.Username, excerpt)
		if ad.deputyFor != 0 {
			text = deputyMailNote(ad.deputyForName) + text
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id, user_id, article_id)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			email, subject, text, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname()), uid, a.ID); err != nil {
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

// unquote removes a deleted or hidden comment's text from the
// notifications that quote it.
func unquote(ctx context.Context, tx pgx.Tx, cid int64) error {
	_, err := tx.Exec(ctx, `UPDATE notifications SET comment = '' WHERE article_comment_id = $1`, cid)
	return err
}

// commentChanged announces the article so every instance drops its pages.
func commentChanged(ctx context.Context, tx pgx.Tx, a *wiki.Article) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, wiki.PublishedChannel, a.City+"/"+a.Slug)
	return err
}

// ownComment locks comment cid on the article for its author while the
// edit window lasts: wiki.ErrNotFound when it is not there, ErrForbidden
// when it is someone else's or the window has closed. This is the one
// rule for editing and deleting a comment; pages and API both come here.
func (s *Service) ownComment(ctx context.Context, tx pgx.Tx, id *auth.Identity, a *wiki.Article, cid int64) error {
	var author int64
	var open, removed bool
	err := tx.QueryRow(ctx, `SELECT author_id, created_at > $3, deleted_at IS NOT NULL OR hidden_at IS NOT NULL
		FROM article_comments WHERE id = $1 AND article_id = $2 FOR UPDATE`, cid, a.ID, s.now().Add(-CommentEditWindow)).Scan(&author, &open, &removed)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && removed) {
		return fmt.Errorf("comment %d: %w", cid, wiki.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if author != id.UserID {
		return fmt.Errorf("comment %d: only its author may change it: %w", cid, wiki.ErrForbidden)
	}
	if !open {
		return fmt.Errorf("comment %d: its author may change it only for %v after writing it: %w", cid, CommentEditWindow, wiki.ErrForbidden)
	}
	return nil
}

// EditArticleComment replaces the body of the author's own comment within the
// edit window.
func (s *Service) EditArticleComment(ctx context.Context, m Meta, cid int64, body string) (*wiki.Article, error) {
	a, err := s.articleOfComment(ctx, m, cid)
	if err != nil {
		return nil, err
	}
	if body, err = checkCommentBody(body); err != nil {
		return nil, err
	}
	return a, s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.ownComment(ctx, tx, m.Identity, a, cid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE article_comments SET body = $2, edited_at = now() WHERE id = $1`, cid, body); err != nil {
			return err
		}
		return commentChanged(ctx, tx, a)
	})
}

// DeleteArticleComment removes the author's own comment within the edit window.
func (s *Service) DeleteArticleComment(ctx context.Context, m Meta, cid int64) (*wiki.Article, error) {
	a, err := s.articleOfComment(ctx, m, cid)
	if err != nil {
		return nil, err
	}
	return a, s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.ownComment(ctx, tx, m.Identity, a, cid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE article_comments SET deleted_at = now() WHERE id = $1`, cid); err != nil {
			return err
		}
		if err := unquote(ctx, tx, cid); err != nil {
			return err
		}
		return commentChanged(ctx, tx, a)
	})
}

// HideArticleComment hides a comment on the article city/slug: admins of
// the article's city and network admins, audited.
func (s *Service) HideArticleComment(ctx context.Context, m Meta, city, slug string, cid int64) error {
	a, err := s.commentArticle(ctx, m, city, slug)
	if err != nil {
		return err
	}
	return s.hideComment(ctx, m, a, cid)
}

// HideComment hides comment cid wherever it is, by the same rule as
// HideArticleComment; a comment on an article m may not read is not found.
func (s *Service) HideComment(ctx context.Context, m Meta, cid int64) (*wiki.Article, error) {
	a, err := s.articleOfComment(ctx, m, cid)
	if err != nil {
		return nil, err
	}
	return a, s.hideComment(ctx, m, a, cid)
}

func (s *Service) hideComment(ctx context.Context, m Meta, a *wiki.Article, cid int64) error {
	if !s.perm.Can(m.Identity, auth.ManageCity, a.City) {
		return fmt.Errorf("comment %d: only admins of %s hide its comments: %w", cid, a.City, wiki.ErrForbidden)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE article_comments SET hidden_at = now(), hidden_by = $3
			WHERE id = $1 AND article_id = $2 AND hidden_at IS NULL AND deleted_at IS NULL`, cid, a.ID, m.actor())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("comment %d: %w", cid, wiki.ErrNotFound)
		}
		if err := unquote(ctx, tx, cid); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "comment.hide", fmt.Sprintf("comment:%d", cid),
			map[string]any{"article": a.City + "/" + a.Slug}); err != nil {
			return err
		}
		return commentChanged(ctx, tx, a)
	})
}

// articleOfComment is the article of comment cid, if m may read it; else
// the comment is not found, as a missing one.
func (s *Service) articleOfComment(ctx context.Context, m Meta, cid int64) (*wiki.Article, error) {
	if m.Identity == nil {
		return nil, wiki.ErrForbidden
	}
	var city, slug string
	err := s.pool.QueryRow(ctx, `SELECT a.city, a.slug FROM article_comments c JOIN articles a ON a.id = c.article_id
		WHERE c.id = $1`, cid).Scan(&city, &slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("comment %d: %w", cid, wiki.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.Article(ctx, s.Reader(m.Identity), city, slug)
	if errors.Is(err, wiki.ErrNotFound) {
		// Never name an article the caller may not read.
		return nil, fmt.Errorf("comment %d: %w", cid, wiki.ErrNotFound)
	}
	return a, err
}

func (s *Service) commentArticle(ctx context.Context, m Meta, city, slug string) (*wiki.Article, error) {
	if m.Identity == nil {
		return nil, wiki.ErrForbidden
	}
	return s.store.Article(ctx, s.Reader(m.Identity), city, slug)
}

// EditableComments returns the bodies of the user's comments that are
// still in their edit window, by id: the personal part of the comment
// list (views/personal.go).
func (s *Service) EditableComments(ctx context.Context, id *auth.Identity) (map[int64]string, error) {
	p, err := s.personal(ctx, id)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for cid, c := range p.comments {
		if s.now().Sub(c.created) < CommentEditWindow {
			out[cid] = c.body
		}
	}
	return out, nil
}

// recentComments reads the user's comments within the edit window, for the
// personal state (see EditableComments).
func (s *Service) recentComments(ctx context.Context, userID int64) (map[int64]ownComment, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, body, created_at FROM article_comments
		WHERE author_id = $1 AND created_at > $2 AND deleted_at IS NULL AND hidden_at IS NULL`, userID, s.now().Add(-CommentEditWindow))
	out := map[int64]ownComment{}
	var id int64
	var c ownComment
	_, err := pgx.ForEachRow(rows, []any{&id, &c.body, &c.created}, func() error {
		out[id] = c
		return nil
	})
	return out, err
}
