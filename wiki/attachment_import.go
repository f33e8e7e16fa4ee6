package wiki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// ImportFile is an attachment that travels with an article in the import
// and export layout: DIR/{city}/{slug}.files/{id}-{name}. It keeps its id
// and name, so the Markdown that refers to it stays as it is.
type ImportFile struct {
	ID, Name string
	Source   string // its path, for error messages
	Open     func() (io.ReadCloser, error)
}

var importFileName = regexp.MustCompile(`^([a-z0-9]{16,64})-([a-z0-9][a-z0-9._-]{0,119})$`)

// ParseImportFileName splits "{id}-{name}".
func ParseImportFileName(base string) (id, name string, ok bool) {
	m := importFileName.FindStringSubmatch(base)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// ExportFileName is the name of an attachment in the export layout.
func ExportFileName(a *Attachment) string { return a.ID + "-" + a.Name }

// importFile stores f for an article of city inside tx, checking its type
// like an upload. A file whose id exists already is accepted only with the
// same content (an export of this installation imported again).
func (s *Store) importFile(ctx context.Context, tx pgx.Tx, city string, f ImportFile) error {
	var sum string
	err := tx.QueryRow(ctx, `SELECT encode(sha256, 'hex') FROM attachments WHERE id = $1`, f.ID).Scan(&sum)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	head := make([]byte, SniffBytes)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	head = head[:n]
	t, err := DetectType(head, f.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Source, err)
	}
	up, err := beginUpload(ctx, tx, 1<<40)
	if err != nil {
		return err
	}
	defer up.Abort(ctx)
	if err := up.ReadFrom(ctx, io.MultiReader(bytes.NewReader(head), r)); err != nil {
		return err
	}
	if exists {
		if got := fmt.Sprintf("%x", up.h.Sum(nil)); got != sum {
			return fmt.Errorf("%s: attachment %s exists with other content: %w", f.Source, f.ID, ErrConflict)
		}
		return nil // rolled back: the file is there
	}
	_, err = up.Finish(ctx, AttachmentMeta{ID: f.ID, Name: f.Name, City: city, UploaderID: SystemUserID, Type: t})
	return err
}
