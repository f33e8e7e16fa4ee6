package wiki

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// LegalSlugs are the legal pages every public body's site must have:
// Impressum (§ 5 DDG), privacy statement (Art. 13 DSGVO) and the
// accessibility statement (BITV 2.0 § 7).
var LegalSlugs = []string{"impressum", "datenschutz", "barrierefreiheit"}

// LegalPage is one of the legal pages, in Markdown and rendered.
type LegalPage struct {
	Slug      string
	Body      string
	HTML      string
	UpdatedAt time.Time
	UpdatedBy string
}

// maxLegalBody bounds a legal page like an article.
const maxLegalBody = 1 << 20

// LegalPage reads a legal page; one never saved is shown from its starting
// text, rendered here.
func (s *Store) LegalPage(ctx context.Context, slug string) (LegalPage, error) {
	if !slices.Contains(LegalSlugs, slug) {
		return LegalPage{}, fmt.Errorf("legal page %q: %w", slug, ErrNotFound)
	}
	var p LegalPage
	err := s.db.QueryRow(ctx, `SELECT slug, body, html, updated_at, updated_by FROM legal_pages WHERE slug = $1`, slug).
		Scan(&p.Slug, &p.Body, &p.HTML, &p.UpdatedAt, &p.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return LegalPage{}, fmt.Errorf("legal page %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return LegalPage{}, err
	}
	if p.HTML == "" {
		res, err := s.renderer.RenderContext(ctx, []byte(p.Body), "", nil)
		if err != nil {
			return LegalPage{}, err
		}
		p.HTML = res.HTML
	}
	return p, nil
}

// SaveLegalPage replaces a legal page's text (network admins). It is
// rendered through the same sanitizing pipeline as articles, audited, and
// every instance drops its cached pages.
func (s *Store) SaveLegalPage(ctx context.Context, slug, body, actor string) error {
	if !slices.Contains(LegalSlugs, slug) {
		return fmt.Errorf("legal page %q: %w", slug, ErrNotFound)
	}
	if !utf8.ValidString(body) {
		return invalid("body", "body.utf8", "the text is not valid UTF-8")
	}
	if len(body) == 0 || len(body) > maxLegalBody {
		return invalid("body", "legal.body_length", "the text must have 1 byte to 1 MiB")
	}
	res, err := s.renderer.RenderContext(ctx, []byte(body), "", nil)
	if err != nil {
		return err
	}
	return s.txFunc(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO legal_pages (slug, body, html, updated_at, updated_by) VALUES ($1, $2, $3, now(), $4)
			ON CONFLICT (slug) DO UPDATE SET body = EXCLUDED.body, html = EXCLUDED.html, updated_at = now(), updated_by = EXCLUDED.updated_by`,
			slug, body, res.HTML, actor)
		if err != nil {
			return err
		}
		// The legal pages are public, cached pages.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublishedChannel); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "legal.save", "legal:"+slug, map[string]any{"bytes": len(body)})
	})
}
