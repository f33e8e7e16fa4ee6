package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Autosave is editor text that its author has not saved as a change yet,
// kept per person and editing target so an expired session, a crash or a
// closed tab loses nothing. The fields are the editor's, as typed: they are
// validated when the person saves the change, not before.
type Autosave struct {
	Target  string
	Fields  json.RawMessage
	SavedAt time.Time
}

// maxAutosaveJSON bounds one stored autosave: the Markdown limit, room for
// JSON escaping of every byte, and the short fields.
const maxAutosaveJSON = 6*wiki.MaxBodyBytes + 256<<10

// SaveAutosave stores id's current text for target, replacing the last one.
func (s *Service) SaveAutosave(ctx context.Context, id *auth.Identity, target string, fields json.RawMessage) (time.Time, error) {
	if id == nil {
		return time.Time{}, fmt.Errorf("autosave without an identity: %w", wiki.ErrForbidden)
	}
	if len(fields) > maxAutosaveJSON {
		return time.Time{}, &wiki.InvalidError{Field: "body", Key: "body.size", TooLarge: true,
			Message: fmt.Sprintf("the text may be at most %d KiB", wiki.MaxBodyBytes>>10), Args: []any{wiki.MaxBodyBytes >> 10}}
	}
	var at time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO editor_autosaves (user_id, target, fields) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, target) DO UPDATE SET fields = EXCLUDED.fields, saved_at = now()
		RETURNING saved_at`, id.UserID, target, fields).Scan(&at)
	return at, err
}

// Autosave returns id's autosaved text for target; nobody else's text is
// ever found, so another person's draft is simply not there.
func (s *Service) Autosave(ctx context.Context, id *auth.Identity, target string) (*Autosave, error) {
	if id == nil {
		return nil, wiki.ErrNotFound
	}
	a := &Autosave{Target: target}
	err := s.pool.QueryRow(ctx, `SELECT fields, saved_at FROM editor_autosaves WHERE user_id = $1 AND target = $2`,
		id.UserID, target).Scan(&a.Fields, &a.SavedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("autosave %s: %w", target, wiki.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DiscardAutosave deletes id's autosaved text for target, if there is one.
func (s *Service) DiscardAutosave(ctx context.Context, id *auth.Identity, target string) error {
	if id == nil {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM editor_autosaves WHERE user_id = $1 AND target = $2`, id.UserID, target)
	return err
}
