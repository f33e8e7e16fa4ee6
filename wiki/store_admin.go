package wiki

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki/slug"
)

// auditTx appends an event to the shared audit log inside tx.
func auditTx(ctx context.Context, tx pgx.Tx, actor, action, object string, detail map[string]any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail) VALUES ($1, $2, $3, $4)`, actor, action, object, d)
	return err
}

// SetRequiredApprovals sets a city's quorum. Changes already in review
// keep the policy they were submitted under.
func (s *Store) SetRequiredApprovals(ctx context.Context, city string, n int, actor string) (City, error) {
	return s.SetReviewPolicy(ctx, city, ReviewPolicy{RequiredApprovals: &n}, actor)
}

// ReviewPolicy is a change to a city's review policy; a nil field stays
// as it is.
type ReviewPolicy struct {
	RequiredApprovals *int
	ReviewDays        *int
}

// Bounds of a city's review policy.
const (
	MinReviewDays = 1
	MaxReviewDays = 60
)

// SetReviewPolicy sets a city's quorum and review deadline, audited with
// the previous values. Changes already in review keep the quorum and the
// due date they got when they entered review.
func (s *Store) SetReviewPolicy(ctx context.Context, city string, p ReviewPolicy, actor string) (City, error) {
	if p.RequiredApprovals == nil && p.ReviewDays == nil {
		return City{}, invalid("required_approvals", "review_policy.empty", "give required_approvals, review_days or both")
	}
	if n := p.RequiredApprovals; n != nil && (*n < 1 || *n > 10) {
		return City{}, invalid("required_approvals", "required_approvals.range", "the number of approvals must lie between 1 and 10")
	}
	if d := p.ReviewDays; d != nil && (*d < MinReviewDays || *d > MaxReviewDays) {
		return City{}, invalid("review_days", "review_days.range", "review_days must be a whole number of days from 1 to 60")
	}
	var c City
	err := s.txFunc(ctx, func(tx pgx.Tx) error {
		var oldN, oldDays int
		err := tx.QueryRow(ctx, `SELECT required_approvals, review_days FROM cities WHERE slug = $1 FOR UPDATE`, city).Scan(&oldN, &oldDays)
		if err != nil {
			return notFound(err, "city "+city)
		}
		err = tx.QueryRow(ctx, `UPDATE cities SET required_approvals = coalesce($2, required_approvals), review_days = coalesce($3, review_days)
			WHERE slug = $1 RETURNING slug, name, required_approvals, review_days, description, contact`, city, p.RequiredApprovals, p.ReviewDays).
			Scan(&c.Slug, &c.Name, &c.RequiredApprovals, &c.ReviewDays, &c.Description, &c.Contact)
		if err != nil {
			return err
		}
		detail := map[string]any{"required_approvals": c.RequiredApprovals, "previous": oldN,
			"review_days": c.ReviewDays, "previous_review_days": oldDays}
		return auditTx(ctx, tx, actor, "city.policy", "city:"+city, detail)
	})
	return c, err
}

// AddCity adds a member city to the network.
func (s *Store) AddCity(ctx context.Context, citySlug, name, actor string) (City, error) {
	name = strings.TrimSpace(name)
	if citySlug == "" || slug.Make(citySlug, 63) != citySlug {
		return City{}, invalid("slug", "slug.format", "the address may contain only a–z, 0–9 and hyphens")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 200 {
		return City{}, invalid("name", "name.length", "the name must have 1 to 200 characters")
	}
	c := City{Slug: citySlug, Name: name, RequiredApprovals: 1, ReviewDays: 5}
	err := s.txFunc(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cities (slug, name) VALUES ($1, $2)`, citySlug, name)
		if pgCode(err) == "23505" {
			return fmt.Errorf("city %s already exists: %w", citySlug, ErrConflict)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublishedChannel); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "city.add", "city:"+citySlug, map[string]any{"name": name})
	})
	return c, err
}

// SaveTopic adds a topic or renames an existing one.
func (s *Store) SaveTopic(ctx context.Context, t Topic, actor string) error {
	t.NameDE, t.NameEN = strings.TrimSpace(t.NameDE), strings.TrimSpace(t.NameEN)
	if t.Slug == "" || slug.Make(t.Slug, 63) != t.Slug {
		return invalid("slug", "slug.format", "the address may contain only a–z, 0–9 and hyphens")
	}
	for field, v := range map[string]string{"name_de": t.NameDE, "name_en": t.NameEN} {
		if n := utf8.RuneCountInString(v); n < 1 || n > 100 {
			return invalid(field, "name.length", "the name must have 1 to 100 characters")
		}
	}
	return s.txFunc(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO topics (slug, name_de, name_en) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO UPDATE SET name_de = EXCLUDED.name_de, name_en = EXCLUDED.name_en`, t.Slug, t.NameDE, t.NameEN)
		if err != nil {
			return err
		}
		// Topic names appear on cached pages.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublishedChannel); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "topic.save", "topic:"+t.Slug, map[string]any{"name_de": t.NameDE, "name_en": t.NameEN})
	})
}

// Limits of a city's portal texts.
const (
	MaxCityDescription = 2000
	MaxCityContact     = 500
)

// SetCityPortal sets the description and contact of a city's page, and
// announces it like a publication so cached city pages are dropped
// everywhere.
func (s *Store) SetCityPortal(ctx context.Context, city, description, contact, actor string) error {
	description = strings.ReplaceAll(strings.TrimSpace(description), "\r\n", "\n")
	contact = strings.TrimSpace(contact)
	for field, v := range map[string]string{"description": description, "contact": contact} {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return invalid(field, "utf8", "%s is not valid UTF-8", field)
		}
	}
	if utf8.RuneCountInString(description) > MaxCityDescription {
		return invalid("description", "field.length", "description may have at most %d characters", MaxCityDescription)
	}
	if utf8.RuneCountInString(contact) > MaxCityContact || strings.ContainsAny(contact, "\r\n") {
		return invalid("contact", "field.length", "contact is one line of at most %d characters", MaxCityContact)
	}
	return s.txFunc(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE cities SET description = $2, contact = $3 WHERE slug = $1`, city, description, contact)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("city %s: %w", city, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublishedChannel); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "city.portal", "city:"+city, map[string]any{"description": description, "contact": contact})
	})
}
