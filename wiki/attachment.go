package wiki

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"hansewiki/wiki/slug"
)

// Attachment is one uploaded file. Who may read it is decided by
// workflow.Service.Attachment, from the revisions that refer to it.
type Attachment struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	City        string    `json:"city"`
	UploaderID  int64     `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	BlobID      int64     `json:"-"`
	Address     string    `json:"url"` // URL(), as read from the database
}

// URL is the attachment's address, the one Markdown refers to it by.
func (a *Attachment) URL() string { return AttachmentURL(a.ID, a.Name) }

// AttachmentURL is the address of attachment id with name.
func AttachmentURL(id, name string) string { return "/files/" + id + "/" + name }

// IsImage reports whether the attachment is shown as an image.
func (a *Attachment) IsImage() bool { return strings.HasPrefix(a.ContentType, "image/") }

// ChunkSize is how much of a file one database row holds: the most an
// upload or a download keeps in memory at once.
const ChunkSize = 256 << 10

// attachmentRef finds references to attachments in Markdown (images, links,
// reference definitions, raw HTML alike).
var attachmentRef = regexp.MustCompile(`/files/([a-z0-9]{16,64})/`)

// AttachmentRefs lists the ids of the attachments body refers to, each once.
func AttachmentRefs(body string) []string {
	var out []string
	for _, m := range attachmentRef.FindAllStringSubmatch(body, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// NewAttachmentID returns a random id: addresses cannot be guessed.
func NewAttachmentID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var attachmentID = regexp.MustCompile(`^[a-z0-9]{16,64}$`)

// ValidAttachmentID reports whether id has the form of an attachment id.
func ValidAttachmentID(id string) bool { return attachmentID.MatchString(id) }

// AttachmentName makes the stored name of an upload: the original name
// transliterated like a slug, with the extension of the detected type.
func AttachmentName(original string, t FileType) string {
	base := path.Base(strings.ReplaceAll(original, "\\", "/"))
	stem := slug.Make(strings.TrimSuffix(base, path.Ext(base)), 100)
	if stem == "" {
		stem = "datei"
	}
	return stem + t.Ext
}

// AttachmentMeta is what an upload is stored as.
type AttachmentMeta struct {
	ID         string // empty: a new random id (imports keep theirs)
	Name       string
	City       string
	UploaderID int64
	Type       FileType
	// Actor is who the audit log names; empty writes no event (imports
	// audit the article instead).
	Actor string
}

// Upload writes one file's content into the database in chunks, inside one
// transaction that Finish commits and Abort rolls back.
type Upload struct {
	tx     pgx.Tx
	blobID int64
	seq    int32
	size   int64
	limit  int64
	h      hash.Hash
	buf    []byte
}

// BeginUpload starts writing a file of at most limit bytes.
func (s *Store) BeginUpload(ctx context.Context, limit int64) (*Upload, error) {
	return beginUpload(ctx, s.pool, limit)
}

// beginUpload starts an upload in a transaction of its own, or in a
// savepoint of the caller's transaction (imports).
func beginUpload(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, limit int64) (*Upload, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	u := &Upload{tx: tx, limit: limit, h: sha256.New(), buf: make([]byte, ChunkSize)}
	if err := tx.QueryRow(ctx, `INSERT INTO blobs DEFAULT VALUES RETURNING id`).Scan(&u.blobID); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return u, nil
}

// TooLarge is the error of a file over limit bytes (413).
func TooLarge(limit int64) error {
	return &InvalidError{Field: "file", Key: "attachment.too_large", TooLarge: true,
		Message: fmt.Sprintf("a file may have at most %d MiB", limit>>20), Args: []any{limit >> 20}}
}

// ReadFrom copies r into the upload, one chunk at a time.
func (u *Upload) ReadFrom(ctx context.Context, r io.Reader) error {
	for {
		n, err := io.ReadFull(r, u.buf)
		if n > 0 {
			if u.size+int64(n) > u.limit {
				return TooLarge(u.limit)
			}
			u.h.Write(u.buf[:n])
			if _, err := u.tx.Exec(ctx, `INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)`,
				u.blobID, u.seq, u.buf[:n]); err != nil {
				return err
			}
			u.seq++
			u.size += int64(n)
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// Size is the number of bytes written so far.
func (u *Upload) Size() int64 { return u.size }

// Abort drops what was written.
func (u *Upload) Abort(ctx context.Context) { u.tx.Rollback(context.WithoutCancel(ctx)) }

// Finish stores the attachment and commits. Content that is stored already
// (the same SHA-256) is kept once: the new copy is dropped and the
// attachment refers to the existing one.
func (u *Upload) Finish(ctx context.Context, m AttachmentMeta) (*Attachment, error) {
	defer u.Abort(ctx) // no-op after commit
	sum, err := u.keepOnce(ctx)
	if err != nil {
		return nil, err
	}
	if m.ID == "" {
		m.ID = NewAttachmentID()
	}
	if !ValidAttachmentID(m.ID) {
		return nil, invalid("id", "attachment.id", "attachment id %q is not valid", m.ID)
	}
	a := &Attachment{ID: m.ID, Name: m.Name, ContentType: m.Type.ContentType, Size: u.size,
		SHA256: hex.EncodeToString(sum), Width: m.Type.Width, Height: m.Type.Height, City: m.City,
		UploaderID: m.UploaderID, BlobID: u.blobID, Address: AttachmentURL(m.ID, m.Name)}
	err = u.tx.QueryRow(ctx, `INSERT INTO attachments (id, blob_id, name, content_type, size, sha256, width, height, city, uploader_id)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7, 0), nullif($8, 0), $9, $10) RETURNING created_at`,
		a.ID, a.BlobID, a.Name, a.ContentType, a.Size, sum, a.Width, a.Height, a.City, a.UploaderID).Scan(&a.CreatedAt)
	switch pgCode(err) {
	case "":
	case "23503":
		return nil, invalid("city", "city.unknown", "there is no city %q", m.City)
	case "23505":
		return nil, fmt.Errorf("attachment %s exists: %w", a.ID, ErrConflict)
	case "23514":
		return nil, invalid("name", "attachment.name", "the file name %q is not valid", a.Name)
	default:
		return nil, err
	}
	if m.Actor != "" {
		if err := auditTx(ctx, u.tx, m.Actor, "attachment.upload", "attachment:"+a.ID, map[string]any{
			"name": a.Name, "type": a.ContentType, "size": a.Size, "sha256": a.SHA256, "city": a.City}); err != nil {
			return nil, err
		}
	}
	if err := u.tx.Commit(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// keepOnce completes the blob, or drops it for the copy stored already.
func (u *Upload) keepOnce(ctx context.Context) ([]byte, error) {
	sum := u.h.Sum(nil)
	var existing int64
	err := u.tx.QueryRow(ctx, `SELECT id FROM blobs WHERE sha256 = $1`, sum).Scan(&existing)
	switch {
	case err == nil:
		if _, err := u.tx.Exec(ctx, `DELETE FROM blobs WHERE id = $1`, u.blobID); err != nil {
			return nil, err
		}
		u.blobID = existing
	case errors.Is(err, pgx.ErrNoRows):
		// Another upload of the same content may complete at this moment:
		// the unique index makes this wait for it, and then its copy is kept.
		sp, err := u.tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		_, err = sp.Exec(ctx, `UPDATE blobs SET sha256 = $2, size = $3 WHERE id = $1`, u.blobID, sum, u.size)
		if pgCode(err) == "23505" {
			sp.Rollback(ctx)
			if err := u.tx.QueryRow(ctx, `SELECT id FROM blobs WHERE sha256 = $1`, sum).Scan(&existing); err != nil {
				return nil, err
			}
			if _, err := u.tx.Exec(ctx, `DELETE FROM blobs WHERE id = $1`, u.blobID); err != nil {
				return nil, err
			}
			u.blobID = existing
			return sum, nil
		}
		if err != nil {
			sp.Rollback(ctx)
			return nil, err
		}
		if err := sp.Commit(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return sum, nil
}

const attachmentColumns = `a.id, a.name, a.content_type, a.size, encode(a.sha256, 'hex'), coalesce(a.width, 0),
	coalesce(a.height, 0), a.city, a.uploader_id, a.created_at, a.blob_id, '/files/' || a.id || '/' || a.name`

// AttachmentByID returns an attachment without any permission check: the
// workflow decides who may read it.
func (s *Store) AttachmentByID(ctx context.Context, id string) (*Attachment, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments a WHERE a.id = $1`, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByPos[Attachment])
	return a, notFound(err, "attachment "+id)
}

