package markdown

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// linkRenderer replaces goldmark's renderers for links, autolinks and
// images. goldmark runs with html.WithUnsafe so that raw HTML reaches the
// sanitizer, which also switches off its URL check; these renderers apply
// the same URL rules as the sanitizer policy (allowedURL), because Markdown
// outside raw-HTML blocks is not run through bluemonday. They also mark
// links that leave the wiki with rel="nofollow noopener".
type linkRenderer struct{}

func (linkRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
}

const relExternal = ` rel="nofollow noopener"`

// renderLink writes only the link text when the destination is not allowed.
func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	dest := util.URLEscape(n.Destination, true)
	if !allowedURL(dest, false) {
		return ast.WalkContinue, nil
	}
	if !entering {
		_, _ = w.WriteString("</a>")
		writeFileMeta(w, dest)
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML(dest))
	_ = w.WriteByte('"')
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	if isExternal(dest) {
		_, _ = w.WriteString(relExternal)
	}
	_ = w.WriteByte('>')
	return ast.WalkContinue, nil
}

// renderAutoLink writes <https://…>, <a@b.de> and linkified URLs; an
// autolink with another scheme (<javascript:…>) stays text.
func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	label := util.EscapeHTML(n.Label(source))
	url := util.URLEscape(n.URL(source), false)
	mailto := n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(url, "mailto:")
	if !mailto && !allowedURL(url, false) {
		_, _ = w.Write(label)
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString(`<a href="`)
	if mailto {
		_, _ = w.WriteString("mailto:")
	}
	_, _ = w.Write(util.EscapeHTML(url))
	_ = w.WriteByte('"')
	if !mailto && isExternal(url) {
		_, _ = w.WriteString(relExternal)
	}
	_ = w.WriteByte('>')
	_, _ = w.Write(label)
	_, _ = w.WriteString("</a>")
	return ast.WalkContinue, nil
}

// renderImage drops images whose source is not allowed.
func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	dest := util.URLEscape(n.Destination, true)
	if !allowedURL(dest, true) {
		return ast.WalkSkipChildren, nil
	}
	if fileOf(dest) != "" {
		renderFileImage(w, source, n, dest)
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString(`<img src="`)
	_, _ = w.Write(util.EscapeHTML(dest))
	_, _ = w.WriteString(`" alt="`)
	writeAltText(w, source, n)
	_ = w.WriteByte('"')
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	_ = w.WriteByte('>')
	return ast.WalkSkipChildren, nil
}

// writeAltText writes the plain text of an image description, escaped.
func writeAltText(w util.BufWriter, source []byte, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			html.DefaultWriter.Write(w, c.Segment.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				_ = w.WriteByte(' ')
			}
		case *ast.String:
			_, _ = w.Write(util.EscapeHTML(c.Value))
		case *wikiLink:
			html.DefaultWriter.Write(w, c.label)
		default:
			writeAltText(w, source, c)
		}
	}
}

// allowedURL applies the sanitizer's URL rules to a URL as goldmark writes
// it (entities resolved, unsafe bytes percent-encoded, so a browser sees
// exactly these bytes): relative references, http, https and, for links,
// mailto; for images also data:image/{png,jpeg,gif,webp}. A colon before
// the first "/", "?" or "#" starts a scheme; every other scheme is refused.
func allowedURL(u []byte, image bool) bool {
	for i, c := range u {
		switch c {
		case '/', '?', '#':
			return true
		case ':':
			scheme := u[:i]
			switch {
			case equalFold(scheme, "http"), equalFold(scheme, "https"):
				return true
			case equalFold(scheme, "mailto"):
				return !image
			case equalFold(scheme, "data"):
				return image && isRasterImageData(u[i+1:])
			}
			return false
		}
	}
	return true
}

// isRasterImageData reports whether the part of a data: URL after the
// colon is a PNG, JPEG, GIF or WebP image (not SVG, which can carry
// script).
func isRasterImageData(b []byte) bool {
	for _, t := range rasterImageTypes {
		if rest, ok := bytes.CutPrefix(b, []byte(t)); ok {
			return bytes.HasPrefix(rest, []byte(";base64,")) || bytes.HasPrefix(rest, []byte(","))
		}
	}
	return false
}

var rasterImageTypes = [...]string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// isExternal reports whether a URL names a host: http(s) URLs and
// protocol-relative ones. Relative paths and fragments stay in the wiki.
func isExternal(u []byte) bool {
	return hasPrefixFold(u, "http://") || hasPrefixFold(u, "https://") ||
		bytes.HasPrefix(u, []byte("//"))
}

// hasPrefixFold is an ASCII case-insensitive bytes.HasPrefix for a
// lower-case prefix.
func hasPrefixFold(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// equalFold compares ASCII case-insensitively against a lower-case string
// without allocating.
func equalFold(s []byte, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
