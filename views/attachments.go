package views

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
)

// DefaultMaxUpload is HANSEWIKI_MAX_UPLOAD's default.
const DefaultMaxUpload = 20 << 20

// multipartSlack is what a multipart body may carry besides the file: the
// boundaries, part headers and the city field.
const multipartSlack = 64 << 10

// attachmentJSON is the answer of POST /api/v1/attachments.
type attachmentJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

func (s *Server) apiAttachmentCreate(w http.ResponseWriter, r *http.Request) {
	a, err := s.receiveUpload(w, r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, attachmentJSON{ID: a.ID, Name: a.Name, ContentType: a.ContentType,
		Size: a.Size, SHA256: a.SHA256, URL: a.URL(), Width: a.Width, Height: a.Height})
}

// receiveUpload streams a multipart upload into the store: the type is
// decided from the first bytes before anything is stored, and the content
// goes to the database chunk by chunk, so memory stays bounded whatever the
// file's size.
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request) (*wiki.Attachment, error) {
	ctx := r.Context()
	limit := s.opts.MaxUpload
	if r.ContentLength > limit+multipartSlack {
		return nil, wiki.TooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("the body must be multipart/form-data: %w", errBadRequest)
	}
	var (
		city, name string
		ft         wiki.FileType
		up         *wiki.Upload
	)
	defer func() {
		if up != nil {
			up.Abort(ctx)
		}
	}()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadError(err, limit)
		}
		switch p.FormName() {
		case "city":
			b, err := io.ReadAll(io.LimitReader(p, 200))
			if err != nil {
				return nil, uploadError(err, limit)
			}
			city = strings.TrimSpace(string(b))
			if !cleanText(city) {
				return nil, &badInput{where: "form", name: "city"}
			}
		case "file":
			if up != nil {
				return nil, fmt.Errorf("one file per request: %w", errBadRequest)
			}
			head := make([]byte, wiki.SniffBytes)
			n, err := io.ReadFull(p, head)
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return nil, uploadError(err, limit)
			}
			head = head[:n]
			if n == 0 {
				return nil, &wiki.InvalidError{Field: "file", Key: "attachment.empty", Message: "the file is empty"}
			}
			if ft, err = wiki.DetectType(head, p.FileName()); err != nil {
				return nil, err
			}
			name = wiki.AttachmentName(p.FileName(), ft)
			if up, err = s.store.BeginUpload(ctx, limit); err != nil {
				return nil, err
			}
			if err := up.ReadFrom(ctx, io.MultiReader(bytes.NewReader(head), p)); err != nil {
				return nil, uploadError(err, limit)
			}
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, uploadError(err, limit)
			}
		}
	}
	if up == nil {
		return nil, &wiki.InvalidError{Field: "file", Key: "attachment.missing", Message: "the form field file is missing"}
	}
	if city == "" {
		return nil, &wiki.InvalidError{Field: "city", Key: "city.unknown", Message: "city is required"}
	}
	id := auth.FromContext(ctx)
	a, err := up.Finish(ctx, wiki.AttachmentMeta{Name: name, City: city, UploaderID: id.UserID, Type: ft, Actor: id.Username})
	up = nil
	if err != nil {
		return nil, err
	}
	s.log.Info("attachment uploaded", "id", a.ID, "type", a.ContentType, "size", a.Size, "request_id", requestID(ctx))
	return a, nil
}

// uploadError maps a failed read of the body: over the limit is 413, a
// broken body 400; the store's own errors pass.
func uploadError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	var inv *wiki.InvalidError
	switch {
	case errors.As(err, &tooBig):
		return wiki.TooLarge(limit)
	case errors.As(err, &inv), errors.Is(err, wiki.ErrTooLarge):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "multipart"):
		return fmt.Errorf("malformed multipart body: %v: %w", err, errBadRequest)
	}
	return err
}

// fileCSP: a file opened on its own runs nothing and loads nothing, even
// if a browser took it for a document.
const fileCSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

// fileServe answers GET /files/{id}/{name}: the file to whoever may read it
// (workflow.Service.Attachment decides), 404 to everyone else.
func (s *Server) fileServe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := mux.Vars(r)
	a, err := s.workflow.Attachment(ctx, auth.FromContext(ctx), v["id"])
	if err == nil && a.Name != v["name"] {
		err = fmt.Errorf("file name %q: %w", v["name"], wiki.ErrNotFound)
	}
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	if r.URL.Query().Get("w") == strconv.Itoa(markdown.VariantWidth) {
		// The scaled rendition articles show; the original stays a click away.
		if a, err = s.store.ImageVariant(ctx, a, markdown.VariantWidth); err != nil {
			s.fail(w, r, err, "")
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", mime.FormatMediaType(disposition(a), map[string]string{"filename": a.Name}))
	h.Set("ETag", `"`+a.SHA256+`"`)
	if auth.FromContext(ctx) == nil {
		// Who may read a file can change: every use asks again.
		h.Set("Cache-Control", "private, no-cache")
	}
	http.ServeContent(w, r, "", a.CreatedAt, s.store.OpenBlob(ctx, a))
}

// disposition: images, PDFs and text open in the browser, Office files are
// downloaded.
func disposition(a *wiki.Attachment) string {
	if a.IsImage() || a.ContentType == "application/pdf" || strings.HasPrefix(a.ContentType, "text/") {
		return "inline"
	}
	return "attachment"
}
