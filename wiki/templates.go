package wiki

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki/slug"
)

// Template is a starting text for new articles, such as the experience
// report's structure; network admins edit them.
type Template struct {
	Slug   string `json:"slug"`
	NameDE string `json:"name_de"`
	NameEN string `json:"name_en"`
	Body   string `json:"body"`
}

// Name is the template's name in lang.
func (t Template) Name(lang string) string {
	if lang == "en" && t.NameEN != "" {
		return t.NameEN
	}
	return t.NameDE
}

var templateSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// MaxTemplateBytes bounds a template's text.
const MaxTemplateBytes = 64 << 10

// Templates lists the templates by German name.
func (s *Store) Templates(ctx context.Context) ([]Template, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name_de, name_en, body FROM article_templates ORDER BY name_de`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Template])
}

// TemplateBySlug returns one template.
func (s *Store) TemplateBySlug(ctx context.Context, slugName string) (Template, error) {
	rows, _ := s.db.Query(ctx, `SELECT slug, name_de, name_en, body FROM article_templates WHERE slug = $1`, slugName)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Template])
	return t, notFound(err, "template "+slugName)
}

// SaveTemplate creates or replaces a template (slug derived from the German
// name when empty), audited as the actor.
func (s *Store) SaveTemplate(ctx context.Context, t Template, actor string) (Template, error) {
	t.NameDE, t.NameEN = strings.TrimSpace(t.NameDE), strings.TrimSpace(t.NameEN)
	t.Body = strings.ReplaceAll(t.Body, "\r\n", "\n")
	if t.NameEN == "" {
		t.NameEN = t.NameDE
	}
	if t.Slug == "" {
		t.Slug = slug.Make(t.NameDE, 60)
	}
	switch {
	case t.NameDE == "" || utf8.RuneCountInString(t.NameDE) > 200 || utf8.RuneCountInString(t.NameEN) > 200:
		return t, invalid("name", "template.name", "a template needs a name of 1 to 200 characters")
	case !templateSlug.MatchString(t.Slug):
		return t, invalid("name", "template.name", "the name gives no usable address")
	case len(t.Body) > MaxTemplateBytes:
		return t, &InvalidError{Field: "body", Key: "template.size", TooLarge: true,
			Message: fmt.Sprintf("a template may have at most %d KiB", MaxTemplateBytes>>10)}
	}
	err := s.txFunc(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO article_templates (slug, name_de, name_en, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (slug) DO UPDATE SET name_de = $2, name_en = $3, body = $4, updated_at = now()`,
			t.Slug, t.NameDE, t.NameEN, t.Body); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"name": t.NameDE, "bytes": len(t.Body)})
		_, err := tx.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail) VALUES ($1, 'template.save', $2, $3)`,
			actor, "template:"+t.Slug, detail)
		return err
	})
	return t, err
}
