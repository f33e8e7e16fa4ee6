package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Attachment returns attachment attID if id may read it, else ErrNotFound:
// a file's existence does not leak. This is the one rule for files: its
// uploader reads it, and so does everyone who may read a revision whose
// Markdown refers to it — a published revision by the article's visibility
// (wiki.Reader), a proposed one by who may see the change (Capabilities).
func (s *Service) Attachment(ctx context.Context, id *auth.Identity, attID string) (*wiki.Attachment, error) {
	if !wiki.ValidAttachmentID(attID) {
		return nil, fmt.Errorf("attachment %q: %w", attID, wiki.ErrNotFound)
	}
	a, err := s.store.AttachmentByID(ctx, attID)
	if err != nil {
		return nil, err
	}
	ok, err := s.mayRead(ctx, s.pool, id, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("attachment %s: %w", attID, wiki.ErrNotFound)
	}
	return a, nil
}

func (s *Service) mayRead(ctx context.Context, q querier, id *auth.Identity, a *wiki.Attachment) (bool, error) {
	if id != nil && id.UserID == a.UploaderID {
		return true, nil
	}
	if ok, err := s.store.In(q).InReadableRevision(ctx, s.Reader(id), a.ID); err != nil || ok {
		return ok, err
	}
	if id == nil {
		return false, nil
	}
	// Proposals: the changes whose current revision refers to the file.
	rows, _ := q.Query(ctx, `SELECT `+changeColumns+changeFrom+` WHERE c.revision_id IN
		(SELECT revision_id FROM revision_attachments WHERE attachment_id = $1) ORDER BY c.id DESC LIMIT 200`, a.ID)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[changeRow])
	if err != nil {
		return false, err
	}
	for _, r := range list {
		if s.Capabilities(id, r.change()).View {
			return true, nil
		}
	}
	return false, nil
}

// checkAttachments refuses a text that refers to a file its author may not
// read: writing the address into a proposal must not be a way to read it
// (everyone who may see the proposal may read what it refers to).
func (s *Service) checkAttachments(ctx context.Context, q querier, id *auth.Identity, body string) error {
	refs := wiki.AttachmentRefs(body)
	if len(refs) == 0 {
		return nil
	}
	list, err := s.store.In(q).Attachments(ctx, refs)
	if err != nil {
		return err
	}
	for _, a := range list {
		ok, err := s.mayRead(ctx, q, id, a)
		if err != nil {
			return err
		}
		if !ok {
			return &wiki.InvalidError{Field: "body", Key: "attachment.unknown",
				Message: "the text refers to a file that does not exist: " + a.ID}
		}
	}
	return nil
}

// checkAdoption refuses a draft that names, as the article it builds on,
// one its author may not read (or that does not exist): the source's
// title shows on the new article's page.
func (s *Service) checkAdoption(ctx context.Context, q querier, id *auth.Identity, d wiki.Draft) error {
	if d.AdoptedFrom == "" {
		return nil
	}
	city, slug, _ := strings.Cut(d.AdoptedFrom, "/")
	if _, err := s.store.In(q).Article(ctx, s.Reader(id), city, slug); err != nil {
		if errors.Is(err, wiki.ErrNotFound) {
			return &wiki.InvalidError{Field: "adopted_from", Key: "adopted_from.unknown",
				Message: "adopted_from names an article that does not exist: " + d.AdoptedFrom}
		}
		return err
	}
	return nil
}