// Attachments returns the attachments with the given ids that exist, in
// the order asked.
func (s *Store) Attachments(ctx context.Context, ids []string) ([]*Attachment, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+attachmentColumns+` FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)
		JOIN attachments a ON a.id = t.id ORDER BY t.n`, ids)
	return pgx.CollectRows(rows, pgx.RowToAddrOfStructByPos[Attachment])
}

// InReadableRevision reports whether r may read a published revision that
// refers to attachment id: by the one visibility rule, as the article's
// history is readable (the visibility of its current publication).
func (s *Store) InReadableRevision(ctx context.Context, r Reader, id string) (bool, error) {
	args := []any{id}
	filter := r.sqlFilter("cur.visibility", "a.city", &args)
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revision_attachments ra
		JOIN revisions rv ON rv.id = ra.revision_id AND rv.published_at IS NOT NULL
		JOIN articles a ON a.id = rv.article_id
		JOIN revisions cur ON cur.id = a.published_revision_id
		WHERE ra.attachment_id = $1 AND `+filter+`)`, args...).Scan(&ok)
	return ok, err
}

// RevisionAttachments lists the attachments a revision refers to.
func (s *Store) RevisionAttachments(ctx context.Context, revID int64) ([]*Attachment, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+attachmentColumns+` FROM revision_attachments ra
		JOIN attachments a ON a.id = ra.attachment_id WHERE ra.revision_id = $1 ORDER BY a.name, a.id`, revID)
	return pgx.CollectRows(rows, pgx.RowToAddrOfStructByPos[Attachment])
}

// recordAttachments notes which attachments a new revision refers to.
func recordAttachments(ctx context.Context, tx pgx.Tx, revID int64, body string) error {
	refs := AttachmentRefs(body)
	if len(refs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO revision_attachments (revision_id, attachment_id)
		SELECT $1, id FROM attachments WHERE id = ANY($2) ON CONFLICT DO NOTHING`, revID, refs)
	return err
}

