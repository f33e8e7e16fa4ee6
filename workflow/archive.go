package workflow

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// SetArchived archives an article or brings it back. An archived article
// keeps its address, history and published revision and stays readable with
// a notice, but leaves listings, feeds and search (its search row goes in
// the same transaction). Admins of the owning city, and network admins,
// may; every change is an audit event.
func (s *Service) SetArchived(ctx context.Context, m Meta, city, slug string, archived bool) error {
	if !s.perm.Can(m.Identity, auth.ArchiveArticle, city) {
		return fmt.Errorf("archiving articles of %s: %w", city, wiki.ErrForbidden)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := s.store.In(tx).Article(ctx, s.Reader(m.Identity), city, slug)
		if err != nil {
			return err
		}
		changed, err := s.store.SetArchived(ctx, tx, a.ID, archived)
		if err != nil || !changed {
			return err // already in that state: nothing to record
		}
		action := "article.archived"
		if !archived {
			action = "article.unarchived"
		} else if err := s.articleWebhook(ctx, tx, "article.archived", a, m.actor(), nil); err != nil {
			return err
		}
		return s.auditObject(ctx, tx, m, action, "article:"+a.City+"/"+a.Slug,
			map[string]any{"revision": a.Revision.ID})
	})
}
