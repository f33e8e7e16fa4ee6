package wiki

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/jackc/pgx/v5"
	"golang.org/x/image/draw"
)

// ImageVariant returns the rendition of image a scaled to width pixels,
// made on first request and stored (once per content) for every later one
// and every instance. Images no wider than width, and GIFs (which may be
// animated), are their own rendition. Renditions are made one at a time per
// process: decoding needs about 4 bytes per pixel, bounded by
// MaxImagePixels.
func (s *Store) ImageVariant(ctx context.Context, a *Attachment, width int) (*Attachment, error) {
	if !a.IsImage() || a.ContentType == "image/gif" || a.Width <= width {
		return a, nil
	}
	if v, err := s.variant(ctx, a, width); err == nil || !errors.Is(err, ErrNotFound) {
		return v, err
	}
	select {
	case s.renditions <- struct{}{}:
		defer func() { <-s.renditions }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if v, err := s.variant(ctx, a, width); err == nil || !errors.Is(err, ErrNotFound) {
		return v, err // made meanwhile
	}
	src, _, err := image.Decode(bufio.NewReaderSize(s.OpenBlob(ctx, a), 64<<10))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", a.ID, err)
	}
	b := src.Bounds()
	height := max(1, b.Dy()*width/b.Dx())
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	src = nil
	var out bytes.Buffer
	contentType := "image/png"
	if a.ContentType == "image/jpeg" {
		contentType = "image/jpeg"
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85})
	} else {
		err = png.Encode(&out, dst)
	}
	if err != nil {
		return nil, err
	}
	up, err := s.BeginUpload(ctx, int64(out.Len()))
	if err != nil {
		return nil, err
	}
	defer up.Abort(ctx)
	if err := up.ReadFrom(ctx, &out); err != nil {
		return nil, err
	}
	if _, err := up.keepOnce(ctx); err != nil {
		return nil, err
	}
	if _, err := up.tx.Exec(ctx, `INSERT INTO blob_variants (blob_id, width, variant_blob_id, content_type)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, a.BlobID, width, up.blobID, contentType); err != nil {
		return nil, err
	}
	if err := up.tx.Commit(ctx); err != nil {
		return nil, err
	}
	return s.variant(ctx, a, width)
}

// variant reads a stored rendition, as an attachment of the same name.
func (s *Store) variant(ctx context.Context, a *Attachment, width int) (*Attachment, error) {
	v := *a
	err := s.db.QueryRow(ctx, `SELECT b.id, b.size, encode(b.sha256, 'hex'), v.content_type
		FROM blob_variants v JOIN blobs b ON b.id = v.variant_blob_id WHERE v.blob_id = $1 AND v.width = $2`,
		a.BlobID, width).Scan(&v.BlobID, &v.Size, &v.SHA256, &v.ContentType)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("rendition %d of %s: %w", width, a.ID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	v.Width, v.Height = width, max(1, a.Height*width/a.Width)
	return &v, nil
}