// BlobReader reads a stored file chunk by chunk; it seeks, so
// http.ServeContent answers range requests from it.
type BlobReader struct {
	ctx    context.Context
	db     Querier
	blobID int64
	size   int64
	off    int64
	seq    int64 // of chunk; -1: none loaded
	chunk  []byte
}

// OpenBlob returns a reader of a's content.
func (s *Store) OpenBlob(ctx context.Context, a *Attachment) *BlobReader {
	return &BlobReader{ctx: ctx, db: s.db, blobID: a.BlobID, size: a.Size, seq: -1}
}

func (b *BlobReader) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	seq := b.off / ChunkSize
	if seq != b.seq {
		if err := b.load(seq); err != nil {
			b.seq = -1
			return 0, fmt.Errorf("reading chunk %d of blob %d: %w", seq, b.blobID, err)
		}
		b.seq = seq
	}
	in := b.off - seq*ChunkSize
	if in >= int64(len(b.chunk)) {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, b.chunk[in:])
	b.off += int64(n)
	return n, nil
}

// load reads chunk seq into the reader's one buffer, copied straight from
// the driver's, so a download makes no garbage per chunk.
func (b *BlobReader) load(seq int64) error {
	rows, err := b.db.Query(b.ctx, `SELECT data FROM blob_chunks WHERE blob_id = $1 AND seq = $2`, b.blobID, seq)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	var raw pgtype.DriverBytes
	if err := rows.Scan(&raw); err != nil {
		return err
	}
	b.chunk = append(b.chunk[:0], raw...)
	return rows.Err()
}

func (b *BlobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("blob: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("blob: negative position")
	}
	b.off = offset
	return offset, nil
}
