package wiki

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig for uploads
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	_ "golang.org/x/image/webp"
)

// ErrUnsupportedType: an upload whose content is not one of the allowed
// types (answered 415), whatever its name says.
var ErrUnsupportedType = errors.New("file type not allowed")

// FileType is what an upload's content was found to be.
type FileType struct {
	ContentType string // as served
	Ext         string // the file name's extension, from the content
	Image       bool
	Width       int // images only
	Height      int
}

// SniffBytes is how much of an upload DetectType needs to see: enough for
// the header of every allowed image format (JPEG's frame header may come
// after large metadata segments) and for a zip's first entries.
const SniffBytes = 256 << 10

// Image size limits: decoding an image needs about 4 bytes per pixel, so
// the pixel count is what bounds the memory of a rendition. It is read from
// the header, before anything is decoded: a decompression bomb (a small
// file of gigantic dimensions) is refused unopened.
const (
	MaxImageSide   = 12000
	MaxImagePixels = 24_000_000
)

// DetectType decides from head (the first SniffBytes of the content, or all
// of it) which allowed type an upload is. The name only tells apart formats
// that share a container (CSV and plain text, the Office formats). SVG and
// HTML are refused: they can carry script.
func DetectType(head []byte, name string) (FileType, error) {
	ext := strings.ToLower(path.Ext(name))
	sniffed := http.DetectContentType(head)
	mediaType, _, _ := strings.Cut(sniffed, ";")
	switch mediaType {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		cfg, format, err := image.DecodeConfig(bytes.NewReader(head))
		if err != nil || "image/"+format != mediaType {
			return FileType{}, fmt.Errorf("%s header unreadable: %w", mediaType, ErrUnsupportedType)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide ||
			cfg.Width*cfg.Height > MaxImagePixels {
			return FileType{}, &InvalidError{Field: "file", Key: "attachment.pixels", TooLarge: true,
				Message: fmt.Sprintf("the image has %d×%d pixels; at most %d per side and %d in all", cfg.Width, cfg.Height, MaxImageSide, MaxImagePixels),
				Args:    []any{cfg.Width, cfg.Height}}
		}
		e := "." + format
		if format == "jpeg" {
			e = ".jpg"
		}
		return FileType{ContentType: mediaType, Ext: e, Image: true, Width: cfg.Width, Height: cfg.Height}, nil
	case "application/pdf":
		return FileType{ContentType: "application/pdf", Ext: ".pdf"}, nil
	case "application/zip":
		return officeZip(head, ext)
	case "text/plain":
		return plainText(head, ext)
	}
	if bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) { // OLE2: old Office formats
		if t, ok := oldOffice[ext]; ok {
			return FileType{ContentType: t, Ext: ext}, nil
		}
	}
	return FileType{}, fmt.Errorf("%s: %w", mediaType, ErrUnsupportedType)
}

var oldOffice = map[string]string{
	".doc": "application/msword",
	".xls": "application/vnd.ms-excel",
	".ppt": "application/vnd.ms-powerpoint",
}

var openDocument = map[string]string{
	"application/vnd.oasis.opendocument.text":         ".odt",
	"application/vnd.oasis.opendocument.spreadsheet":  ".ods",
	"application/vnd.oasis.opendocument.presentation": ".odp",
	"application/vnd.oasis.opendocument.graphics":     ".odg",
}

var officeOpenXML = []struct{ dir, ext, typ string }{
	{"word/", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{"xl/", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"ppt/", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
}

// officeZip recognises OpenDocument (its first entry is "mimetype", stored
// uncompressed) and Office Open XML ([Content_Types].xml and the part
// directories). Any other zip is refused.
func officeZip(head []byte, ext string) (FileType, error) {
	const nameAt = 30 // a local file header's fixed part
	if len(head) > nameAt+8 && string(head[nameAt:nameAt+8]) == "mimetype" {
		rest := head[nameAt+8:]
		for t, e := range openDocument {
			if bytes.HasPrefix(rest, []byte(t)) {
				return FileType{ContentType: t, Ext: e}, nil
			}
		}
	}
	if bytes.Contains(head, []byte("[Content_Types].xml")) {
		for _, o := range officeOpenXML {
			if bytes.Contains(head, []byte(o.dir)) {
				return FileType{ContentType: o.typ, Ext: o.ext}, nil
			}
		}
		for _, o := range officeOpenXML {
			if ext == o.ext {
				return FileType{ContentType: o.typ, Ext: o.ext}, nil
			}
		}
	}
	return FileType{}, fmt.Errorf("zip archive: %w", ErrUnsupportedType)
}

// plainText accepts UTF-8 text that is not markup a browser would run.
func plainText(head []byte, ext string) (FileType, error) {
	// The head may end inside a character.
	valid := head
	for i := 0; i < utf8.UTFMax && len(valid) > 0 && !utf8.Valid(valid); i++ {
		valid = valid[:len(valid)-1]
	}
	if !utf8.Valid(valid) {
		return FileType{}, fmt.Errorf("text that is not UTF-8: %w", ErrUnsupportedType)
	}
	lower := bytes.ToLower(head[:min(len(head), 4096)])
	for _, markup := range [][]byte{[]byte("<svg"), []byte("<html"), []byte("<script"), []byte("<!doctype"), []byte("<?xml")} {
		if bytes.Contains(lower, markup) {
			return FileType{}, fmt.Errorf("markup: %w", ErrUnsupportedType)
		}
	}
	if ext == ".csv" {
		return FileType{ContentType: "text/csv; charset=utf-8", Ext: ".csv"}, nil
	}
	return FileType{ContentType: "text/plain; charset=utf-8", Ext: ".txt"}, nil
}
