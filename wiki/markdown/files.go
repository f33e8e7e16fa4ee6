package markdown

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// File is what the wiki knows about an attachment a text refers to by its
// address /files/{id}/{name}.
type File struct {
	Size          int64
	Width, Height int // images
}

// Files looks attachments up by id; ids it does not return are unknown
// (shown without type and size).
type Files func(ids []string) (map[string]File, error)

// fileURL matches an attachment's address as a whole link destination.
var fileURL = regexp.MustCompile(`^/files/([a-z0-9]{16,64})/([a-z0-9][a-z0-9._-]{0,119})$`)

// VariantWidth is the width of the scaled rendition an article shows of
// an image; the image links to its original.
const VariantWidth = 800

// VariantQuery asks /files/{id}/{name} for the scaled rendition.
var VariantQuery = "?w=" + strconv.Itoa(VariantWidth)

// fileOf returns the attachment id a destination refers to, or "".
func fileOf(dest []byte) string {
	m := fileURL.FindSubmatch(dest)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// addFile notes a link or image to an attachment, for the lookup.
func (st *renderState) addFile(dest []byte) {
	if id := fileOf(dest); id != "" && !containsString(st.fileIDs, id) {
		st.fileIDs = append(st.fileIDs, id)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fileState returns the render state a node renderer writes for.
func fileState(w util.BufWriter) *renderState {
	if rw, ok := w.(*renderWriter); ok {
		return rw.st
	}
	return nil
}

// renderFileImage writes an image stored in the wiki as its scaled
// rendition, linked to the original (unless it is inside a link already,
// or has no alt text, which would leave the link without a name).
func renderFileImage(w util.BufWriter, source []byte, n *ast.Image, dest []byte) {
	st := fileState(w)
	var f File
	var known bool
	if st != nil {
		f, known = st.files[fileOf(dest)]
	}
	_, inLink := n.Parent().(*ast.Link)
	link := !inLink && hasAltText(source, n)
	if link {
		_, _ = w.WriteString(`<a href="`)
		_, _ = w.Write(util.EscapeHTML(dest))
		_, _ = w.WriteString(`">`)
	}
	_, _ = w.WriteString(`<img src="`)
	_, _ = w.Write(util.EscapeHTML(dest))
	_, _ = w.WriteString(VariantQuery)
	_, _ = w.WriteString(`" alt="`)
	writeAltText(w, source, n)
	_ = w.WriteByte('"')
	if known && f.Width > 0 && f.Height > 0 {
		width, height := f.Width, f.Height
		if width > VariantWidth {
			height = max(1, height*VariantWidth/width)
			width = VariantWidth
		}
		fmt.Fprintf(w, ` width="%d" height="%d"`, width, height)
	}
	_ = w.WriteByte('>')
	if link {
		_, _ = w.WriteString("</a>")
	}
}

// hasAltText reports whether an image has a description.
func hasAltText(source []byte, n *ast.Image) bool {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok && strings.TrimSpace(string(t.Segment.Value(source))) == "" {
			continue
		}
		return true
	}
	return false
}

// writeFileMeta writes " (PDF, 1,2 MB)" after a link to a stored document.
func writeFileMeta(w util.BufWriter, dest []byte) {
	st := fileState(w)
	if st == nil {
		return
	}
	id := fileOf(dest)
	f, ok := st.files[id]
	if !ok {
		return
	}
	kind := FileKind(path.Ext(string(dest)))
	_, _ = w.WriteString(` <small>(`)
	_, _ = w.Write(util.EscapeHTML([]byte(kind + ", " + FileSize(f.Size))))
	_, _ = w.WriteString(`)</small>`)
}

// FileKind names a file's type by the extension the wiki gave it (which
// comes from its content).
func FileKind(ext string) string {
	switch strings.ToLower(ext) {
	case ".pdf":
		return "PDF"
	case ".png", ".jpg", ".gif", ".webp":
		return "Bild " + strings.ToUpper(ext[1:])
	case ".doc", ".docx":
		return "Word"
	case ".xls", ".xlsx":
		return "Excel"
	case ".ppt", ".pptx":
		return "PowerPoint"
	case ".odt":
		return "OpenDocument-Text"
	case ".ods":
		return "OpenDocument-Tabelle"
	case ".odp":
		return "OpenDocument-Präsentation"
	case ".odg":
		return "OpenDocument-Zeichnung"
	case ".csv":
		return "CSV"
	}
	return "Text"
}

// FileSize is a size the German way: "830 KB", "1,2 MB".
func FileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " Byte"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	mb := strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64)
	return strings.Replace(mb, ".", ",", 1) + " MB"
}
